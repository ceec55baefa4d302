// Copyright 2026 The build-quiche test fixture authors.
// IPv4 addresses and endpoints for the fixture toy client and server.

#ifndef QUICHE_QUIC_PLATFORM_API_QUIC_SOCKET_ADDRESS_H_
#define QUICHE_QUIC_PLATFORM_API_QUIC_SOCKET_ADDRESS_H_

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace quic {

class QuicIpAddress {
 public:
  QuicIpAddress() = default;
  static QuicIpAddress Any4() { return FromHostOrder(INADDR_ANY); }
  static QuicIpAddress Loopback4() { return FromHostOrder(INADDR_LOOPBACK); }
  static QuicIpAddress FromHostOrder(uint32_t address) {
    QuicIpAddress ip;
    ip.initialized_ = true;
    ip.address_ = address;
    return ip;
  }

  // Parses a dotted IPv4 address. Returns false on anything else.
  bool FromString(const std::string& text) {
    in_addr parsed;
    if (inet_pton(AF_INET, text.c_str(), &parsed) != 1) return false;
    address_ = ntohl(parsed.s_addr);
    initialized_ = true;
    return true;
  }
  bool IsInitialized() const { return initialized_; }
  std::string ToString() const {
    if (!initialized_) return "";
    char buffer[INET_ADDRSTRLEN];
    in_addr raw;
    raw.s_addr = htonl(address_);
    inet_ntop(AF_INET, &raw, buffer, sizeof(buffer));
    return buffer;
  }
  bool InSameSubnet(const QuicIpAddress& other, int prefix_length) const {
    if (!initialized_ || !other.initialized_) return false;
    uint32_t mask =
        prefix_length == 0 ? 0 : ~uint32_t{0} << (32 - prefix_length);
    return (address_ & mask) == (other.address_ & mask);
  }
  uint32_t host_order() const { return address_; }

  bool operator==(const QuicIpAddress& other) const {
    return initialized_ == other.initialized_ && address_ == other.address_;
  }
  bool operator!=(const QuicIpAddress& other) const {
    return !(*this == other);
  }
  bool operator<(const QuicIpAddress& other) const {
    return address_ < other.address_;
  }

 private:
  bool initialized_ = false;
  uint32_t address_ = 0;  // host byte order
};

class QuicSocketAddress {
 public:
  QuicSocketAddress() = default;
  QuicSocketAddress(QuicIpAddress host, uint16_t port)
      : host_(host), port_(port) {}
  explicit QuicSocketAddress(const sockaddr_in& address)
      : host_(QuicIpAddress::FromHostOrder(ntohl(address.sin_addr.s_addr))),
        port_(ntohs(address.sin_port)) {}

  // The local address a socket is bound to.
  static QuicSocketAddress FromSocket(int fd) {
    sockaddr_in address;
    socklen_t length = sizeof(address);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      return QuicSocketAddress();
    }
    return QuicSocketAddress(address);
  }

  const QuicIpAddress& host() const { return host_; }
  uint16_t port() const { return port_; }
  bool IsInitialized() const { return host_.IsInitialized(); }
  sockaddr_in generic_address() const {
    sockaddr_in address;
    std::memset(&address, 0, sizeof(address));
    address.sin_family = AF_INET;
    address.sin_port = htons(port_);
    address.sin_addr.s_addr = htonl(host_.host_order());
    return address;
  }
  std::string ToString() const {
    return host_.ToString() + ":" + std::to_string(port_);
  }

  bool operator==(const QuicSocketAddress& other) const {
    return host_ == other.host_ && port_ == other.port_;
  }
  bool operator!=(const QuicSocketAddress& other) const {
    return !(*this == other);
  }
  bool operator<(const QuicSocketAddress& other) const {
    return host_ < other.host_ || (host_ == other.host_ && port_ < other.port_);
  }

 private:
  QuicIpAddress host_;
  uint16_t port_ = 0;
};

// Resolves |host| (a dotted address or a name such as "localhost") to an IPv4
// address.
inline bool ResolveIpv4Host(const std::string& host, QuicIpAddress* address) {
  if (address->FromString(host)) return true;
  addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* result = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &result) != 0 || !result) {
    return false;
  }
  *address =
      QuicSocketAddress(*reinterpret_cast<sockaddr_in*>(result->ai_addr)).host();
  freeaddrinfo(result);
  return true;
}

}  // namespace quic

#endif  // QUICHE_QUIC_PLATFORM_API_QUIC_SOCKET_ADDRESS_H_
