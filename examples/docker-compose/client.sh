#!/bin/sh
# The client: a direct path (10.213.1.2) and a WireGuard tunnel (10.213.9.2) to the server's one
# address; packets from the tunnel address take the tunnel (policy routing). It migrates between
# them every MIGRATE_INTERVAL_MS during a download.
set -eu
net-up.sh 10.213.1.2/24 10.213.2.2/24
rm -f /keys/client.pub
wg-up.sh wg0 10.213.9.2/24 client server 10.213.2.1:51820
ip rule add from 10.213.9.2 lookup 213
ip route add default dev wg0 table 213
sleep 1
exec epoll_quic_client --host=10.213.1.1 --port=4433 --disable_certificate_verification --quiet \
  --migrate_local_addresses=10.213.1.2,10.213.9.2%wg0,10.213.1.2 \
  --migrate_interval_ms="$MIGRATE_INTERVAL_MS" --migrate_mode="$MIGRATE_MODE" \
  "https://localhost/$RESPONSE_BYTES"
