// Copyright 2026 The build-quiche test fixture authors.
// Chromium's toy QUIC server: quiche's QuicToyServer with the memory cache
// backend.

#include <cstdlib>
#include <string>
#include <vector>

#include "quiche/common/platform/api/quiche_command_line_flags.h"
#include "quiche/quic/tools/quic_toy_server.h"

int main(int argc, char* argv[]) {
  const char* usage = "Usage: quic_server [options]";
  std::vector<std::string> non_option_args =
      quiche::QuicheParseCommandLineFlags(usage, argc, argv);
  if (!non_option_args.empty()) {
    quiche::QuichePrintCommandLineFlagHelp(usage);
    exit(0);
  }

  quic::QuicToyServer::MemoryCacheBackendFactory backend_factory;
  quic::QuicToyServer server(&backend_factory);
  return server.Start();
}
