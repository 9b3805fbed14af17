#!/usr/bin/env bash
# Benchmarks of the HRL reader, coalescer and writer against baselines.
# Prints "name: ours X, baseline Y, ratio Z" lines. Scratch data goes under
# ${TMPDIR:-/tmp} and is removed on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hrlbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
runs=${HRL_BENCH_RUNS:-3}

now_ns() { date +%s%N; }

# best_of CMD...: the fastest wall time of $runs runs, in seconds.
best_of() {
  local best="" s e t
  for _ in $(seq "$runs"); do
    s=$(now_ns); "$@" >/dev/null; e=$(now_ns)
    t=$(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
    if [[ -z $best ]] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then best=$t; fi
  done
  echo "$best"
}

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }

cd "$root"
go build -o "$tmp/hrlbench" ./bench/cmd/hrlbench

# 1. parse + verify + coalesce a 1 GiB log of 4 KiB..1 MiB writes vs cat.
log="$tmp/big.hrl"
"$tmp/hrlbench" gen -o "$log" -size $((1 << 30)) -min 4096 -max $((1 << 20)) >/dev/null
size=$(stat -c %s "$log")
cat "$log" >/dev/null # page cache
cat_s=$(best_of sh -c "cat '$log' > /dev/null")
ours_s=$(best_of "$tmp/hrlbench" parse "$log")
awk -v n="$size" -v o="$ours_s" -v c="$cat_s" 'BEGIN {
  printf "hrl parse+verify+coalesce 1GiB (MB/s, higher is better): ours %.0f, baseline %.0f (cat > /dev/null), ratio %.2f (target >= 0.50)\n",
    n / o / 1e6, n / c / 1e6, c / o }'
rm -f "$log"

# 2. coalescer memory per surviving extent, 1,000,000 small writes.
out=$("$tmp/hrlbench" mem -dir "$tmp" -writes 1000000)
bpe=$(echo "$out" | field bytes_per_extent)
awk -v b="$bpe" -v x="$(echo "$out" | field extents)" -v s="$(echo "$out" | field seconds)" 'BEGIN {
  printf "hrl coalescer bytes per surviving extent (lower is better): ours %.1f, baseline 200 (target), ratio %.2f (target < 1; %d extents in %.2fs)\n",
    b, b / 200, x, s }'

# 3. writer: 64 KiB writes with fsync per sealed block vs the 50 MB/s need.
mbps=$("$tmp/hrlbench" write -dir "$tmp" -mb 512 | field mb_per_s)
awk -v m="$mbps" 'BEGIN {
  printf "hrl writer 64KiB writes, fsync per block (MB/s, higher is better): ours %.1f, baseline 50 (required), ratio %.2f (target >= 1)\n", m, m / 50 }'
