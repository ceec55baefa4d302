#!/bin/sh
# wg-up.sh <ifname> <inner address/prefix> <self name> <peer name> [peer endpoint]
# A WireGuard interface with a fresh key pair: the kernel module when it loads, else wireguard-go.
# The two containers swap public keys through the shared /keys volume.
set -eu
ifname=$1 address=$2 self=$3 peer=$4 endpoint=${5:-}
umask 077
wg genkey > "/keys/$self.key"
wg pubkey < "/keys/$self.key" > "/keys/$self.pub.tmp" && mv "/keys/$self.pub.tmp" "/keys/$self.pub"
if ip link add "$ifname" type wireguard 2>/dev/null; then echo "WireGuard: kernel module"; else wireguard-go "$ifname" && echo "WireGuard: wireguard-go"; fi
while [ ! -s "/keys/$peer.pub" ]; do sleep 0.2; done
if [ -n "$endpoint" ]; then
  wg set "$ifname" private-key "/keys/$self.key" peer "$(cat "/keys/$peer.pub")" endpoint "$endpoint" allowed-ips 10.213.0.0/16
else
  wg set "$ifname" private-key "/keys/$self.key" listen-port 51820 peer "$(cat "/keys/$peer.pub")" allowed-ips 10.213.9.2/32
fi
ip addr add "$address" dev "$ifname"
ip link set "$ifname" up
