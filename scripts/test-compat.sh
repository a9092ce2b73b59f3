#!/bin/sh
# The compatibility suite: berth's registry against real peers that are not berth (a real
# Docker daemon from Debian's docker.io, Debian's reference registry, skopeo). It installs
# those peers, which berth's own tests never depend on; CI runs it only when time allows.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
need=""
for pair in dockerd:docker.io docker-registry:docker-registry skopeo:skopeo; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  [ -x "/usr/sbin/$cmd" ] || [ -x "/usr/bin/$cmd" ] || need="$need $pkg"
done
if [ -n "$need" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq $need >/dev/null
fi
exec node_modules/node/bin/node --test --test-concurrency=1 --test-timeout=600000 test/compat/*.test.ts
