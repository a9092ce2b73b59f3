#!/bin/sh
# Quick start: set up, start berthd in the background (if it isn't running), load the
# busybox image, and run a first container.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
SOCK=/run/berth/berth.sock
if ! bin/berth -H "unix://$SOCK" version >/dev/null 2>&1; then
  mkdir -p /var/log
  echo "[quickstart] starting berthd (log: /var/log/berthd.log)" >&2
  nohup bin/berthd >>/var/log/berthd.log 2>&1 &
  i=0
  until bin/berth -H "unix://$SOCK" version >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "berthd did not start; see /var/log/berthd.log" >&2; exit 1; }
    sleep 0.1
  done
fi
if ! bin/berth image inspect busybox:latest >/dev/null 2>&1; then
  bin/berth load -i build/images/busybox.tar
fi
bin/berth run --rm busybox echo "Hello from a berth container"
