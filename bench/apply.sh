#!/usr/bin/env bash
# Benchmark of the hub's applier against Azurite over HTTPS: apply
# throughput of a cycle's delta object against a bare parallel Put Page loop
# (same requests in flight, same emulator, same run), and the applying
# process's peak RSS and heap. Prints "name: ours X, baseline Y, ratio Z"
# lines. Needs go and node with the pinned Azurite (make tools). Scratch data
# (the emulator's blobs and the spool, about 6 GiB with the defaults) goes under
# ${TMPDIR:-/tmp} and is removed on exit.
#
#   APPLY_BENCH_MIB       data in the delta object, MiB (default 1024)
#   APPLY_BENCH_INFLIGHT  requests in flight, both sides (default 8)
#   APPLY_BENCH_RUNS      timed runs per side, best counts (default 2)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/applybench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cd "$root"
go build -o "$tmp/applybench" ./hub/internal/applier/applybench
"$tmp/applybench" \
  -mib "${APPLY_BENCH_MIB:-1024}" \
  -inflight "${APPLY_BENCH_INFLIGHT:-8}" \
  -runs "${APPLY_BENCH_RUNS:-2}" \
  -dir "$tmp"
