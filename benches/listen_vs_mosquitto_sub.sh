#!/usr/bin/env bash
# Drain benchmark: `sensoro-mqtt listen --format json --count N >/dev/null` against
# `mosquitto_sub -C N >/dev/null` on the same private Mosquitto broker, the same N pushes,
# at QoS 0 and at QoS 1, alternating runs (listen, mosquitto_sub, mosquitto_sub, listen, ...).
#
#   benches/listen_vs_mosquitto_sub.sh                 # N=200000 pushes, 3 rounds, QoS 0 and 1
#   N=50000 ROUNDS=5 benches/listen_vs_mosquitto_sub.sh
#   QOS=1 FORMAT=raw benches/listen_vs_mosquitto_sub.sh     # one QoS, listen --format raw
#   BENCH_PROFILE=debug benches/listen_vs_mosquitto_sub.sh  # smoke-test: N=2000, 1 round
#   LISTEN_BIN=/tmp/candidate/sensoro-mqtt benches/listen_vs_mosquitto_sub.sh   # no build
#   FILTERS=1 benches/listen_vs_mosquitto_sub.sh        # listen with --device-type filters on
#                                                       # (all five types, so every push passes)
#
# Method. The publisher's speed must not limit the measurement, so every run drains a
# backlog: a persistent session (clean session off, a clientId of its own) is registered and
# subscribed at the QoS under test (mosquitto_sub -c -E), the subscriber goes away, all N
# pushes are published with mosquitto_pub -l, and only then is the subscriber started with
# the same clientId and timed until it exits after N messages. Pushes are always published at
# QoS 1, so each mosquitto_pub exits only once the broker has stored every push; a QoS 0
# subscription still gets them at QoS 0 (queue_qos0_messages keeps them while it is away).
# Each mosquitto_pub sends at most 50,000 lines under its own clientId: its -l mode stops
# early once its 16-bit message ids wrap.
#   time    wall clock of the subscriber process, exec to exit (connect + drain + disconnect),
#           taken the same way for both; rate = N / time.
#   startup the same for a backlog of 1 push (connect, 1 message, disconnect); N / (time -
#           startup) approximates the first-to-last-message rate.
#   RSS     peak resident set of the subscriber (GNU time %M).
# A run counts only if the subscriber exits 0, which both do only after N messages
# (mosquitto_sub -C N; listen --count N, whose summary must also say N pushes), within LIMIT
# seconds; a run that does not is reported in the table, not timed. Output goes to /dev/null,
# so the figures are the tools' own cost. Broker: persistence off, no queue limits,
# max_inflight_messages INFLIGHT (Mosquitto's default, 20). Each session is wiped (clean
# connect) after its run. Pushes are realistic JSON (~230 bytes, 500 devices, varying readings),
# generated once. Loopback only; on a 2-core machine run it while nothing else is busy.
# Needs: mosquitto, mosquitto-clients (apt-get install -y mosquitto mosquitto-clients),
# python3, GNU time (/usr/bin/time), coreutils timeout.
set -euo pipefail

BENCH_PROFILE=${BENCH_PROFILE:-release}
if [ "$BENCH_PROFILE" = debug ]; then
    N=${N:-2000}
    ROUNDS=${ROUNDS:-1}
else
    N=${N:-200000}
    ROUNDS=${ROUNDS:-3}
fi
QOS=${QOS:-0 1}
FORMAT=${FORMAT:-json}
FILTER_ARGS=()
if [ -n "${FILTERS:-}" ]; then
    for kind in temp_humi smoke leak pm25 light; do FILTER_ARGS+=(--device-type "$kind"); done
fi
INFLIGHT=${INFLIGHT:-20}
LIMIT=${LIMIT:-120} # seconds a subscriber run may take before it counts as stalled
APP=bench
SECRET=bench-secret-$$
TOPIC=users/$APP/devices
cd "$(dirname "$0")/.."

for tool in mosquitto mosquitto_pub mosquitto_sub mosquitto_passwd python3 timeout; do
    command -v "$tool" >/dev/null || {
        echo "missing $tool: apt-get install -y mosquitto mosquitto-clients python3" >&2
        exit 1
    }
done
[ -x /usr/bin/time ] || {
    echo "missing GNU time: apt-get install -y time" >&2
    exit 1
}

# BENCH_PROFILE=debug only checks the script itself quickly; figures come from release.
# The build is not measured; nice keeps it from slowing anything else on the machine.
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])' ||
    echo "${CARGO_TARGET_DIR:-target}")
if [ -n "${LISTEN_BIN:-}" ]; then
    BIN=$LISTEN_BIN # e.g. a candidate build to compare with this one
elif [ "$BENCH_PROFILE" = debug ]; then
    nice -n 19 cargo build --quiet
    BIN=$TARGET_DIR/debug/sensoro-mqtt
else
    nice -n 19 cargo build --quiet --release
    BIN=$TARGET_DIR/release/sensoro-mqtt
fi

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "benchmark failed at line $LINENO: $BASH_COMMAND" >&2' ERR

