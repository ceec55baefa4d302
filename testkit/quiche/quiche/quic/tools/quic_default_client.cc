// Copyright 2026 The build-quiche test fixture authors.

#include "quiche/quic/tools/quic_default_client.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "quiche/quic/core/quic_udp_socket.h"

namespace quic {
namespace {

constexpr int64_t kHandshakeTimeoutMs = 5000;
constexpr int64_t kInitialRetransmissionMs = 250;
constexpr int64_t kRequestRetransmissionMs = 200;
constexpr int64_t kIdleTimeoutMs = 10000;
constexpr int64_t kAckDelayMs = 5;
constexpr int64_t kDuplicateAckIntervalMs = 2;
constexpr int kPacketsPerAck = 8;

}  // namespace

QuicDefaultClient::QuicDefaultClient(QuicSocketAddress server_address,
                                     std::string server_host,
                                     std::string version,
                                     bool verify_certificates)
    : server_address_(server_address),
      server_host_(std::move(server_host)),
      version_(std::move(version)),
      verify_certificates_(verify_certificates) {}

QuicDefaultClient::~QuicDefaultClient() {
  Disconnect();
  if (fd_ >= 0) close(fd_);
}

bool QuicDefaultClient::Initialize() {
  QuicIpAddress host =
      bind_to_address_.IsInitialized() ? bind_to_address_ : QuicIpAddress::Any4();
  fd_ = CreateUdpSocket(
      QuicSocketAddress(host, static_cast<uint16_t>(local_port_)), &error_details_);
  if (fd_ < 0) {
    error_ = "QUIC_SOCKET_ERROR";
    return false;
  }
  if (!interface_name_.empty() &&
      setsockopt(fd_, SOL_SOCKET, SO_BINDTODEVICE, interface_name_.c_str(),
                 interface_name_.size()) != 0) {
    error_ = "QUIC_SOCKET_ERROR";
    error_details_ = "cannot bind to interface " + interface_name_ + ": " +
                     std::strerror(errno);
    return false;
  }
  self_address_ = QuicSocketAddress::FromSocket(fd_);
  return true;
}

bool QuicDefaultClient::Connect() {
  client_connection_id_ = QuicConnectionId::Random();
  initial_destination_id_ = QuicConnectionId::Random();
  connected_ = true;
  int64_t start_ms = QuicNowMs();
  int64_t last_initial_ms = 0;
  while (connected_ && !handshake_done_) {
    int64_t now_ms = QuicNowMs();
    if (now_ms - start_ms > kHandshakeTimeoutMs) {
      Fail("QUIC_NETWORK_IDLE_TIMEOUT",
           "No recent network activity after 5000ms. Timeout:5s");
      break;
    }
    if (now_ms - last_initial_ms >= kInitialRetransmissionMs) {
      QuicToyPacket initial;
      initial.type = QuicPacketType::kInitial;
      initial.destination_connection_id = initial_destination_id_;
      initial.source_connection_id = client_connection_id_;
      initial.version = version_;
      Send(initial);
      last_initial_ms = now_ms;
    }
    if (WaitReadable(fd_, 20)) ProcessPackets();
  }
  if (handshake_done_ && connected_) {
    // The handshake packet itself arrived on the first path.
    current_path_confirmed_ = true;
    last_packet_received_ms_ = QuicNowMs();
  }
  return handshake_done_ && connected_;
}

void QuicDefaultClient::Disconnect() {
  if (!connected_) return;
  if (handshake_done_) {
    QuicToyPacket close;
    close.type = QuicPacketType::kConnectionClose;
    close.reason = "client done";
    Send(close);
  }
  connected_ = false;
}

void QuicDefaultClient::SendRequest(const std::string& path) {
  stream_id_ = next_stream_id_;
  next_stream_id_ += 4;
  request_path_ = path;
  request_pending_ = true;
  response_started_ = false;
  response_code_ = 0;
  response_total_ = 0;
  response_received_ = 0;
  response_body_.clear();
  packets_since_ack_ = 0;
  QuicToyPacket request;
  request.type = QuicPacketType::kRequest;
  request.stream_id = stream_id_;
  request.authority = server_host_;
  request.path = path;
  Send(request);
  last_request_sent_ms_ = QuicNowMs();
}

bool QuicDefaultClient::WaitForEvents() {
  if (!connected_) return false;
  if (WaitReadable(fd_, 10)) ProcessPackets();
  RunTimers(QuicNowMs());
  return connected_ && request_pending_;
}

void QuicDefaultClient::SendRequestAndWaitForResponse(const std::string& path) {
  SendRequest(path);
  while (WaitForEvents()) {
  }
}

bool QuicDefaultClient::MigrateSocketWithSpecifiedPort(
    const QuicIpAddress& new_host, int port) {
  if (!HasUnusedConnectionId()) {
    migration_error_ = "no_spare_cid";
    return false;
  }
  std::string bind_error;
  int fd = CreateUdpSocket(
      QuicSocketAddress(new_host, static_cast<uint16_t>(port)), &bind_error);
  if (fd < 0) {
    migration_error_ = "bind_failed";
    return false;
  }
  close(fd_);
  fd_ = fd;
  self_address_ = QuicSocketAddress::FromSocket(fd_);
  server_connection_id_ = unused_server_ids_.front();
  unused_server_ids_.pop_front();
  current_path_confirmed_ = false;
  SendAck();
  return true;
}

void QuicDefaultClient::ProcessPackets() {
  char buffer[kMaxPacketSize + 64];
  QuicSocketAddress from;
  int length;
  while (connected_ &&
         (length = ReadUdpPacket(fd_, buffer, sizeof(buffer), &from)) > 0) {
    if (from != server_address_) continue;
    QuicToyPacket packet;
    if (!ParsePacket(buffer, length, &packet)) continue;
    if (packet.destination_connection_id != client_connection_id_) continue;
    last_packet_received_ms_ = QuicNowMs();
    current_path_confirmed_ = true;
    ProcessPacket(packet);
  }
}

void QuicDefaultClient::ProcessPacket(const QuicToyPacket& packet) {
  switch (packet.type) {
    case QuicPacketType::kVersionNegotiation:
      if (!handshake_done_) {
        Fail("QUIC_INVALID_VERSION",
             "Client offered \"" + version_ + "\", server supports " +
                 packet.version);
      }
      return;
    case QuicPacketType::kHandshake:
      if (handshake_done_ || packet.connection_ids.empty()) return;
      if (verify_certificates_) {
        Fail("QUIC_HANDSHAKE_FAILED",
             "TLS handshake failure (ENCRYPTION_HANDSHAKE) 46: certificate "
             "unknown. Certificate verification failed for " +
                 server_host_ + ": unable to get local issuer certificate");
        return;
      }
      server_connection_id_ = packet.connection_ids.front();
      unused_server_ids_.assign(packet.connection_ids.begin() + 1,
                                packet.connection_ids.end());
      handshake_done_ = true;
      return;
    case QuicPacketType::kNewConnectionId:
      for (const QuicConnectionId& id : packet.connection_ids) {
        unused_server_ids_.push_back(id);
      }
      return;
    case QuicPacketType::kPathChallenge: {
      QuicToyPacket response;
      response.type = QuicPacketType::kPathResponse;
      response.path_data = packet.path_data;
      Send(response);
      return;
    }
    case QuicPacketType::kConnectionClose:
      Fail("QUIC_PEER_GOING_AWAY", packet.reason);
      return;
    case QuicPacketType::kData: {
      if (!request_pending_ || packet.stream_id != stream_id_) {
        // A retransmission for a response we already have: our final ACK was
        // lost, so acknowledge everything again.
        if (packet.stream_id < next_stream_id_) {
          SendAck(packet.stream_id, packet.total_length);
        }
        return;
      }
      response_started_ = true;
      response_code_ = packet.status;
      response_total_ = packet.total_length;
      int64_t now_ms = QuicNowMs();
      if (packet.offset == response_received_) {
        if (store_response_) response_body_ += packet.payload;
        response_received_ += packet.payload.size();
        if (response_received_ >= response_total_) {
          request_pending_ = false;
          SendAck();
        } else if (++packets_since_ack_ >= kPacketsPerAck) {
          SendAck();
        }
      } else if (packet.offset > response_received_ &&
                 now_ms - last_ack_sent_ms_ >= kDuplicateAckIntervalMs) {
        SendAck();
      }
      return;
    }
    default:
      return;
  }
}

void QuicDefaultClient::RunTimers(int64_t now_ms) {
  if (!connected_) return;
  if (now_ms - last_packet_received_ms_ > kIdleTimeoutMs) {
    Fail("QUIC_NETWORK_IDLE_TIMEOUT", "No recent network activity after 10s.");
    return;
  }
  if (request_pending_ && !response_started_ &&
      now_ms - last_request_sent_ms_ >= kRequestRetransmissionMs) {
    QuicToyPacket request;
    request.type = QuicPacketType::kRequest;
    request.stream_id = stream_id_;
    request.authority = server_host_;
    request.path = request_path_;
    Send(request);
    last_request_sent_ms_ = now_ms;
  }
  if (packets_since_ack_ > 0 && now_ms - last_ack_sent_ms_ >= kAckDelayMs) {
    SendAck();
  }
}

void QuicDefaultClient::SendAck() { SendAck(stream_id_, response_received_); }

void QuicDefaultClient::SendAck(uint32_t stream_id, uint64_t offset) {
  QuicToyPacket ack;
  ack.type = QuicPacketType::kAck;
  ack.stream_id = stream_id;
  ack.offset = offset;
  Send(ack);
  packets_since_ack_ = 0;
  last_ack_sent_ms_ = QuicNowMs();
}

void QuicDefaultClient::Send(QuicToyPacket packet) {
  if (packet.type != QuicPacketType::kInitial) {
    packet.destination_connection_id = server_connection_id_;
  }
  packet.packet_number = next_packet_number_++;
  SendUdpPacket(fd_, server_address_, SerializePacket(packet));
}

void QuicDefaultClient::Fail(const std::string& error,
                             const std::string& details) {
  error_ = error;
  error_details_ = details;
  connected_ = false;
  request_pending_ = false;
}

}  // namespace quic
