// Copyright 2026 The build-quiche test fixture authors.

#include "quiche/quic/core/http/quic_server_session_base.h"

#include <algorithm>

namespace quic {
namespace {

constexpr int kInitialSpareConnectionIds = 4;
constexpr uint64_t kMaxBytesInFlight = 256 * 1024;
constexpr double kMaxSendBurstBytes = 64 * 1024;
constexpr int64_t kRetransmissionTimeoutMs = 200;
constexpr int64_t kPathChallengeIntervalMs = 100;
constexpr int kMaxPathChallenges = 5;
constexpr int64_t kIdleTimeoutMs = 10000;

}  // namespace

QuicServerSessionBase::QuicServerSessionBase(
    Visitor* visitor, const QuicConnectionId& client_connection_id,
    const QuicSocketAddress& peer_address, std::string certificate,
    uint64_t send_rate_bytes_per_second)
    : visitor_(visitor),
      client_connection_id_(client_connection_id),
      peer_address_(peer_address),
      certificate_(std::move(certificate)),
      last_packet_time_ms_(QuicNowMs()),
      send_rate_bytes_per_second_(send_rate_bytes_per_second),
      last_send_time_ms_(QuicNowMs()) {}

QuicServerSessionBase::~QuicServerSessionBase() = default;

void QuicServerSessionBase::Initialize() {
  for (int i = 0; i <= kInitialSpareConnectionIds; ++i) {
    QuicConnectionId id = QuicConnectionId::Random();
    server_connection_ids_.push_back(id);
    visitor_->OnNewConnectionIdIssued(id, this);
  }
  server_connection_id_ = server_connection_ids_.front();
  ResendHandshake();
}

void QuicServerSessionBase::ResendHandshake() {
  QuicToyPacket handshake;
  handshake.type = QuicPacketType::kHandshake;
  handshake.connection_ids = server_connection_ids_;
  handshake.certificate = certificate_;
  Send(handshake, peer_address_);
}

void QuicServerSessionBase::ProcessUdpPacket(
    const QuicSocketAddress& /*self_address*/,
    const QuicSocketAddress& peer_address, const QuicToyPacket& packet) {
  if (!connected_) return;
  int64_t now_ms = QuicNowMs();
  last_packet_time_ms_ = now_ms;

  if (packet.type == QuicPacketType::kConnectionClose) {
    CloseConnection(packet.reason.empty() ? "peer closed" : packet.reason,
                    /*send_close=*/false);
    return;
  }
  if (packet.type == QuicPacketType::kPathResponse) {
    OnPathResponse(peer_address, packet);
    return;
  }

  // A newer packet from another address: the peer moved (or a NAT rebound).
  // Keep sending to the validated address until the new one answers.
  bool newest = packet.packet_number > largest_received_packet_number_;
  if (newest) largest_received_packet_number_ = packet.packet_number;
  if (newest && peer_address != peer_address_ &&
      !(validation_pending_ && candidate_peer_address_ == peer_address)) {
    StartPathValidation(peer_address, packet.destination_connection_id);
  } else if (newest && peer_address == peer_address_) {
    server_connection_id_ = packet.destination_connection_id;
  }

  switch (packet.type) {
    case QuicPacketType::kRequest:
      if (streams_.count(packet.stream_id) == 0) OnStreamFrame(packet);
      break;
    case QuicPacketType::kAck:
      OnAck(packet, now_ms);
      break;
    default:
      break;
  }
}

void QuicServerSessionBase::StartPathValidation(
    const QuicSocketAddress& candidate, const QuicConnectionId& connection_id) {
  if (validation_pending_) ++failed_validations_;
  validation_pending_ = true;
  candidate_peer_address_ = candidate;
  candidate_connection_id_ = connection_id;
  challenge_data_ = QuicConnectionId::Random().value();
  challenges_sent_ = 0;
  last_challenge_time_ms_ = 0;
}

void QuicServerSessionBase::OnPathResponse(const QuicSocketAddress& from,
                                           const QuicToyPacket& packet) {
  if (!validation_pending_ || from != candidate_peer_address_ ||
      packet.path_data != challenge_data_) {
    return;
  }
  validation_pending_ = false;
  peer_address_ = candidate_peer_address_;
  server_connection_id_ = candidate_connection_id_;
  ++validated_migrations_;
  IssueNewConnectionId();
  // Data sent to the old path since the peer left it is lost: resend it now
  // instead of waiting for the retransmission timer.
  for (auto& [id, stream] : streams_) {
    if (!stream.complete()) GoBack(stream);
  }
}

void QuicServerSessionBase::IssueNewConnectionId() {
  QuicConnectionId id = QuicConnectionId::Random();
  server_connection_ids_.push_back(id);
  visitor_->OnNewConnectionIdIssued(id, this);
  QuicToyPacket frame;
  frame.type = QuicPacketType::kNewConnectionId;
  frame.connection_ids.push_back(id);
  Send(frame, peer_address_);
}

void QuicServerSessionBase::OnAck(const QuicToyPacket& ack, int64_t now_ms) {
  auto it = streams_.find(ack.stream_id);
  if (it == streams_.end()) return;
  Stream& stream = it->second;
  if (ack.offset > stream.acked_offset || !stream.acked_any) {
    stream.acked_any = true;
    stream.acked_offset = std::max(stream.acked_offset, ack.offset);
    stream.send_offset = std::max(stream.send_offset, stream.acked_offset);
    stream.duplicate_acks = 0;
    stream.last_progress_ms = now_ms;
    return;
  }
  if (ack.offset == stream.acked_offset &&
      stream.send_offset > stream.acked_offset &&
      ++stream.duplicate_acks >= 3 &&
      stream.last_go_back_offset != stream.acked_offset) {
    stream.last_go_back_offset = stream.acked_offset;
    GoBack(stream);
  }
}

void QuicServerSessionBase::GoBack(Stream& stream) {
  stream.send_offset = stream.acked_offset;
  stream.sent_empty = false;
  stream.duplicate_acks = 0;
  stream.last_progress_ms = QuicNowMs();
}

void QuicServerSessionBase::SendResponse(uint32_t stream_id, uint16_t status,
                                         std::string body) {
  Stream& stream = streams_[stream_id];
  stream.status = status;
  stream.body = std::move(body);
  stream.last_progress_ms = QuicNowMs();
}

bool QuicServerSessionBase::OnCanWrite(int64_t now_ms) {
  if (!connected_) return false;
  if (now_ms - last_packet_time_ms_ > kIdleTimeoutMs) {
    CloseConnection("idle timeout", /*send_close=*/true);
    return false;
  }
  if (validation_pending_ &&
      now_ms - last_challenge_time_ms_ >= kPathChallengeIntervalMs) {
    if (challenges_sent_ >= kMaxPathChallenges) {
      validation_pending_ = false;
      ++failed_validations_;
    } else {
      QuicToyPacket challenge;
      challenge.type = QuicPacketType::kPathChallenge;
      challenge.path_data = challenge_data_;
      Send(challenge, candidate_peer_address_);
      ++challenges_sent_;
      last_challenge_time_ms_ = now_ms;
    }
  }

  double elapsed = static_cast<double>(now_ms - last_send_time_ms_) / 1000.0;
  last_send_time_ms_ = now_ms;
  send_budget_bytes_ = std::min(
      kMaxSendBurstBytes, send_budget_bytes_ + elapsed * send_rate_bytes_per_second_);

  bool waiting = false;
  for (auto& [id, stream] : streams_) {
    if (stream.complete()) continue;
    if (now_ms - stream.last_progress_ms > kRetransmissionTimeoutMs) {
      GoBack(stream);
    }
    uint64_t total = stream.body.size();
    while (send_budget_bytes_ >= kMaxStreamDataPerPacket &&
           stream.send_offset - stream.acked_offset < kMaxBytesInFlight &&
           (stream.send_offset < total || (total == 0 && !stream.sent_empty))) {
      QuicToyPacket data;
      data.type = QuicPacketType::kData;
      data.stream_id = id;
      data.status = stream.status;
      data.total_length = total;
      data.offset = stream.send_offset;
      uint64_t length =
          std::min<uint64_t>(kMaxStreamDataPerPacket, total - stream.send_offset);
      data.payload = stream.body.substr(stream.send_offset, length);
      Send(data, peer_address_);
      stream.send_offset += length;
      stream.sent_empty = true;
      send_budget_bytes_ -= static_cast<double>(length + 40);
    }
    waiting = waiting || stream.send_offset < total;
    break;  // One response at a time, in stream order.
  }
  return waiting || validation_pending_;
}

void QuicServerSessionBase::CloseConnection(const std::string& reason,
                                            bool send_close) {
  if (!connected_) return;
  if (send_close) {
    QuicToyPacket close;
    close.type = QuicPacketType::kConnectionClose;
    close.reason = reason;
    Send(close, peer_address_);
  }
  connected_ = false;
  OnConnectionClosed(reason);
}

void QuicServerSessionBase::OnConnectionClosed(const std::string& /*reason*/) {}

void QuicServerSessionBase::Send(QuicToyPacket packet,
                                 const QuicSocketAddress& to) {
  packet.destination_connection_id = client_connection_id_;
  packet.packet_number = next_packet_number_++;
  visitor_->WritePacket(to, SerializePacket(packet));
}

}  // namespace quic
