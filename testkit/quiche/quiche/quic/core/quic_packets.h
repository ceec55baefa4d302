// Copyright 2026 The build-quiche test fixture authors.
// The fixture's tiny QUIC-like wire format. Every packet starts with a type,
// the destination connection ID and a packet number; the rest depends on the
// type. It is not QUIC, but it has what connection migration needs:
// connection IDs, spare connection IDs and path validation.

#ifndef QUICHE_QUIC_CORE_QUIC_PACKETS_H_
#define QUICHE_QUIC_CORE_QUIC_PACKETS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "quiche/quic/core/quic_connection_id.h"

namespace quic {

enum class QuicPacketType : uint8_t {
  kInitial = 1,             // client -> server: source, version
  kVersionNegotiation = 2,  // server -> client: versions
  kHandshake = 3,           // server -> client: connection_ids, certificate
  kRequest = 4,             // client -> server: stream_id, authority, path
  kData = 5,                // server -> client: stream_id, status, offsets
  kAck = 6,                 // client -> server: stream_id, offset
  kPathChallenge = 7,       // server -> client: path_data
  kPathResponse = 8,        // client -> server: path_data
  kNewConnectionId = 9,     // server -> client: connection_ids
  kConnectionClose = 10,    // either way: reason
};

inline constexpr size_t kMaxPacketSize = 1350;
inline constexpr size_t kMaxStreamDataPerPacket = 1200;

struct QuicToyPacket {
  QuicPacketType type = QuicPacketType::kInitial;
  QuicConnectionId destination_connection_id;
  uint64_t packet_number = 0;

  QuicConnectionId source_connection_id;
  std::string version;
  std::vector<QuicConnectionId> connection_ids;
  std::string certificate;
  uint32_t stream_id = 0;
  std::string authority;
  std::string path;
  uint16_t status = 0;
  uint64_t total_length = 0;
  uint64_t offset = 0;
  std::string payload;
  uint64_t path_data = 0;
  std::string reason;
};

std::string SerializePacket(const QuicToyPacket& packet);
bool ParsePacket(const char* data, size_t length, QuicToyPacket* packet);

}  // namespace quic

#endif  // QUICHE_QUIC_CORE_QUIC_PACKETS_H_
