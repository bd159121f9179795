#!/usr/bin/env bash
# Drains a backlog of N pushes held by Mosquitto for a persistent QoS 1 session into each
# target, and compares in the same run with the pipeline people write today, which has no
# delivery guarantee:
#   SQLite:     relay --to sqlite:DB        vs  mosquitto_sub -C N | sqlite3 .import
#   PostgreSQL: relay --to postgres://...   vs  mosquitto_sub -C N | psql \copy
#   webhook:    relay --to http://...       (a local keep-alive receiver, examples/webhook_sink.rs)
# Time = from the consumer's start until the last push is stored; peak RSS of the consumer.
#
#   benches/relay_vs_pipeline.sh                     # 100k pushes, release build
#   N=2000 BENCH_PROFILE=debug benches/relay_vs_pipeline.sh   # smoke-test the script
#   ONLY="sqlite postgres" benches/relay_vs_pipeline.sh       # some of: sqlite postgres webhook
#   RELAY_ARGS="--batch-size 2000" benches/relay_vs_pipeline.sh  # extra relay flags
# Needs: mosquitto, mosquitto-clients, sqlite3, postgresql, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-100000}
ONLY=${ONLY:-sqlite postgres webhook}
RELAY_ARGS=${RELAY_ARGS:-}
# Mosquitto's window of unacknowledged QoS 1 pushes per client (its default is 20).
MQ_INFLIGHT=${MQ_INFLIGHT:-1000}
want() { [[ " $ONLY " == *" $1 "* ]]; }
APP=foobar
SECRET=bench-secret-$$
TOPIC=users/$APP/devices

for tool in mosquitto mosquitto_pub mosquitto_sub mosquitto_passwd sqlite3 python3; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || {
        echo "missing $tool: apt-get install -y mosquitto mosquitto-clients sqlite3 python3" >&2
        exit 1
    }
done
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PGBIN/initdb" ] || { echo "missing postgresql: apt-get install -y postgresql" >&2; exit 1; }
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)

if [ "${BENCH_PROFILE:-release}" = debug ]; then
    cargo build --quiet
    BIN=$PWD/target/debug/sensoro-mqtt
else
    cargo build --quiet --release
    BIN=$PWD/target/release/sensoro-mqtt
fi
WORK=$(mktemp -d)
chmod 777 "$WORK"
PIDS=()
AS_PG=()
[ "$(id -u)" -eq 0 ] && AS_PG=(runuser -u postgres --)
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    [ -d "$WORK/pg" ] && "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
    wait 2>/dev/null || true
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "benchmark failed at line $LINENO: $BASH_COMMAND" >&2' ERR

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
# CPU seconds the whole machine has spent busy so far (all processes: the broker, the
# consumer, the database server): the difference over a run says how much CPU it cost.
busy() { awk '/^cpu /{print ($2+$3+$4+$7+$8)/100}' /proc/stat; }

# --- the pushes: realistic envelopes with 17-digit floats, one per line
python3 - "$N" "$APP" >"$WORK/pushes.ndjson" <<'EOF'
import sys, random
n, app = int(sys.argv[1]), sys.argv[2]
r = random.Random(7)
for i in range(n):
    sn = "0117C9%04X" % r.randrange(200)
    print('{"appId":"%s","sn":"%s","type":"text","deviceType":"node","createdTime":%d,'
          '"msgId":"%024x","data":{"battery":%d,"interval":300,"temperature":%.1f,'
          '"lonlat":[116.%014d,39.%014d]}}' % (app, sn, 1732400000000 + i, r.getrandbits(96),
          r.randrange(100), r.uniform(-10, 40), r.randrange(10**14), r.randrange(10**14)))
EOF

LAST=$(tail -1 "$WORK/pushes.ndjson" | sed 's/.*"msgId":"\([0-9a-f]*\)".*/\1/')
split -l 30000 -d -a 4 "$WORK/pushes.ndjson" "$WORK/chunk."

# --- Mosquitto: persistent sessions, unlimited queue, a wide in-flight window
MQ_PORT=$(free_port)
mosquitto_passwd -b -c "$WORK/passwd" "$APP" "$SECRET" >/dev/null 2>&1
cat >"$WORK/mosquitto.conf" <<EOF
listener $MQ_PORT 127.0.0.1
allow_anonymous false
password_file $WORK/passwd
persistence false
max_queued_messages 0
max_inflight_messages $MQ_INFLIGHT
user root
EOF
"$MOSQUITTO" -c "$WORK/mosquitto.conf" 2>"$WORK/mosquitto.log" &
PIDS+=($!)
for _ in $(seq 100); do mosquitto_sub -h 127.0.0.1 -p "$MQ_PORT" -u "$APP" -P "$SECRET" -t x -E 2>/dev/null && break; sleep 0.1; done

export SENSORO_HOST=127.0.0.1 SENSORO_PORT=$MQ_PORT SENSORO_APP_ID=$APP SENSORO_APP_SECRET=$SECRET
export SENSORO_MQTT_CONFIG=$WORK/config.toml

