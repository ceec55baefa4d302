// Copyright 2026 The build-quiche test fixture authors.

#ifndef QUICHE_QUIC_CORE_QUIC_UTILS_H_
#define QUICHE_QUIC_CORE_QUIC_UTILS_H_

#include <string>

#include "quiche/quic/platform/api/quic_socket_address.h"

namespace quic {

// How a peer's address changed, with quiche's names. The fixture only speaks
// IPv4, so the IPv6 kinds never occur.
enum AddressChangeType {
  NO_CHANGE,
  PORT_CHANGE,
  IPV4_SUBNET_CHANGE,
  IPV4_TO_IPV6_CHANGE,
  IPV6_TO_IPV4_CHANGE,
  IPV6_TO_IPV6_CHANGE,
  IPV4_TO_IPV4_CHANGE,
};

inline std::string AddressChangeTypeToString(AddressChangeType type) {
  switch (type) {
    case NO_CHANGE:
      return "NO_CHANGE";
    case PORT_CHANGE:
      return "PORT_CHANGE";
    case IPV4_SUBNET_CHANGE:
      return "IPV4_SUBNET_CHANGE";
    case IPV4_TO_IPV6_CHANGE:
      return "IPV4_TO_IPV6_CHANGE";
    case IPV6_TO_IPV4_CHANGE:
      return "IPV6_TO_IPV4_CHANGE";
    case IPV6_TO_IPV6_CHANGE:
      return "IPV6_TO_IPV6_CHANGE";
    case IPV4_TO_IPV4_CHANGE:
      return "IPV4_TO_IPV4_CHANGE";
  }
  return "INVALID_ADDRESS_CHANGE_TYPE";
}

// As quiche: a change within the same /24 counts as IPV4_SUBNET_CHANGE (a NAT
// rebinding), so 127.0.0.1 -> 127.0.0.2 is a subnet change.
inline AddressChangeType DetermineAddressChangeType(
    const QuicSocketAddress& old_address,
    const QuicSocketAddress& new_address) {
  if (!old_address.IsInitialized() || !new_address.IsInitialized() ||
      old_address == new_address) {
    return NO_CHANGE;
  }
  if (old_address.host() == new_address.host()) {
    return PORT_CHANGE;
  }
  const int kSubnetMaskLength = 24;
  if (old_address.host().InSameSubnet(new_address.host(), kSubnetMaskLength)) {
    return IPV4_SUBNET_CHANGE;
  }
  return IPV4_TO_IPV4_CHANGE;
}

}  // namespace quic

#endif  // QUICHE_QUIC_CORE_QUIC_UTILS_H_
