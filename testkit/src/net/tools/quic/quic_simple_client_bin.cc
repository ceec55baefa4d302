// Copyright 2026 The build-quiche test fixture authors.
// Chromium's toy QUIC client: quiche's QuicToyClient with a client factory
// on Chromium's side. In Chromium the client is built on Chromium's network
// stack with one connected socket; in the fixture both clients share quiche's
// QuicDefaultClient.

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "quiche/common/platform/api/quiche_command_line_flags.h"
#include "quiche/quic/platform/api/quic_socket_address.h"
#include "quiche/quic/tools/quic_default_client.h"
#include "quiche/quic/tools/quic_toy_client.h"

namespace {

class QuicSimpleClientFactory : public quic::QuicToyClient::ClientFactory {
 public:
  std::unique_ptr<quic::QuicDefaultClient> CreateClient(
      std::string host_for_handshake, std::string host_for_lookup,
      uint16_t port, std::string version, bool verify_certificates,
      std::string interface_name,
      quic::QuicIpAddress bind_to_address) override {
    quic::QuicIpAddress ip_addr;
    if (!quic::ResolveIpv4Host(host_for_lookup, &ip_addr)) {
      std::cerr << "Unable to resolve '" << host_for_lookup << "' : "
                << "ERR_NAME_NOT_RESOLVED" << std::endl;
      return nullptr;
    }
    auto client = std::make_unique<quic::QuicDefaultClient>(
        quic::QuicSocketAddress(ip_addr, port), std::move(host_for_handshake),
        std::move(version), verify_certificates);
    client->set_interface_name(interface_name);
    if (bind_to_address.IsInitialized()) {
      client->set_bind_to_address(bind_to_address);
    }
    return client;
  }
};

}  // namespace

int main(int argc, char* argv[]) {
  const char* usage = "Usage: quic_client [options] <url>";
  std::vector<std::string> urls =
      quiche::QuicheParseCommandLineFlags(usage, argc, argv);
  if (urls.size() != 1) {
    quiche::QuichePrintCommandLineFlagHelp(usage);
    exit(0);
  }

  QuicSimpleClientFactory factory;
  quic::QuicToyClient client(&factory);
  return client.SendRequestsAndPrintResponses(urls);
}
