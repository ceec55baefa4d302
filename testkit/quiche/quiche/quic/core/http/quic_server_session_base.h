// Copyright 2026 The build-quiche test fixture authors.
// One server-side connection of the fixture protocol: connection IDs, paced
// and retransmitted response data, and peer address changes with path
// validation. The effective peer address (where data is sent) only moves to a
// new address once that address answered a PATH_CHALLENGE.

#ifndef QUICHE_QUIC_CORE_HTTP_QUIC_SERVER_SESSION_BASE_H_
#define QUICHE_QUIC_CORE_HTTP_QUIC_SERVER_SESSION_BASE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "quiche/quic/core/quic_connection_id.h"
#include "quiche/quic/core/quic_packets.h"
#include "quiche/quic/core/quic_time.h"
#include "quiche/quic/platform/api/quic_socket_address.h"

namespace quic {

class QuicServerSessionBase {
 public:
  class Visitor {
   public:
    virtual ~Visitor() = default;
    virtual void OnNewConnectionIdIssued(const QuicConnectionId& id,
                                         QuicServerSessionBase* session) = 0;
    virtual void WritePacket(const QuicSocketAddress& peer_address,
                             const std::string& data) = 0;
  };

  QuicServerSessionBase(Visitor* visitor,
                        const QuicConnectionId& client_connection_id,
                        const QuicSocketAddress& peer_address,
                        std::string certificate,
                        uint64_t send_rate_bytes_per_second);
  virtual ~QuicServerSessionBase();

  QuicServerSessionBase(const QuicServerSessionBase&) = delete;
  QuicServerSessionBase& operator=(const QuicServerSessionBase&) = delete;

  // Picks the connection IDs and sends the handshake.
  void Initialize();
  void ResendHandshake();

  virtual void ProcessUdpPacket(const QuicSocketAddress& self_address,
                                const QuicSocketAddress& peer_address,
                                const QuicToyPacket& packet);

  // Sends what pacing allows and runs timers. Returns true while response data
  // is waiting to be sent.
  bool OnCanWrite(int64_t now_ms);

  void CloseConnection(const std::string& reason, bool send_close);

  bool connected() const { return connected_; }
  const QuicSocketAddress& peer_address() const { return peer_address_; }
  const QuicConnectionId& first_server_connection_id() const {
    return server_connection_ids_.front();
  }
  // The server connection ID the peer uses on the current path.
  const QuicConnectionId& server_connection_id() const {
    return server_connection_id_;
  }
  int num_validated_peer_migrations() const { return validated_migrations_; }
  int num_failed_path_validations() const { return failed_validations_; }

 protected:
  // A request arrived on |frame.stream_id|; answer with SendResponse.
  virtual void OnStreamFrame(const QuicToyPacket& frame) = 0;
  virtual void OnConnectionClosed(const std::string& reason);

  void SendResponse(uint32_t stream_id, uint16_t status, std::string body);

 private:
  struct Stream {
    uint16_t status = 0;
    std::string body;
    uint64_t send_offset = 0;
    uint64_t acked_offset = 0;
    bool acked_any = false;
    bool sent_empty = false;
    int duplicate_acks = 0;
    uint64_t last_go_back_offset = UINT64_MAX;
    int64_t last_progress_ms = 0;
    bool complete() const { return acked_any && acked_offset >= body.size(); }
  };

  void Send(QuicToyPacket packet, const QuicSocketAddress& to);
  void OnAck(const QuicToyPacket& ack, int64_t now_ms);
  void StartPathValidation(const QuicSocketAddress& candidate,
                           const QuicConnectionId& connection_id);
  void OnPathResponse(const QuicSocketAddress& from, const QuicToyPacket& packet);
  void IssueNewConnectionId();
  void GoBack(Stream& stream);

  Visitor* visitor_;
  QuicConnectionId client_connection_id_;
  QuicSocketAddress peer_address_;
  std::string certificate_;
  bool connected_ = true;
  uint64_t next_packet_number_ = 1;
  uint64_t largest_received_packet_number_ = 0;
  std::vector<QuicConnectionId> server_connection_ids_;
  QuicConnectionId server_connection_id_;
  int64_t last_packet_time_ms_;

  std::map<uint32_t, Stream> streams_;
  double send_budget_bytes_ = 0;
  uint64_t send_rate_bytes_per_second_;
  int64_t last_send_time_ms_;

  // Path validation of a new peer address.
  bool validation_pending_ = false;
  QuicSocketAddress candidate_peer_address_;
  QuicConnectionId candidate_connection_id_;
  uint64_t challenge_data_ = 0;
  int challenges_sent_ = 0;
  int64_t last_challenge_time_ms_ = 0;
  int validated_migrations_ = 0;
  int failed_validations_ = 0;
};

}  // namespace quic

#endif  // QUICHE_QUIC_CORE_HTTP_QUIC_SERVER_SESSION_BASE_H_
