#!/bin/sh
# The server: the demo's addresses on both networks, a WireGuard endpoint on the underlay, tcpdump on
# every interface, and the QUIC server answering on 10.213.1.1 whichever path a packet came in on.
set -eu
net-up.sh 10.213.1.1/24 10.213.2.1/24
rm -f /keys/server.pub
wg-up.sh wg0 10.213.9.1/24 server client
# Answer tunnel peers from the direct address the client connected to.
ip route replace 10.213.9.0/24 dev wg0 src 10.213.1.1
# --immediate-mode: each packet reaches the file at once, so stopping the container loses none.
tcpdump -i any -n --immediate-mode -U -w /captures/server.pcap udp &
certs=/opt/quiche/current/certs
exec epoll_quic_server --port=4433 --certificate_file="$certs/leaf_cert.pem" --key_file="$certs/leaf_cert.pkcs8" --generate_dynamic_responses
