#!/usr/bin/env bash
# Runs every fuzz target in the module for a short, fixed number of
# executions (FUZZTIME, default 10000x). The committed seed corpora also run
# as ordinary tests in `go test`; this adds fresh inputs on every CI run.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-10000x}"
count=0
while IFS= read -r file; do
  pkg="./$(dirname "$file")"
  for target in $(grep -oE '^func Fuzz[A-Za-z0-9_]+' "$file" | sed 's/^func //'); do
    echo "fuzz: $pkg $target ($fuzztime)"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" -parallel=2 "$pkg" >/tmp/fuzz-$$.log 2>&1 || {
      cat /tmp/fuzz-$$.log
      rm -f /tmp/fuzz-$$.log
      echo "fuzz: $pkg $target FAILED; the failing input was saved under $pkg/testdata/fuzz/$target" >&2
      exit 1
    }
    count=$((count + 1))
  done
done < <(grep -rlE '^func Fuzz' --include='*_test.go' . | grep -v '/node_modules/' | sort)
rm -f /tmp/fuzz-$$.log
echo "fuzz: $count targets ran $fuzztime each"
