// Copyright 2026 The build-quiche test fixture authors.
// 8-byte connection IDs, printed as 16 hex digits.

#ifndef QUICHE_QUIC_CORE_QUIC_CONNECTION_ID_H_
#define QUICHE_QUIC_CORE_QUIC_CONNECTION_ID_H_

#include <sys/random.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace quic {

class QuicConnectionId {
 public:
  QuicConnectionId() = default;
  explicit QuicConnectionId(uint64_t value) : value_(value) {}

  static QuicConnectionId Random() {
    uint64_t value = 0;
    while (value == 0) {
      if (getrandom(&value, sizeof(value), 0) != sizeof(value)) value = 0;
    }
    return QuicConnectionId(value);
  }

  uint64_t value() const { return value_; }
  bool IsEmpty() const { return value_ == 0; }
  std::string ToString() const {
    char buffer[17];
    std::snprintf(buffer, sizeof(buffer), "%016llx",
                  static_cast<unsigned long long>(value_));
    return buffer;
  }

  bool operator==(const QuicConnectionId& other) const {
    return value_ == other.value_;
  }
  bool operator!=(const QuicConnectionId& other) const {
    return value_ != other.value_;
  }
  bool operator<(const QuicConnectionId& other) const {
    return value_ < other.value_;
  }

 private:
  uint64_t value_ = 0;
};

}  // namespace quic

#endif  // QUICHE_QUIC_CORE_QUIC_CONNECTION_ID_H_