# Realistic pushes: ~230 bytes, 500 devices of 5 types, readings that vary.
python3 - "$N" "$APP" >"$WORK/pushes.ndjson" <<'PY'
import json, random, sys
n, app = int(sys.argv[1]), sys.argv[2]
rng = random.Random(7)
kinds = ["temp_humi", "smoke", "leak", "pm25", "light"]
devices = [("01A1%08X" % rng.getrandbits(32), kinds[i % len(kinds)]) for i in range(500)]
out = sys.stdout
for i in range(n):
    sn, kind = devices[i % len(devices)]
    data = {"battery": rng.randint(20, 100), "interval": 600}
    if kind == "temp_humi":
        data.update(temperature=round(rng.uniform(-10, 40), 1), humidity=round(rng.uniform(10, 95), 1))
    elif kind == "smoke":
        data.update(smoke=rng.random() < 0.01, temperature=round(rng.uniform(15, 30), 1))
    elif kind == "leak":
        data.update(leak=rng.random() < 0.01, signal=-rng.randint(60, 110))
    elif kind == "pm25":
        data.update(pm25=rng.randint(5, 300), pm10=rng.randint(10, 400), co2=rng.randint(400, 2000))
    else:
        data.update(light=rng.randint(0, 20000), uv=round(rng.uniform(0, 11), 1))
    push = {"appId": app, "sn": sn, "deviceType": kind, "type": "text",
            "msgId": "%024x" % rng.getrandbits(96),
            "createdTime": 1700000000000 + i * 37, "updatedTime": 1700000000000 + i * 37 + 5,
            "data": data}
    out.write(json.dumps(push, separators=(",", ":")) + "\n")
PY
BYTES=$(wc -c <"$WORK/pushes.ndjson")
split -l 50000 -d -a 4 "$WORK/pushes.ndjson" "$WORK/chunk."
head -1 "$WORK/pushes.ndjson" >"$WORK/one.0"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mosquitto_passwd -b -c "$WORK/passwd" "$APP" "$SECRET" 2>/dev/null
cat >"$WORK/mosquitto.conf" <<CONF
listener $PORT 127.0.0.1
allow_anonymous false
password_file $WORK/passwd
persistence false
max_queued_messages 0
max_queued_bytes 0
queue_qos0_messages true
max_inflight_messages $INFLIGHT
memory_limit 0
log_dest stderr
log_type error
log_type warning
CONF
[ "$(id -u)" != 0 ] || echo "user root" >>"$WORK/mosquitto.conf"
mosquitto -c "$WORK/mosquitto.conf" 2>"$WORK/mosquitto.err" &
PIDS+=($!)
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done

CONN=(-h 127.0.0.1 -p "$PORT" -u "$APP" -P "$SECRET")

# Leaves a persistent session for clientId $1 subscribed at QoS $2 with the pushes in files
# $3... queued for it (published at QoS 1: stored by the broker when mosquitto_pub exits).
prepare_backlog() {
    local id=$1 qos=$2 chunk
    shift 2
    mosquitto_sub "${CONN[@]}" -i "$id" -c -q "$qos" -t "$TOPIC" -E
    for chunk in "$@"; do
        mosquitto_pub "${CONN[@]}" -i "$APP/pub-${chunk##*.}" -q 1 -t "$TOPIC" -l <"$chunk"
    done
}

# Wipes the session of clientId $1 (a clean-session connect discards it).
drop_session() { mosquitto_sub "${CONN[@]}" -i "$1" -t "$TOPIC" -E; }

# The subscriber command for tool $1 (listen|mosq), clientId $2, QoS $3, count $4, in CMD.
subscriber() {
    case $1 in
    listen)
        CMD=(env SENSORO_APP_SECRET="$SECRET" SENSORO_MQTT_CONFIG="$WORK/no-config.toml"
            "$BIN" listen --host 127.0.0.1 --port "$PORT" --app-id "$APP" --client-id "$2"
            --clean false --qos "$3" --format "$FORMAT" --count "$4" "${FILTER_ARGS[@]}") ;;
    mosq)
        CMD=(mosquitto_sub "${CONN[@]}" -i "$2" -c -q "$3" -t "$TOPIC" -C "$4") ;;
    esac
}

