// Copyright 2026 The build-quiche test fixture authors.

#include "quiche/quic/tools/quic_simple_server_session.h"

#include <iostream>
#include <string>
#include <utility>

#include "quiche/quic/core/quic_utils.h"

namespace quic {

QuicSimpleServerSession::QuicSimpleServerSession(
    Visitor* visitor, const QuicConnectionId& client_connection_id,
    const QuicSocketAddress& peer_address, std::string certificate,
    uint64_t send_rate_bytes_per_second,
    QuicSimpleServerBackend* quic_simple_server_backend)
    : QuicServerSessionBase(visitor, client_connection_id, peer_address,
                            std::move(certificate),
                            send_rate_bytes_per_second),
      quic_simple_server_backend_(quic_simple_server_backend) {}

QuicSimpleServerSession::~QuicSimpleServerSession() = default;

void QuicSimpleServerSession::OnStreamFrame(const QuicToyPacket& frame) {
  uint16_t status = 0;
  std::string body;
  server_backend()->FetchResponse(frame.authority, frame.path, &status, &body);
  SendResponse(frame.stream_id, status, std::move(body));
}

}  // namespace quic
