#!/bin/sh
# net-up.sh <direct address/prefix> <underlay address/prefix>
# Puts the demo's own addresses on the two networks, next to the ones the engine gave the container
# from its pool (the compose file has no static addresses: Debian 12's podman-compose would ignore
# them). Both containers see the same two bridges; the one with the lower subnet is the direct
# network (listed first, so created first; the names sort the same way).
set -eu
direct=$1 underlay=$2
# The containers' networks: one route per bridge ("10.89.0.0/24 dev eth0 ..."), ordered by subnet.
set -- $(ip -4 -o route show scope link | awk '{print $1, $3}' | sort -t. -n -k1,1 -k2,2 -k3,3 -k4,4 | awk '{print $2}')
if [ $# -lt 2 ]; then echo "net-up.sh: expected two networks, found: $*" >&2; exit 1; fi
ip addr replace "$direct" dev "$1"
ip addr replace "$underlay" dev "$2"
echo "networks: direct $direct on $1, underlay $underlay on $2"