# One timed drain: tool $1, QoS $2, round $3, count $4 (N or 1). Appends
# "seconds rss_kib" or "stalled <pushes or ?>" to $WORK/<tool>-q<QoS>-<count>.
drain() {
    local tool=$1 qos=$2 round=$3 count=$4 id=$APP/$1-q$2-r$3-n$4 start end rc=0 got
    if [ "$count" = 1 ]; then
        prepare_backlog "$id" "$qos" "$WORK/one.0"
    else
        prepare_backlog "$id" "$qos" "$WORK"/chunk.*
    fi
    subscriber "$tool" "$id" "$qos" "$count"
    start=$EPOCHREALTIME
    /usr/bin/time -f '%M %U %S' -o "$WORK/rss" timeout "$LIMIT" "${CMD[@]}" >/dev/null 2>"$WORK/sub.err" || rc=$?
    end=$EPOCHREALTIME
    if [ "$tool" = listen ] && [ "$rc" = 0 ] && ! grep -qE "^$count push(es)? from" "$WORK/sub.err"; then
        rc=summary
    fi
    if [ "$rc" = 0 ]; then
        read -r rss user sys <<<"$(tail -1 "$WORK/rss")"
        echo "$(python3 -c "print(f'{$end - $start:.4f}')") $rss $(python3 -c "print(f'{$user + $sys:.2f}')")" >>"$WORK/$tool-q$qos-$count"
    else
        got=$(sed -nE 's/^([0-9]+) push(es)? from.*/\1/p' "$WORK/sub.err" | tail -1)
        echo "stalled ${got:-?}" >>"$WORK/$tool-q$qos-$count"
        echo "QoS $qos round $round: $tool exited $rc, ${got:-?} of $count pushes within ${LIMIT}s:" >&2
        sed 's/^/    /' "$WORK/sub.err" >&2
    fi
    drop_session "$id"
}

echo "== $N pushes ($((BYTES / N)) bytes on average), $ROUNDS rounds, QoS $QOS," \
    "mosquitto $(mosquitto -h | awk 'NR==1 { print $3 }') (max_inflight_messages $INFLIGHT)," \
    "$BIN ($BENCH_PROFILE)" >&2
for qos in $QOS; do
    for round in $(seq "$ROUNDS"); do
        # Alternate which tool goes first, so neither always follows the other.
        if [ $((round % 2)) = 1 ]; then order="listen mosq"; else order="mosq listen"; fi
        for tool in $order; do drain "$tool" "$qos" "$round" 1; done
        for tool in $order; do drain "$tool" "$qos" "$round" "$N"; done
        echo "QoS $qos round $round: listen $(tail -1 "$WORK/listen-q$qos-$N")," \
            "mosquitto_sub $(tail -1 "$WORK/mosq-q$qos-$N") (seconds, peak RSS KiB, CPU seconds)" >&2
    done
done
if grep -qv 'should not be run as root' "$WORK/mosquitto.err"; then
    echo "mosquitto said:" >&2
    grep -v 'should not be run as root' "$WORK/mosquitto.err" >&2
fi

# The markdown table: per QoS and tool, best and median over the rounds.
python3 - "$WORK" "$N" "$ROUNDS" "$FORMAT" "$INFLIGHT" "$LIMIT" "$QOS" <<'PY'
import statistics, sys
work, n, rounds, fmt, inflight, limit = sys.argv[1], int(sys.argv[2]), *sys.argv[3:7]
qos_list = sys.argv[7].split()

def load(name):
    ok, stalled = [], []
    for line in open(f"{work}/{name}"):
        a, b, *cpu = line.split()
        if a == "stalled":
            stalled.append(b)
        else:
            ok.append((float(a), int(b) / 1024, float(cpu[0])))
    return ok, stalled

print(f"Draining {n:,} queued pushes (QoS as listed, Mosquitto max_inflight_messages {inflight}), "
      f"stdout to /dev/null, {rounds} alternating rounds. Rates are N / wall time of the "
      "subscriber process; *drain* subtracts the median startup (the same run with a "
      "1-push backlog).\n")
print("| QoS | subscriber | best msg/s | median msg/s | median s | startup ms | drain msg/s | CPU µs/msg | peak RSS MB |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
summary = []
for qos in qos_list:
    medians = {}
    for tool, label in (("listen", f"`sensoro-mqtt listen --format {fmt}`"), ("mosq", "`mosquitto_sub`")):
        ok, stalled = load(f"{tool}-q{qos}-{n}")
        ok1, _ = load(f"{tool}-q{qos}-1")
        startup = statistics.median(t for t, _, _ in ok1) if ok1 else None
        startup_ms = f"{startup * 1000:.1f}" if startup is not None else "–"
        if not ok:
            got = ", ".join(stalled)
            print(f"| {qos} | {label} | stalled | stalled | >{limit} | {startup_ms} | – | – | – |")
            summary.append(f"QoS {qos}: {label} never finished: pushes received per run: {got}")
            continue
        times = [t for t, _, _ in ok]
        cpu_us = statistics.median(c for _, _, c in ok) / n * 1e6
        med = statistics.median(times)
        medians[tool] = med
        drain = f"{n / (med - startup):,.0f}" if startup is not None and med > startup else "–"
        note = f" ({len(stalled)} of {len(ok) + len(stalled)} runs stalled)" if stalled else ""
        print(f"| {qos} | {label}{note} | {n / min(times):,.0f} | {n / med:,.0f} | {med:.2f} "
              f"| {startup_ms} | {drain} | {cpu_us:.2f} | {max(r for _, r, _ in ok):.1f} |")
    if len(medians) == 2:
        summary.append(f"QoS {qos}: listen's median rate is {medians['mosq'] / medians['listen']:.2f}x "
                       "mosquitto_sub's (goal: at least 1.00)")
print()
for line in summary:
    print(line)
PY
