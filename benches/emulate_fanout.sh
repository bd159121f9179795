#!/usr/bin/env bash
# Fan-out benchmark: SUBS QoS 0 subscribers on one topic, PUSHES pushes, total deliveries per
# second and peak RSS, for the emulator and for a real Mosquitto broker, in the same run.
#
#   benches/emulate_fanout.sh            # 200 subscribers x 2000 pushes
#   SUBS=50 PUSHES=500 benches/emulate_fanout.sh
#   BENCH_PROFILE=debug SUBS=5 PUSHES=50 benches/emulate_fanout.sh   # smoke-test the script
#
# Both brokers get the same NDJSON pushes (examples/emulator_bench.rs gen) and the same
# subscriber process (examples/emulator_bench.rs subscribe: raw TCP, counts PUBLISH headers,
# rate = deliveries / (last delivery - first delivery)). The emulator publishes through its
# library API (client PUBLISHes are never forwarded, like on the platform); Mosquitto gets
# them from mosquitto_pub -l. Peak RSS is VmHWM of the broker process. Loopback only.
# Needs: mosquitto, mosquitto-clients (apt-get install -y mosquitto mosquitto-clients).
set -euo pipefail

SUBS=${SUBS:-200}
PUSHES=${PUSHES:-2000}
APP=bench
SECRET=bench-secret-$$
cd "$(dirname "$0")/.."

for tool in mosquitto mosquitto_pub mosquitto_passwd python3; do
    command -v "$tool" >/dev/null || {
        echo "missing $tool: apt-get install -y mosquitto mosquitto-clients python3" >&2
        exit 1
    }
done

# BENCH_PROFILE=debug only checks the script itself quickly; figures come from release.
if [ "${BENCH_PROFILE:-release}" = debug ]; then
    cargo build --quiet --example emulator_bench
    BIN=target/debug/examples/emulator_bench
else
    cargo build --quiet --release --example emulator_bench
    BIN=target/release/examples/emulator_bench
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

"$BIN" gen --count "$PUSHES" --app-id "$APP" >"$WORK/pushes.ndjson"

# Waits (up to 60 s) until file $1 has a line matching $2.
wait_line() {
    for _ in $(seq 600); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "timed out waiting for '$2' in $1" >&2
    cat "$1" >&2
    return 1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

peak_rss_kib() { awk '/VmHWM/ { print $2 }' "/proc/$1/status"; }

# Starts the subscriber process against port $1 and waits until every subscription holds.
start_subscribers() {
    "$BIN" subscribe --port "$1" --app-id "$APP" --secret "$SECRET" \
        --subscribers "$SUBS" --expect "$PUSHES" >"$WORK/sub.out" 2>"$WORK/sub.err" &
    SUB_PID=$!
    PIDS+=("$SUB_PID")
    wait_line "$WORK/sub.out" '^ready'
}

# Waits for the subscriber process (in this shell: a subshell cannot wait for it) and sets
# RESULT to its JSON line.
finish_subscribers() {
    wait "$SUB_PID" || cat "$WORK/sub.err" >&2
    RESULT=$(grep '^{' "$WORK/sub.out")
}

echo "== emulator: $SUBS subscribers x $PUSHES pushes"
"$BIN" serve --port 0 --app-id "$APP" --secret "$SECRET" --subscribers "$SUBS" \
    --pushes "$WORK/pushes.ndjson" >"$WORK/emu.out" 2>"$WORK/emu.err" &
EMU_PID=$!
PIDS+=("$EMU_PID")
wait_line "$WORK/emu.out" '^port '
EMU_PORT=$(awk '/^port / { print $2 }' "$WORK/emu.out")
start_subscribers "$EMU_PORT"
finish_subscribers
EMU_RESULT=$RESULT
EMU_RSS=$(peak_rss_kib "$EMU_PID")
kill "$EMU_PID"

echo "== mosquitto $(mosquitto -h | awk 'NR==1 { print $3 }'): $SUBS subscribers x $PUSHES pushes"
MQ_PORT=$(free_port)
mosquitto_passwd -b -c "$WORK/passwd" "$APP" "$SECRET" 2>/dev/null
cat >"$WORK/mosquitto.conf" <<CONF
listener $MQ_PORT 127.0.0.1
allow_anonymous false
password_file $WORK/passwd
user root
persistence false
log_dest stderr
log_type error
CONF
mosquitto -c "$WORK/mosquitto.conf" 2>"$WORK/mosquitto.err" &
MQ_PID=$!
PIDS+=("$MQ_PID")
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$MQ_PORT") 2>/dev/null && break
    sleep 0.1
done
start_subscribers "$MQ_PORT"
mosquitto_pub -h 127.0.0.1 -p "$MQ_PORT" -u "$APP" -P "$SECRET" -i "$APP/publisher" \
    -t "users/$APP/devices" -q 0 -l <"$WORK/pushes.ndjson"
finish_subscribers
MQ_RESULT=$RESULT
MQ_RSS=$(peak_rss_kib "$MQ_PID")
kill "$MQ_PID"

rate() { sed -E 's/.*"deliveries_per_second":([0-9]+).*/\1/' <<<"$1"; }
delivered() { sed -E 's/.*"delivered":([0-9]+).*/\1/' <<<"$1"; }
EMU_RATE=$(rate "$EMU_RESULT")
MQ_RATE=$(rate "$MQ_RESULT")
echo
printf '%-10s %12s %14s %14s\n' broker delivered "deliveries/s" "peak RSS KiB"
printf '%-10s %12s %14s %14s\n' emulator "$(delivered "$EMU_RESULT")" "$EMU_RATE" "$EMU_RSS"
printf '%-10s %12s %14s %14s\n' mosquitto "$(delivered "$MQ_RESULT")" "$MQ_RATE" "$MQ_RSS"
python3 -c "import sys; e, m = int(sys.argv[1]), int(sys.argv[2]); \
print(f'emulator/mosquitto rate: {e / m:.2f} (goal: at least 0.5)' if m else 'no mosquitto rate')" \
    "$EMU_RATE" "$MQ_RATE"
