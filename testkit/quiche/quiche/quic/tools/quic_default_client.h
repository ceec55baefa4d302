// Copyright 2026 The build-quiche test fixture authors.
// The fixture's client connection: handshake, sequential requests, and hard
// connection migration (new socket, next spare server connection ID).

#ifndef QUICHE_QUIC_TOOLS_QUIC_DEFAULT_CLIENT_H_
#define QUICHE_QUIC_TOOLS_QUIC_DEFAULT_CLIENT_H_

#include <cstdint>
#include <deque>
#include <string>

#include "quiche/quic/core/quic_connection_id.h"
#include "quiche/quic/core/quic_packets.h"
#include "quiche/quic/core/quic_time.h"
#include "quiche/quic/platform/api/quic_socket_address.h"

namespace quic {

class QuicDefaultClient {
 public:
  QuicDefaultClient(QuicSocketAddress server_address, std::string server_host,
                    std::string version, bool verify_certificates);
  ~QuicDefaultClient();

  QuicDefaultClient(const QuicDefaultClient&) = delete;
  QuicDefaultClient& operator=(const QuicDefaultClient&) = delete;

  // Where the first socket binds; unset means any address, any port.
  void set_bind_to_address(const QuicIpAddress& address) {
    bind_to_address_ = address;
  }
  void set_local_port(int port) { local_port_ = port; }
  void set_interface_name(const std::string& name) { interface_name_ = name; }
  void set_store_response(bool store) { store_response_ = store; }

  bool Initialize();
  // Runs the handshake. False with error() and error_details() set.
  bool Connect();
  void Disconnect();

  // Sends a request without waiting for the response.
  void SendRequest(const std::string& path);
  // Waits a little for packets and handles them. Returns true while the
  // latest response is still incomplete and the connection is open.
  bool WaitForEvents();
  void SendRequestAndWaitForResponse(const std::string& path);

  bool connected() const { return connected_; }
  int latest_response_code() const { return response_code_; }
  const std::string& latest_response_body() const { return response_body_; }
  uint64_t latest_response_body_size() const { return response_received_; }
  const std::string& error() const { return error_; }
  const std::string& error_details() const { return error_details_; }

  // Connection migration.
  bool HasUnusedConnectionId() const { return !unused_server_ids_.empty(); }
  // Hard migration: closes the current socket, binds a new one to
  // |new_host|:|port| (0: any port), switches to the next spare server
  // connection ID and sends from the new path. False (with
  // migration_error() set) if no spare ID is left or the bind fails; the old
  // path is then kept.
  bool MigrateSocketWithSpecifiedPort(const QuicIpAddress& new_host, int port);
  const std::string& migration_error() const { return migration_error_; }
  // True once a packet from the server arrived on the current socket.
  bool current_path_confirmed() const { return current_path_confirmed_; }
  QuicSocketAddress self_address() const { return self_address_; }
  const QuicConnectionId& server_connection_id() const {
    return server_connection_id_;
  }

 private:
  void ProcessPackets();
  void ProcessPacket(const QuicToyPacket& packet);
  void Send(QuicToyPacket packet);
  void SendAck();
  void SendAck(uint32_t stream_id, uint64_t offset);
  void RunTimers(int64_t now_ms);
  void Fail(const std::string& error, const std::string& details);

  QuicSocketAddress server_address_;
  std::string server_host_;
  std::string version_;
  bool verify_certificates_;
  QuicIpAddress bind_to_address_;
  int local_port_ = 0;
  std::string interface_name_;
  bool store_response_ = true;

  int fd_ = -1;
  QuicSocketAddress self_address_;
  bool connected_ = false;
  bool handshake_done_ = false;
  std::string error_;
  std::string error_details_;
  QuicConnectionId client_connection_id_;
  QuicConnectionId initial_destination_id_;
  QuicConnectionId server_connection_id_;
  std::deque<QuicConnectionId> unused_server_ids_;
  uint64_t next_packet_number_ = 1;
  int64_t last_packet_received_ms_ = 0;
  std::string migration_error_;
  bool current_path_confirmed_ = true;

  // The latest request.
  uint32_t next_stream_id_ = 0;
  uint32_t stream_id_ = 0;
  std::string request_path_;
  bool request_pending_ = false;
  bool response_started_ = false;
  int response_code_ = 0;
  uint64_t response_total_ = 0;
  uint64_t response_received_ = 0;
  std::string response_body_;
  int64_t last_request_sent_ms_ = 0;
  int packets_since_ack_ = 0;
  int64_t last_ack_sent_ms_ = 0;
};

}  // namespace quic

#endif  // QUICHE_QUIC_TOOLS_QUIC_DEFAULT_CLIENT_H_
