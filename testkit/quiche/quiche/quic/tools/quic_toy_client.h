// Copyright 2026 The build-quiche test fixture authors.
// A toy client: connects to a server, sends requests and prints responses.
// Both client binaries (Chromium's net:quic_client and the standalone
// epoll_quic_client) are built from it, so they share its flags.

#ifndef QUICHE_QUIC_TOOLS_QUIC_TOY_CLIENT_H_
#define QUICHE_QUIC_TOOLS_QUIC_TOY_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "quiche/quic/tools/quic_default_client.h"

namespace quic {

class QuicToyClient {
 public:
  class ClientFactory {
   public:
    virtual ~ClientFactory() = default;

    // Creates a new client configured to connect to |host_for_lookup:port|
    // supporting |version|, using |host_for_handshake| for the handshake.
    virtual std::unique_ptr<QuicDefaultClient> CreateClient(
        std::string host_for_handshake, std::string host_for_lookup,
        uint16_t port, std::string version, bool verify_certificates,
        std::string interface_name, QuicIpAddress bind_to_address) = 0;
  };

  // Constructs a new toy client that will use |client_factory| to create the
  // actual QuicDefaultClient instance.
  QuicToyClient(ClientFactory* client_factory);

  // Connects to the QUIC server based on the various flags defined in the
  // .cc file, sends requests and prints the responses. Returns 0 on success
  // and non-zero otherwise.
  int SendRequestsAndPrintResponses(std::vector<std::string> urls);

 private:
  ClientFactory* client_factory_;  // Unowned.
};

}  // namespace quic

#endif  // QUICHE_QUIC_TOOLS_QUIC_TOY_CLIENT_H_
