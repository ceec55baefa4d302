// Copyright 2026 The build-quiche test fixture authors.
// A toy server-side session which answers requests from a
// QuicSimpleServerBackend.

#ifndef QUICHE_QUIC_TOOLS_QUIC_SIMPLE_SERVER_SESSION_H_
#define QUICHE_QUIC_TOOLS_QUIC_SIMPLE_SERVER_SESSION_H_

#include <cstdint>
#include <string>

#include "quiche/quic/core/http/quic_server_session_base.h"
#include "quiche/quic/core/quic_connection_id.h"
#include "quiche/quic/core/quic_packets.h"
#include "quiche/quic/platform/api/quic_socket_address.h"
#include "quiche/quic/tools/quic_simple_server_backend.h"

namespace quic {

class QuicSimpleServerSession : public QuicServerSessionBase {
 public:
  QuicSimpleServerSession(Visitor* visitor,
                          const QuicConnectionId& client_connection_id,
                          const QuicSocketAddress& peer_address,
                          std::string certificate,
                          uint64_t send_rate_bytes_per_second,
                          QuicSimpleServerBackend* quic_simple_server_backend);
  QuicSimpleServerSession(const QuicSimpleServerSession&) = delete;
  QuicSimpleServerSession& operator=(const QuicSimpleServerSession&) = delete;

  ~QuicSimpleServerSession() override;

  // Answers a request with the backend's response.
  void OnStreamFrame(const QuicToyPacket& frame) override;

 protected:
  QuicSimpleServerBackend* server_backend() {
    return quic_simple_server_backend_;
  }

 private:
  QuicSimpleServerBackend* quic_simple_server_backend_;  // Not owned.
};

}  // namespace quic

#endif  // QUICHE_QUIC_TOOLS_QUIC_SIMPLE_SERVER_SESSION_H_
