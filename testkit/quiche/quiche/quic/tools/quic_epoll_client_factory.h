// Copyright 2026 The build-quiche test fixture authors.

#ifndef QUICHE_QUIC_TOOLS_QUIC_EPOLL_CLIENT_FACTORY_H_
#define QUICHE_QUIC_TOOLS_QUIC_EPOLL_CLIENT_FACTORY_H_

#include <iostream>
#include <memory>
#include <string>

#include "quiche/quic/tools/quic_toy_client.h"

namespace quic {

// Creates the standalone client. It resolves |host_for_lookup| itself.
class QuicEpollClientFactory : public QuicToyClient::ClientFactory {
 public:
  std::unique_ptr<QuicDefaultClient> CreateClient(
      std::string host_for_handshake, std::string host_for_lookup,
      uint16_t port, std::string version, bool verify_certificates,
      std::string interface_name, QuicIpAddress bind_to_address) override {
    QuicIpAddress address;
    if (!ResolveIpv4Host(host_for_lookup, &address)) {
      std::cerr << "Unable to resolve address: " << host_for_lookup
                << std::endl;
      return nullptr;
    }
    auto client = std::make_unique<QuicDefaultClient>(
        QuicSocketAddress(address, port), std::move(host_for_handshake),
        std::move(version), verify_certificates);
    client->set_interface_name(interface_name);
    if (bind_to_address.IsInitialized()) {
      client->set_bind_to_address(bind_to_address);
    }
    return client;
  }
};

}  // namespace quic

#endif  // QUICHE_QUIC_TOOLS_QUIC_EPOLL_CLIENT_FACTORY_H_
