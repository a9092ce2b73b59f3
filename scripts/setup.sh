#!/bin/sh
# One idempotent set-up for a fresh Debian machine (run as root): system packages,
# Node 26 and npm dependencies, the build, and the local busybox base image.
# Every step checks first, so a second run takes a second or two.
set -eu
cd "$(dirname "$0")/.."
say() { printf '[setup] %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  say "berth runs containers and must be set up as root"; exit 1
fi

# System packages: the OCI runtime, networking tools (iproute2, nftables; iptables for the
# fallback and its test), busybox for the base image, a C compiler,
# and tini, whose static build Debian installs as docker-init: the init of `run --init`.
# The registry tests need htpasswd -B (apache2-utils), openssl (a self-signed cert) and
# skopeo (a real registry client pushing to and pulling from `berth registry serve`); the
# pull tests pull from docker-registry, Debian's build of the reference registry.
need=""
for pair in runc:runc ip:iproute2 nft:nftables iptables:iptables nsenter:util-linux busybox:busybox-static gcc:gcc make:make docker-init:tini htpasswd:apache2-utils openssl:openssl skopeo:skopeo docker-registry:docker-registry; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || need="$need $pkg"
done
# busybox must be the static build: it is copied into the image.
if command -v busybox >/dev/null 2>&1 && ! dpkg -s busybox-static >/dev/null 2>&1; then need="$need busybox-static"; fi
# The monitor links statically (smaller resident size): it needs libc.a.
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || need="$need libc6-dev"
# It gzips rotated container logs with zlib, linked statically too.
[ -e /usr/lib/x86_64-linux-gnu/libz.a ] && [ -e /usr/include/zlib.h ] || need="$need zlib1g-dev"
if [ -n "$need" ]; then
  say "installing:$need"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq $need >/dev/null
fi
# docker-registry's package enables a system registry on :5000; tests start their own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled docker-registry >/dev/null 2>&1; then
  systemctl disable docker-registry >/dev/null 2>&1 || true
  systemctl stop docker-registry >/dev/null 2>&1 || true
fi

# Node 26 and the npm dependencies (the npm package "node" provides Node 26 locally).
if [ ! -x node_modules/node/bin/node ] || [ ! -e node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  npm install --no-audit --no-fund --loglevel=error
fi
NODE=node_modules/node/bin/node
case "$($NODE --version)" in v26.*) ;; *) say "node_modules/node is not Node 26"; exit 1 ;; esac

say "building"
sh scripts/build.sh

if [ ! -s build/images/busybox.tar ] || [ "$(command -v busybox)" -nt build/images/busybox.tar ]; then
  say "building the busybox:latest image from $(command -v busybox)"
  mkdir -p build/images
  $NODE dist/scripts/make-busybox-image.js build/images/busybox.tar
fi
say "ready"
