#!/usr/bin/env bash
# Throttle benchmark: achieved rate against the target at 512 Kbps, 10 Mbps,
# 100 Mbps and unlimited, and how long a running transfer takes to follow a
# limit change. Each case runs once for a few seconds of real time.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run '^$' -bench '^BenchmarkThrottle_' -benchtime 1x -count "${COUNT:-1}" ./agent/internal/throttle