# Registers a persistent session for clientId $1 (subscribe, then leave).
register() { mosquitto_sub -h 127.0.0.1 -p "$MQ_PORT" -u "$APP" -P "$SECRET" -i "$1" -c -q 1 -t "$TOPIC" -E; }
# mosquitto_pub -l stops early once its 16-bit message ids wrap: at most 30,000 lines each.
backlog() {
    local chunk
    for chunk in "$WORK"/chunk.*; do
        mosquitto_pub -h 127.0.0.1 -p "$MQ_PORT" -u "$APP" -P "$SECRET" -i "$APP/pub-${chunk##*.}" \
            -q 1 -t "$TOPIC" -l <"$chunk"
    done
}

# Runs a relay for clientId $1 into target $2 until it has stored the backlog; prints
# "seconds rss_kb cpu_seconds". Done when `$3` prints $4 or more, where $3 is a shell command
# (run every poll) or "sql:QUERY" asked every poll of one long-lived client,
# "${SQL_CLIENT[@]}". Polling must cost next to nothing: a new psql process per poll, or a
# count(*) of the table, took a good part of a core from the run being measured. The stores
# are asked whether they hold the backlog's last push (by primary key: the relay commits
# batches in order), and their count is checked once the clock has stopped.
time_relay() {
    local id=$1 to=$2 count=$3 want=$4 start pid cpu answer
    shift 4
    if [[ $count == sql:* ]]; then
        coproc ASK { "${SQL_CLIENT[@]}" 2>/dev/null; }
    fi
    start=$(now); cpu=$(busy)
    /usr/bin/time -f %M -o "$WORK/rss" ${RELAY_WRAP:-} "$BIN" relay --client-id "$id" --to "$to" \
        --dead-letter "$WORK/dead.ndjson" $RELAY_ARGS "$@" 2>"$WORK/relay.log" &
    pid=$!
    # The relay creates its table before it subscribes: ask only once it exists.
    until grep -q "^subscribed" "$WORK/relay.log" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || { cat "$WORK/relay.log" >&2; return 1; }
        sleep 0.01
    done
    while :; do
        if [[ $count == sql:* ]]; then
            echo "${count#sql:};" >&"${ASK[1]}"
            read -r -t 10 answer <&"${ASK[0]}" || answer=0
        else
            answer=$(eval "$count" 2>/dev/null || echo 0)
        fi
        [[ $answer =~ ^[0-9]+$ ]] || answer=0
        [ "$answer" -ge "$want" ] && break
        kill -0 "$pid" 2>/dev/null || { cat "$WORK/relay.log" >&2; return 1; }
        sleep 0.005
    done
    local took; took=$(echo "$(now) - $start" | bc -l)
    cpu=$(echo "$(busy) - $cpu" | bc -l)
    if [[ $count == sql:* ]]; then
        # Closing its input ends the client; wait for it, since the last SQLite connection
        # to close checkpoints the database and holds it meanwhile.
        local ask_pid=$ASK_PID
        exec {ASK[1]}>&-
        wait "$ask_pid" 2>/dev/null || true
    fi
    # GNU time ignores SIGINT: Ctrl-C goes to the relay itself, its child.
    kill -INT "$(pgrep -P "$pid")"; wait "$pid" || true
    echo "$took $(cat "$WORK/rss") $cpu"
}

# Runs `mosquitto_sub -C N | loader`; prints "seconds rss_kb" (the loader's).
time_pipeline() {
    local id=$1; shift
    local start cpu; start=$(now); cpu=$(busy)
    mosquitto_sub -h 127.0.0.1 -p "$MQ_PORT" -u "$APP" -P "$SECRET" -i "$id" -c -q 1 -t "$TOPIC" -C "$N" |
        /usr/bin/time -f %M -o "$WORK/rss" ${PIPE_WRAP:-} "$@"
    echo "$(echo "$(now) - $start" | bc -l) $(cat "$WORK/rss") $(echo "$(busy) - $cpu" | bc -l)"
}

report() { # name seconds rss_kb cpu_seconds
    printf '%-34s %8.2f s  %9.0f pushes/s  %7d MB RSS  %6.2f s CPU (machine)\n' "$1" "$2" \
        "$(echo "$N / $2" | bc -l)" "$(( $3 / 1024 ))" "$4"
}

echo "backlog: $N pushes ($(du -h "$WORK/pushes.ndjson" | cut -f1)) on Mosquitto $("$MOSQUITTO" -h 2>/dev/null | head -1 | awk '{print $3}')"

# --- SQLite
if want sqlite; then
register "$APP/relay-sqlite"; backlog
SQL_CLIENT=(sqlite3 "$WORK/relay.db")
read -r t rss cpu < <(time_relay "$APP/relay-sqlite" "sqlite:$WORK/relay.db" "sql:select count(*) from pushes where msg_id = '$LAST'" 1)
[ "$(sqlite3 "$WORK/relay.db" 'select count(*) from pushes')" -eq "$N" ]
report "relay --to sqlite" "$t" "$rss" "$cpu"
sqlite3 "$WORK/pipe.db" "CREATE TABLE raw (push TEXT)"
SEP=$'\x01' # a column separator no push contains: each line is one value
register "$APP/sub-sqlite"; backlog
read -r t rss cpu < <(time_pipeline "$APP/sub-sqlite" sqlite3 "$WORK/pipe.db" -cmd ".mode ascii" -cmd ".separator $SEP \"\\n\"" ".import /dev/stdin raw")
[ "$(sqlite3 "$WORK/pipe.db" 'select count(*) from raw')" -eq "$N" ]
report "mosquitto_sub | sqlite3 .import" "$t" "$rss" "$cpu"
fi

