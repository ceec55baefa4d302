// Copyright 2026 The build-quiche test fixture authors.
// The standalone (epoll) toy client.

#include <cstdlib>
#include <string>
#include <vector>

#include "quiche/common/platform/api/quiche_command_line_flags.h"
#include "quiche/quic/tools/quic_epoll_client_factory.h"
#include "quiche/quic/tools/quic_toy_client.h"

int main(int argc, char* argv[]) {
  const char* usage = "Usage: quic_client [options] <url>";

  // All non-flag arguments should be interpreted as URLs to fetch.
  std::vector<std::string> urls =
      quiche::QuicheParseCommandLineFlags(usage, argc, argv);
  if (urls.size() != 1) {
    quiche::QuichePrintCommandLineFlagHelp(usage);
    exit(0);
  }

  quic::QuicEpollClientFactory factory;
  quic::QuicToyClient client(&factory);
  return client.SendRequestsAndPrintResponses(urls);
}
