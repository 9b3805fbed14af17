#!/usr/bin/env bash
# Regenerates the protobuf code into a scratch directory and fails if it
# differs from shared/gen: the committed code must always match the .proto
# sources.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
buf generate -o "$scratch"
if ! diff -ru "$scratch/shared/gen" shared/gen; then
  echo "check-generate: shared/gen is stale; run 'make generate' and commit the result" >&2
  exit 1
fi
echo "check-generate: generated code is up to date"
