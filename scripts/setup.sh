#!/usr/bin/env bash
# One-time (idempotent) setup of a fresh Debian/Ubuntu machine for build-quiche and its tests:
# the host tools the pipeline and the local test upstream use, then npm ci (which also compiles).
#   --docker   also podman, buildah, runc, debootstrap and podman-compose, for `npm run test:docker`
#              (docs/docker.md; podman-compose runs examples/docker-compose there)
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# git (+ http-backend for the test server), python3 (gclient; the fake one in tests), gn and ninja,
# g++/make, openssl, readelf (binutils), and what preflight checks for Chromium's hooks.
# The standalone quiche backend: cmake (BoringSSL, abseil, protobuf) and ccache (fast rebuilds).
# The migration lab: iproute2 (namespaces, veth, tc), WireGuard (wireguard-go over /dev/net/tun when the
# kernel has no module), tcpdump captures read with tshark, chromium to screenshot the report, and
# docker-compose (v1, Python) to validate examples/docker-compose without a container engine.
# distcc (client and distccd): `distributed.engine: 'distcc'` and its tests, which run real daemons in
# network namespaces (docs/distributed.md).
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  git python3 generate-ninja ninja-build g++ g++-12 gcc-12 make openssl binutils curl lsb-release file xz-utils ca-certificates \
  cmake ccache pkg-config iproute2 wireguard-tools wireguard-go tcpdump tshark chromium docker-compose distcc \
  >/dev/null
if [ "${1:-}" = "--docker" ]; then
  $SUDO apt-get install -y -qq --no-install-recommends podman buildah runc debootstrap podman-compose >/dev/null
fi

npm ci --no-audit --no-fund
