#!/usr/bin/env bash
# A self-contained rootful podman for trying `build-quiche --docker` on a host without Docker (the
# recipe of docs/docker.md): runc + cgroupfs, storage, run state and network config under DIR, and
# a local Debian base image made with debootstrap (for hosts that cannot pull from a registry).
#
#   eval "$(sudo scripts/podman-sandbox.sh /tmp/bq-podman)"     # prints the exports to use
#   build-quiche --docker --set docker.baseImage=localhost/debian:bookworm doctor
#   scripts/podman-sandbox.sh --remove /tmp/bq-podman            # containers, images, state, DIR
#
# Podman still writes a little outside DIR whatever its config says (c/image's blob-info cache in
# /var/lib/containers/cache, /run/containers/networks); --remove leaves those.
#
# Environment: SUITE (default bookworm), MIRROR (default: the Debian mirror apt uses here).
set -euo pipefail

if [ "${1:-}" = "--remove" ]; then
  dir="$(realpath "${2:?usage: $0 --remove DIR}")"
  export CONTAINERS_CONF="$dir/containers.conf" CONTAINERS_STORAGE_CONF="$dir/storage.conf"
  podman rm --all --force --time 0 >/dev/null 2>&1 || true
  podman system reset --force >/dev/null 2>&1 || true
  rm -rf "$dir"
  exit 0
fi

dir="${1:?usage: $0 DIR | --remove DIR}"
suite="${SUITE:-bookworm}"
[ "$(id -u)" -eq 0 ] || { echo "run as root: this is rootful podman (see docs/docker.md for rootless)" >&2; exit 1; }
for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install -y podman buildah runc debootstrap" >&2; exit 1; }
done

mirror="${MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror="$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
    | grep -v security | sed -E 's/^URIs:[[:space:]]*//; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//; s/[[:space:]].*//' | head -n1 || true)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"

mkdir -p "$dir/cni"
dir="$(realpath "$dir")"
chmod 755 "$dir"
cat > "$dir/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$dir/libpod"
volume_path = "$dir/volumes"
[network]
network_config_dir = "$dir/cni"
EOF
cat > "$dir/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$dir/storage"
runroot = "$dir/runroot"
EOF
export CONTAINERS_CONF="$dir/containers.conf" CONTAINERS_STORAGE_CONF="$dir/storage.conf"

if ! podman image exists "localhost/debian:$suite"; then
  if [ ! -f "$dir/rootfs.tar" ]; then
    echo "debootstrap $suite from $mirror (a few minutes)..." >&2
    debootstrap --variant=minbase "$suite" "$dir/rootfs" "$mirror" >"$dir/debootstrap.log" 2>&1 \
      || { echo "debootstrap failed: $dir/debootstrap.log" >&2; exit 1; }
    tar -C "$dir/rootfs" --exclude='./dev/*' --exclude='./var/cache/apt/archives/*.deb' --exclude='./var/lib/apt/lists/*' -cf "$dir/rootfs.tar" .
    rm -rf "$dir/rootfs"
  fi
  podman import --quiet --change 'CMD ["/bin/bash"]' "$dir/rootfs.tar" "localhost/debian:$suite" >/dev/null
fi

echo "export CONTAINERS_CONF='$CONTAINERS_CONF' CONTAINERS_STORAGE_CONF='$CONTAINERS_STORAGE_CONF'"
echo "# base image: localhost/debian:$suite (pass --set docker.baseImage=localhost/debian:$suite)"
