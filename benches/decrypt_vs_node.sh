#!/usr/bin/env bash
# Decrypts the same NDJSON file of safe-mode pushes with `sensoro-mqtt decrypt -` and with a
# Node.js script using wechat-crypto (the platform demo's library), in one run, alternating,
# and checks that both produce the same pushes. Usage: benches/decrypt_vs_node.sh [N] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
runs="${2:-3}"
id=9yCs1XmRya2T
key=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

[ -d tools/safe-mode-vectors/node_modules ] || (cd tools/safe-mode-vectors && npm ci --silent)
cargo build --release --quiet
node benches/decrypt_vs_node/make_pushes.js "$n" "$id" "$key" "$work/expected.ndjson" > "$work/pushes.ndjson"
echo "input: $n pushes, $(du -h "$work/pushes.ndjson" | cut -f1); node $(node --version)"

seconds() { # wall seconds of one run; peak RSS (KB) to $work/rss
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -f %M -o "$work/rss" "$@" < "$work/pushes.ndjson" > "$work/out.ndjson"
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}

best_ours="" best_node="" rss_ours=0 rss_node=0
for _ in $(seq "$runs"); do
    t=$(SENSORO_APP_ID=$id SENSORO_APP_KEY=$key seconds target/release/sensoro-mqtt decrypt -)
    rss_ours=$(cat "$work/rss"); cp "$work/out.ndjson" "$work/ours.ndjson"
    if [ -z "$best_ours" ] || [ "$(echo "$t < $best_ours" | bc -l)" = 1 ]; then best_ours=$t; fi
    t=$(seconds node benches/decrypt_vs_node/node_decrypt.js "$id" "$key")
    rss_node=$(cat "$work/rss"); cp "$work/out.ndjson" "$work/node.ndjson"
    if [ -z "$best_node" ] || [ "$(echo "$t < $best_node" | bc -l)" = 1 ]; then best_node=$t; fi
done
# Ours must print every push byte for byte as it was before sealing; Node re-prints numbers.
if cmp -s "$work/expected.ndjson" "$work/ours.ndjson"; then
    echo "sensoro-mqtt: all $n pushes byte for byte as sealed"
else
    echo "sensoro-mqtt: output differs from the pushes as sealed:" >&2
    cmp "$work/expected.ndjson" "$work/ours.ndjson" >&2 || true
    exit 1
fi
changed=$(python3 -c 'import sys
a = open(sys.argv[1], "rb").read().split(b"\n"); b = open(sys.argv[2], "rb").read().split(b"\n")
print(sum(1 for x, y in zip(a, b) if x != y))' "$work/expected.ndjson" "$work/node.ndjson")
echo "node + wechat-crypto: $changed of $n pushes changed (numbers re-printed by JSON.parse/stringify)"
node benches/decrypt_vs_node/compare_ndjson.js "$work/node.ndjson" "$work/ours.ndjson" || true
printf 'best of %s runs:\n' "$runs"
printf '  sensoro-mqtt decrypt -      : %.3f s  (%.0f pushes/s, peak RSS %s KB)\n' "$best_ours" "$(echo "$n / $best_ours" | bc -l)" "$rss_ours"
printf '  node + wechat-crypto        : %.3f s  (%.0f pushes/s, peak RSS %s KB)\n' "$best_node" "$(echo "$n / $best_node" | bc -l)" "$rss_node"
printf '  speed-up                    : %.1fx\n' "$(echo "$best_node / $best_ours" | bc -l)"
