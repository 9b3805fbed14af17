#!/usr/bin/env bash
# Upload benchmark: `hvm-agent copy` to Azurite over HTTPS on loopback,
# each figure beside a baseline from the same run (see
# bench/cmd/uploadbench). BENCH_GIB sets the full disk's size (default 4,
# the issue's size).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/hvmbench.XXXXXX")
trap 'rm -rf "$work"' EXIT
go build -trimpath -o "$work/hvm-agent" ./agent/cmd/hvm-agent
go build -trimpath -o "$work/uploadbench" ./bench/cmd/uploadbench
"$work/uploadbench" -agent "$work/hvm-agent" -gib "${BENCH_GIB:-4}" -dir "$work"
