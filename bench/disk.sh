#!/usr/bin/env bash
# Benchmarks of `hvm-agent disk` against qemu-img. Prints
# "name: ours X s, baseline Y s, ratio Z" lines. Needs go, qemu-img and
# GNU time (/usr/bin/time) for peak memory. Scratch data (about 10 GiB of
# disk, mostly sparse) goes under ${TMPDIR:-/tmp} and is removed on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/diskbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
runs=${DISK_BENCH_RUNS:-5}

now_ns() { date +%s%N; }

# time_once CMD...: wall time of one run in seconds, after removing the
# outputs of earlier runs and writing back their dirty pages (sync), so no
# run pays for another one's writes.
time_once() {
  local s e
  rm -f "$tmp"/*.out; sync
  s=$(now_ns); "$@" >/dev/null; e=$(now_ns)
  awk -v a="$s" -v b="$e" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}

# minimum A B: the smaller number, A when B is empty.
minimum() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a + 0 < b + 0) ? a : b }'; }

# best_of CMD...: the fastest of $runs timed runs after one untimed run
# that warms the page cache.
best_of() {
  local best="" t
  time_once "$@" >/dev/null
  for _ in $(seq "$runs"); do
    t=$(time_once "$@"); best=$(minimum "$t" "$best")
  done
  echo "$best"
}

# peak_kib CMD...: peak resident memory of one run, in KiB.
peak_kib() {
  if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -f '%M' -o "$tmp/rss" "$@" >/dev/null
    cat "$tmp/rss"
  else
    echo "n/a"
  fi
}

ratio() { awk -v o="$1" -v b="$2" 'BEGIN { printf "%.2f", o / b }'; }

cd "$root"
go build -o "$tmp/hvm-agent" ./agent/cmd/hvm-agent
go build -o "$tmp/diskbench" ./bench/cmd/diskbench
agent=$tmp/hvm-agent

# cat_vs_convert NAME FORMAT IMAGE: our cat and qemu-img convert, both to a
# raw file in $tmp, and a byte comparison of the two outputs.
# The two tools run alternately, so both see the same machine load; each
# keeps its fastest run (on a shared machine a 2 GiB page-cache write can
# take anywhere from 0.4 s to 2.5 s, so single runs mean little).
cat_vs_convert() {
  local name=$1 format=$2 img=$3 ours="" base="" i t
  for i in $(seq 0 "$runs"); do
    t=$(time_once qemu-img convert -f "$format" -O raw "$img" "$tmp/qemu.out")
    [[ $i -gt 0 ]] && base=$(minimum "$t" "$base")
    t=$(time_once "$agent" disk cat "$img" -o "$tmp/ours.out")
    [[ $i -gt 0 ]] && ours=$(minimum "$t" "$ours")
  done
  qemu-img convert -f "$format" -O raw "$img" "$tmp/qemu.raw"
  cmp -s "$tmp/ours.out" "$tmp/qemu.raw" || { echo "$name: outputs differ" >&2; exit 1; }
  echo "$name: ours $ours s, baseline $base s (qemu-img convert -O raw), ratio $(ratio "$ours" "$base") (target <= 1.0)"
  rm -f "$tmp"/*.out "$tmp/qemu.raw"
}

# extents_run NAME IMAGE: time and peak memory of `disk extents`.
extents_run() {
  local name=$1 img=$2 secs rss
  secs=$(best_of "$agent" disk extents "$img")
  rss=$(peak_kib "$agent" disk extents "$img")
  echo "$name: ours $secs s, baseline 1 s (target), ratio $(ratio "$secs" 1) (target < 1); peak RSS $rss KiB"
}

# (a) 4 GiB dynamic VHDX, half allocated: 32 MiB of data every 64 MiB.
"$tmp/diskbench" sparse -o "$tmp/half.raw" -size $((4 << 30)) -every $((64 << 20)) -len $((32 << 20))
qemu-img convert -f raw -O vhdx -o subformat=dynamic "$tmp/half.raw" "$tmp/half.vhdx"
cat_vs_convert "vhdx cat 4GiB half allocated" vhdx "$tmp/half.vhdx"
rm -f "$tmp/half.vhdx"

# (c) the same data as a dynamic VHD (2 MiB blocks, exact size).
qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on "$tmp/half.raw" "$tmp/half.vhd"
rm -f "$tmp/half.raw"
cat_vs_convert "vhd cat 4GiB half allocated" vpc "$tmp/half.vhd"
rm -f "$tmp/half.vhd"

# (b) extents of a 2 TiB dynamic VHDX with 1% of its blocks allocated (4 KiB
# written every 3200 MiB, 32 MiB blocks), and of a 128 GiB one with the same
# density: memory must not grow with the virtual size.
for size_gib in 128 2048; do
  "$tmp/diskbench" sparse -o "$tmp/sparse.raw" -size $((size_gib << 30)) -every $((3200 << 20)) -len 4096
  qemu-img convert -f raw -O vhdx -o subformat=dynamic,block_size=32M "$tmp/sparse.raw" "$tmp/sparse.vhdx"
  rm -f "$tmp/sparse.raw"
  extents_run "vhdx extents ${size_gib}GiB 1% of blocks allocated" "$tmp/sparse.vhdx"
  rm -f "$tmp/sparse.vhdx"
done

# (d) extents of a 2000 GiB dynamic VHD, 1% of its 2 MiB blocks allocated.
"$tmp/diskbench" sparse -o "$tmp/sparse.raw" -size $((2000 << 30)) -every $((200 << 20)) -len 4096
qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on "$tmp/sparse.raw" "$tmp/sparse.vhd"
rm -f "$tmp/sparse.raw"
extents_run "vhd extents 2000GiB 1% of blocks allocated" "$tmp/sparse.vhd"
