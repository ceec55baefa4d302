// Copyright 2026 The build-quiche test fixture authors.
// Non-blocking UDP sockets for the fixture toy client and server.

#ifndef QUICHE_QUIC_CORE_QUIC_UDP_SOCKET_H_
#define QUICHE_QUIC_CORE_QUIC_UDP_SOCKET_H_

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "quiche/quic/platform/api/quic_socket_address.h"

namespace quic {

// Returns the socket, or -1 with |error| set.
inline int CreateUdpSocket(const QuicSocketAddress& bind_address,
                           std::string* error) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::strerror(errno);
    return -1;
  }
  int buffer_size = 4 * 1024 * 1024;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_size, sizeof(buffer_size));
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer_size, sizeof(buffer_size));
  sockaddr_in address = bind_address.generic_address();
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    *error = std::strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

inline bool SendUdpPacket(int fd, const QuicSocketAddress& to,
                          const std::string& data) {
  sockaddr_in address = to.generic_address();
  ssize_t sent = sendto(fd, data.data(), data.size(), 0,
                        reinterpret_cast<sockaddr*>(&address), sizeof(address));
  return sent == static_cast<ssize_t>(data.size());
}

// Returns the number of bytes read, 0 when nothing is waiting.
inline int ReadUdpPacket(int fd, char* buffer, size_t size,
                         QuicSocketAddress* from) {
  sockaddr_in address;
  socklen_t length = sizeof(address);
  ssize_t read = recvfrom(fd, buffer, size, 0,
                          reinterpret_cast<sockaddr*>(&address), &length);
  if (read <= 0) return 0;
  *from = QuicSocketAddress(address);
  return static_cast<int>(read);
}

// Waits until |fd| is readable or |timeout_ms| passed. True if readable.
inline bool WaitReadable(int fd, int timeout_ms) {
  pollfd poll_fd{fd, POLLIN, 0};
  int result = poll(&poll_fd, 1, timeout_ms);
  return result > 0 && (poll_fd.revents & POLLIN);
}

}  // namespace quic

#endif  // QUICHE_QUIC_CORE_QUIC_UDP_SOCKET_H_
