#!/usr/bin/env bash
# Times `sensoro-mqtt validate-id --quiet` against `grep -cE` with the same rule on the same
# 1,000,000-line file, in one run. Output goes to a file: GNU grep stops at the first match
# when stdout is /dev/null, which would make the comparison meaningless. Usage: benches/validate_id_vs_grep.sh [LINES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
lines="${1:-1000000}"
runs="${2:-5}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet
bin=target/release/sensoro-mqtt
file="$work/ids.txt"
# All valid (worst case: nothing stops early), suffixes of 0-36 characters.
python3 - "$lines" > "$file" <<'PY'
import random, string, sys
rng = random.Random(7)
alphabet = string.ascii_letters + string.digits + "-_"
out = sys.stdout
for i in range(int(sys.argv[1])):
    n = rng.randint(0, 36)
    out.write("foobar/" + "".join(rng.choice(alphabet) for _ in range(n)) + "\n")
PY
echo "file: $lines lines, $(du -h "$file" | cut -f1)"

best() { # best wall-clock seconds of N runs of a command reading $file
    local best=""
    for _ in $(seq "$runs"); do
        local start end t
        start=$(date +%s.%N)
        "$@" < "$file" > "$work/out" 2>/dev/null || true
        end=$(date +%s.%N)
        t=$(echo "$end - $start" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
    done
    printf '%.3f' "$best"
}

ours=$(best "$bin" validate-id --app-id foobar --quiet)
grep_time=$(LC_ALL=C best grep -cE '^foobar(/[-_0-9a-zA-Z]{0,36})?$')
grep_utf8=$(LC_ALL=C.UTF-8 best grep -cE '^foobar(/[-_0-9a-zA-Z]{0,36})?$')
json=$(best "$bin" validate-id --app-id foobar --json)
human=$(best "$bin" validate-id --app-id foobar)
echo "best of $runs runs (seconds):"
echo "  sensoro-mqtt validate-id --quiet : $ours"
echo "  grep -cE (LC_ALL=C)              : $grep_time"
echo "  grep -cE (LC_ALL=C.UTF-8)        : $grep_utf8"
echo "  sensoro-mqtt validate-id (human) : $human"
echo "  sensoro-mqtt validate-id --json  : $json"
