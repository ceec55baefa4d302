// Copyright 2026 The build-quiche test fixture authors.
// The fixture server's dispatcher and event loop: one UDP socket, sessions
// found by any of their server connection IDs.

#ifndef QUICHE_QUIC_TOOLS_QUIC_SERVER_H_
#define QUICHE_QUIC_TOOLS_QUIC_SERVER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "quiche/quic/tools/quic_simple_server_session.h"

namespace quic {

class QuicServer : public QuicServerSessionBase::Visitor {
 public:
  QuicServer(std::string certificate, QuicSimpleServerBackend* backend,
             std::vector<std::string> supported_versions,
             uint64_t send_rate_bytes_per_second);
  ~QuicServer() override;

  bool CreateUDPSocketAndListen(const QuicSocketAddress& address);
  // Runs until SIGTERM or SIGINT, then closes every connection.
  void HandleEventsForever();

  // QuicServerSessionBase::Visitor
  void OnNewConnectionIdIssued(const QuicConnectionId& id,
                               QuicServerSessionBase* session) override;
  void WritePacket(const QuicSocketAddress& peer_address,
                   const std::string& data) override;

 private:
  void ProcessPacket(const QuicSocketAddress& peer_address,
                     const QuicToyPacket& packet);
  void RemoveClosedSessions();

  std::string certificate_;
  QuicSimpleServerBackend* backend_;
  std::vector<std::string> supported_versions_;
  uint64_t send_rate_bytes_per_second_;
  int fd_ = -1;
  QuicSocketAddress self_address_;
  std::vector<std::unique_ptr<QuicSimpleServerSession>> sessions_;
  std::map<QuicConnectionId, QuicServerSessionBase*> sessions_by_id_;
  // Client-chosen initial destination IDs, to answer retransmitted INITIALs.
  std::map<QuicConnectionId, QuicServerSessionBase*> sessions_by_initial_id_;
};

}  // namespace quic

#endif  // QUICHE_QUIC_TOOLS_QUIC_SERVER_H_
