#!/usr/bin/env bash
# watch's ingest side by side with `listen --format json`: both drain the same backlog of N
# pushes from D devices held by a private Mosquitto for a persistent QoS 1 session. watch runs
# its real feed, model and app loop on one thread as the command does, drawing into a
# ratatui TestBackend every 100 ms
# (examples/watch_drain.rs); listen writes to /dev/null. Alternating rounds.
#
#   benches/watch_vs_listen.sh                      # N=200000, D=10000, 2 rounds
#   N=20000 D=2000 ROUNDS=1 benches/watch_vs_listen.sh
# Needs: mosquitto, mosquitto-clients, python3, GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-200000}
D=${D:-10000}
ROUNDS=${ROUNDS:-2}
APP=bench
SECRET=bench-secret-$$
TOPIC=users/$APP/devices

nice -n 19 cargo build --quiet --release --example watch_drain
nice -n 19 cargo build --quiet --release
TARGET=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
LISTEN=$TARGET/release/sensoro-mqtt
DRAIN=$TARGET/release/examples/watch_drain

WORK=$(mktemp -d)
MP=""
cleanup() { [ -n "$MP" ] && kill "$MP" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

python3 - "$N" "$D" "$APP" >"$WORK/pushes.ndjson" <<'PY'
import json, random, sys
n, d, app = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
r = random.Random(7)
kinds = ["temp_humi", "smoke", "leak", "pm", "co2"]
for i in range(n):
    k = kinds[i % d % len(kinds)]
    data = {"battery": r.randint(20, 100), "interval": 300}
    if k == "temp_humi": data.update(temperature=round(r.uniform(-10, 40), 1), humidity=round(r.uniform(10, 95), 1))
    elif k == "smoke": data.update(smoke=int(r.random() < 0.01))
    elif k == "leak": data.update(drop=int(r.random() < 0.01))
    elif k == "pm": data.update(pm2_5=r.randint(5, 300), pm10=r.randint(10, 400))
    else: data.update(co2=r.randint(400, 2000))
    print(json.dumps({"appId": app, "sn": "01A1%06d" % (i % d), "deviceType": k, "type": "text",
                      "msgId": "%024x" % r.getrandbits(96), "createdTime": 1700000000000 + i,
                      "data": data}, separators=(",", ":")))
PY
split -l 30000 -d -a 4 "$WORK/pushes.ndjson" "$WORK/chunk."

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mosquitto_passwd -b -c "$WORK/passwd" "$APP" "$SECRET" 2>/dev/null
cat >"$WORK/m.conf" <<CONF
listener $PORT 127.0.0.1
allow_anonymous false
password_file $WORK/passwd
persistence false
max_queued_messages 0
max_inflight_messages 20
CONF
[ "$(id -u)" != 0 ] || echo "user root" >>"$WORK/m.conf"
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
"$MOSQUITTO" -c "$WORK/m.conf" 2>"$WORK/m.log" &
MP=$!
CONN=(-h 127.0.0.1 -p "$PORT" -u "$APP" -P "$SECRET")
for _ in $(seq 100); do mosquitto_sub "${CONN[@]}" -t x -E 2>/dev/null && break; sleep 0.1; done

backlog() { # clientId
    mosquitto_sub "${CONN[@]}" -i "$1" -c -q 1 -t "$TOPIC" -E
    for chunk in "$WORK"/chunk.*; do
        mosquitto_pub "${CONN[@]}" -i "$APP/pub-${chunk##*.}" -q 1 -t "$TOPIC" -l <"$chunk"
    done
}

echo "== $N pushes from $D devices, $ROUNDS rounds (2 cores, $(date -u +%F))"
for round in $(seq "$ROUNDS"); do
    backlog "$APP/w$round"
    read -r secs _ _ rss < <("$DRAIN" 127.0.0.1 "$PORT" "$APP" "$SECRET" "$APP/w$round" "$N")
    printf 'round %s  watch (model + drawing)    %7.2f s  %9.0f pushes/s  %6.1f MB peak RSS\n' \
        "$round" "$secs" "$(echo "$N / $secs" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
    backlog "$APP/l$round"
    start=$(date +%s.%N)
    /usr/bin/time -f %M -o "$WORK/rss" env SENSORO_APP_SECRET="$SECRET" SENSORO_MQTT_CONFIG="$WORK/none.toml" \
        "$LISTEN" listen --host 127.0.0.1 --port "$PORT" --app-id "$APP" --client-id "$APP/l$round" \
        --clean false --qos 1 --format json --count "$N" >/dev/null 2>"$WORK/l.err"
    secs=$(echo "$(date +%s.%N) - $start" | bc -l)
    printf 'round %s  listen --format json       %7.2f s  %9.0f pushes/s  %6.1f MB peak RSS\n' \
        "$round" "$secs" "$(echo "$N / $secs" | bc -l)" "$(echo "$(cat "$WORK/rss") / 1024" | bc -l)"
done