# --- PostgreSQL: a private cluster
if want postgres; then
PG_PORT=$(free_port)
"${AS_PG[@]}" "$PGBIN/initdb" -D "$WORK/pg" -U postgres -A trust --no-sync -E UTF8 >/dev/null
"${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w \
    -o "-p $PG_PORT -k $WORK -c listen_addresses=127.0.0.1" start >/dev/null
PSQL=("$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -X -A -t -q)
"${PSQL[@]}" -c "CREATE TABLE raw (push text)"
register "$APP/relay-pg"; backlog
SQL_CLIENT=("${PSQL[@]}")
read -r t rss cpu < <(time_relay "$APP/relay-pg" "postgres://postgres@127.0.0.1:$PG_PORT/postgres" "sql:select count(*) from pushes where msg_id = '$LAST'" 1)
[ "$("${PSQL[@]}" -c 'select count(*) from pushes')" -eq "$N" ]
report "relay --to postgres" "$t" "$rss" "$cpu"
register "$APP/sub-pg"; backlog
read -r t rss cpu < <(time_pipeline "$APP/sub-pg" "${PSQL[@]}" -c "\\copy raw(push) from stdin with (format csv, quote e'\\x01', delimiter e'\\x02')")
[ "$("${PSQL[@]}" -c 'select count(*) from raw')" -eq "$N" ]
report "mosquitto_sub | psql \\copy" "$t" "$rss" "$cpu"
# The same pipeline into a jsonb column, as people do to query the pushes (jsonb reorders
# keys and drops duplicates, so the bytes are not kept): what parsing JSON costs PostgreSQL.
"${PSQL[@]}" -c "CREATE TABLE raw_jsonb (push jsonb)"
register "$APP/sub-pg-jsonb"; backlog
read -r t rss cpu < <(time_pipeline "$APP/sub-pg-jsonb" "${PSQL[@]}" -c "\\copy raw_jsonb(push) from stdin with (format csv, quote e'\\x01', delimiter e'\\x02')")
[ "$("${PSQL[@]}" -c 'select count(*) from raw_jsonb')" -eq "$N" ]
report "mosquitto_sub | psql \\copy (jsonb)" "$t" "$rss" "$cpu"
fi

# --- webhook: a local keep-alive receiver counting 2xx answers: examples/webhook_sink.rs (tokio,
# answers 200 at once, checks nothing heavy) at each of CONCURRENCY; with PY_SINK=1 also the
# python3 ThreadingHTTPServer receiver (the bottleneck at about 7k requests/s on 2 cores).
if want webhook; then
if [ "${BENCH_PROFILE:-release}" = debug ]; then
    cargo build --quiet --example webhook_sink; SINK=$PWD/target/debug/examples/webhook_sink
else
    cargo build --quiet --release --example webhook_sink; SINK=$PWD/target/release/examples/webhook_sink
fi
HOOK_PORT=$(free_port)
"$SINK" "$HOOK_PORT" "$WORK/hook.count" &
PIDS+=($!)
for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $HOOK_PORT))" 2>/dev/null && break; sleep 0.1; done
for c in ${CONCURRENCY:-4 8 16}; do
    register "$APP/relay-hook-$c"; backlog
    # The sink counts from its start: count this run's pushes only.
    base=$(cat "$WORK/hook.count" 2>/dev/null || echo 0)
    read -r t rss cpu < <(time_relay "$APP/relay-hook-$c" "http://127.0.0.1:$HOOK_PORT/hook" "echo \$(( \$(cat $WORK/hook.count) - $base ))" "$N" --concurrency "$c")
    report "relay --to http -c $c (rust sink)" "$t" "$rss" "$cpu"
done
fi
if want webhook && [ -n "${PY_SINK:-}" ]; then
PY_PORT=$(free_port)
python3 - "$PY_PORT" "$WORK/py.count" <<'EOF' &
import sys, http.server, socketserver, threading
port, out = int(sys.argv[1]), sys.argv[2]
count = 0; lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        global count
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
        with lock:
            count += 1
            if count % 500 == 0 or count < 10: open(out, "w").write(str(count))
    def log_message(self, *a): pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer): daemon_threads = True
S(("127.0.0.1", port), H).serve_forever()
EOF
PIDS+=($!)
for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $PY_PORT))" 2>/dev/null && break; sleep 0.1; done
register "$APP/relay-py"; backlog
read -r t rss cpu < <(time_relay "$APP/relay-py" "http://127.0.0.1:$PY_PORT/hook" "cat $WORK/py.count" "$N")
report "relay --to http (python receiver)" "$t" "$rss" "$cpu"
fi
