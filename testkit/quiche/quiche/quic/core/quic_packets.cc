// Copyright 2026 The build-quiche test fixture authors.

#include "quiche/quic/core/quic_packets.h"

namespace quic {
namespace {

class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U16(uint16_t v) { Int(v, 2); }
  void U32(uint32_t v) { Int(v, 4); }
  void U64(uint64_t v) { Int(v, 8); }
  void Bytes(const std::string& s) {
    U16(static_cast<uint16_t>(s.size()));
    out_ += s;
  }
  std::string Take() { return std::move(out_); }

 private:
  void Int(uint64_t v, int size) {
    for (int i = size - 1; i >= 0; --i) {
      out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
  }
  std::string out_;
};

class Reader {
 public:
  Reader(const char* data, size_t length) : data_(data), length_(length) {}
  bool U8(uint8_t* v) {
    uint64_t x;
    if (!Int(&x, 1)) return false;
    *v = static_cast<uint8_t>(x);
    return true;
  }
  bool U16(uint16_t* v) {
    uint64_t x;
    if (!Int(&x, 2)) return false;
    *v = static_cast<uint16_t>(x);
    return true;
  }
  bool U32(uint32_t* v) {
    uint64_t x;
    if (!Int(&x, 4)) return false;
    *v = static_cast<uint32_t>(x);
    return true;
  }
  bool U64(uint64_t* v) { return Int(v, 8); }
  bool Bytes(std::string* s) {
    uint16_t size;
    if (!U16(&size) || length_ - position_ < size) return false;
    s->assign(data_ + position_, size);
    position_ += size;
    return true;
  }
  bool Done() const { return position_ == length_; }

 private:
  bool Int(uint64_t* v, size_t size) {
    if (length_ - position_ < size) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < size; ++i) {
      x = (x << 8) | static_cast<uint8_t>(data_[position_ + i]);
    }
    position_ += size;
    *v = x;
    return true;
  }
  const char* data_;
  size_t length_;
  size_t position_ = 0;
};

}  // namespace

std::string SerializePacket(const QuicToyPacket& packet) {
  Writer w;
  w.U8(static_cast<uint8_t>(packet.type));
  w.U64(packet.destination_connection_id.value());
  w.U64(packet.packet_number);
  switch (packet.type) {
    case QuicPacketType::kInitial:
      w.U64(packet.source_connection_id.value());
      w.Bytes(packet.version);
      break;
    case QuicPacketType::kVersionNegotiation:
      w.Bytes(packet.version);
      break;
    case QuicPacketType::kHandshake:
    case QuicPacketType::kNewConnectionId:
      w.U8(static_cast<uint8_t>(packet.connection_ids.size()));
      for (const QuicConnectionId& id : packet.connection_ids) w.U64(id.value());
      w.Bytes(packet.certificate);
      break;
    case QuicPacketType::kRequest:
      w.U32(packet.stream_id);
      w.Bytes(packet.authority);
      w.Bytes(packet.path);
      break;
    case QuicPacketType::kData:
      w.U32(packet.stream_id);
      w.U16(packet.status);
      w.U64(packet.total_length);
      w.U64(packet.offset);
      w.Bytes(packet.payload);
      break;
    case QuicPacketType::kAck:
      w.U32(packet.stream_id);
      w.U64(packet.offset);
      break;
    case QuicPacketType::kPathChallenge:
    case QuicPacketType::kPathResponse:
      w.U64(packet.path_data);
      break;
    case QuicPacketType::kConnectionClose:
      w.Bytes(packet.reason);
      break;
  }
  return w.Take();
}

bool ParsePacket(const char* data, size_t length, QuicToyPacket* packet) {
  Reader r(data, length);
  uint8_t type;
  uint64_t value;
  if (!r.U8(&type) || type < 1 || type > 10) return false;
  packet->type = static_cast<QuicPacketType>(type);
  if (!r.U64(&value)) return false;
  packet->destination_connection_id = QuicConnectionId(value);
  if (!r.U64(&packet->packet_number)) return false;
  bool ok = true;
  switch (packet->type) {
    case QuicPacketType::kInitial:
      ok = r.U64(&value) && r.Bytes(&packet->version);
      packet->source_connection_id = QuicConnectionId(value);
      break;
    case QuicPacketType::kVersionNegotiation:
      ok = r.Bytes(&packet->version);
      break;
    case QuicPacketType::kHandshake:
    case QuicPacketType::kNewConnectionId: {
      uint8_t count;
      ok = r.U8(&count);
      for (uint8_t i = 0; ok && i < count; ++i) {
        ok = r.U64(&value);
        packet->connection_ids.push_back(QuicConnectionId(value));
      }
      ok = ok && r.Bytes(&packet->certificate);
      break;
    }
    case QuicPacketType::kRequest:
      ok = r.U32(&packet->stream_id) && r.Bytes(&packet->authority) &&
           r.Bytes(&packet->path);
      break;
    case QuicPacketType::kData:
      ok = r.U32(&packet->stream_id) && r.U16(&packet->status) &&
           r.U64(&packet->total_length) && r.U64(&packet->offset) &&
           r.Bytes(&packet->payload);
      break;
    case QuicPacketType::kAck:
      ok = r.U32(&packet->stream_id) && r.U64(&packet->offset);
      break;
    case QuicPacketType::kPathChallenge:
    case QuicPacketType::kPathResponse:
      ok = r.U64(&packet->path_data);
      break;
    case QuicPacketType::kConnectionClose:
      ok = r.Bytes(&packet->reason);
      break;
  }
  return ok && r.Done();
}

}  // namespace quic
