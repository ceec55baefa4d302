// Copyright 2026 The build-quiche test fixture authors.

#ifndef QUICHE_QUIC_CORE_QUIC_TIME_H_
#define QUICHE_QUIC_CORE_QUIC_TIME_H_

#include <time.h>

#include <cstdint>

namespace quic {

// Monotonic time in milliseconds.
inline int64_t QuicNowMs() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

}  // namespace quic

#endif  // QUICHE_QUIC_CORE_QUIC_TIME_H_
