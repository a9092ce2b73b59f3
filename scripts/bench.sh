#!/bin/sh
# Runs the benchmarks in bench/ (after the idempotent set-up).
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
for b in bench/*.ts; do
  echo "== $b"
  node_modules/node/bin/node "$b"
done
