#!/usr/bin/env bash
# hvm-simhost workload benchmark: one VM, one 4 GiB dynamic VHDX disk,
# change tracking on (logs fsynced as blocks seal), 64 KiB random writes at
# a target of 50 MB/s for 10 s. Run twice: on the base disk (the steady
# state of delta cycles) and with a checkpoint (initial replication: writes
# go to an AVHDX child). Then the unthrottled Go benchmark. Prints
# "name: achieved X, target Y, ratio Z" lines. Scratch data goes under
# ${TMPDIR:-/tmp} and is removed on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/simbench.XXXXXX")
sock=$(mktemp -d /tmp/simsock.XXXXXX)/run/simhost.sock
daemon=""
cleanup() {
  [[ -n $daemon ]] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
  rm -rf "$tmp" "$(dirname "$(dirname "$sock")")"
}
trap cleanup EXIT
rate=${SIMHOST_BENCH_RATE:-50}
seconds=${SIMHOST_BENCH_SECONDS:-10}

cd "$root"
go build -o "$tmp/hvm-simhost" ./integration/simhost/cmd/hvm-simhost
sim() { "$tmp/hvm-simhost" --socket "$sock" "$@"; }

"$tmp/hvm-simhost" serve --dir "$tmp/vms" --listen "$sock" --log-level warn &
daemon=$!
for _ in $(seq 100); do [[ -S $sock ]] && break; sleep 0.05; done

# workload NAME: prints the achieved/target line of one run.
workload() {
  local out
  out=$(sim workload bench --rate "$rate" --sizes 64k --duration "${seconds}s" -o json)
  awk -v name="$1" -v t="$rate" -v a="$(echo "$out" | sed -n 's/.*"achieved_bytes_per_second": \([0-9.e+]*\).*/\1/p')" 'BEGIN {
    printf "simhost %s 64KiB random, tracking on (MB/s): achieved %.1f, target %.1f, ratio %.2f (target >= 0.95)\n", name, a / 1e6, t, a / 1e6 / t }'
}

sim vm create bench --disk 4G >/dev/null
sim vm start bench >/dev/null
sim tracking start bench >/dev/null
workload "base disk"
sim tracking stop bench --remove-logs >/dev/null
sim checkpoint create bench --start-tracking >/dev/null
workload "checkpoint child"

go test -run '^$' -bench 'BenchmarkWrite64KiBTracked' -benchtime 3s ./integration/simhost/ |
  awk '/^BenchmarkWrite64KiBTracked/ { printf "simhost unthrottled %s: %s %s\n", $1, $(NF-1), $NF }'
