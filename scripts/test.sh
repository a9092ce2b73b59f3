#!/bin/sh
# The whole test suite: set-up (idempotent), then unit and integration tests on Node 26,
# with the monitor built under AddressSanitizer and UBSan.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
make -s -C native sanitize
export BERTH_MONITOR_ASAN="$PWD/build/berth-monitor-asan"
exec node_modules/node/bin/node --test --test-concurrency=1 --test-timeout=300000 \
  test/unit/*.test.ts test/integration/*.test.ts
