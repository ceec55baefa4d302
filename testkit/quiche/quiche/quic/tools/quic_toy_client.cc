// Copyright 2026 The build-quiche test fixture authors.

// A binary wrapper for QuicClient.
// Connects to a host using QUIC, sends a request to the provided URL, and
// displays the response.
//
// Some usage examples:
//
// Standard request/response:
//   quic_client https://www.google.com
//   quic_client https://www.google.com --quiet
//   quic_client https://www.google.com --port=443
//
// Use a specific version:
//   quic_client https://www.google.com --quic_version=RFCv1
//
// Connect to a host different to the URL being requested:
//   quic_client mail.google.com --host=www.google.com
//
// Connect to a quic_server on localhost:
//   quic_client https://localhost/1000000 --host=127.0.0.1 --port=6121
//     --disable_certificate_verification

#include "quiche/quic/tools/quic_toy_client.h"

#include <cstdint>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "quiche/common/platform/api/quiche_command_line_flags.h"
#include "quiche/quic/core/quic_connection_id.h"
#include "quiche/quic/platform/api/quic_socket_address.h"
#include "quiche/quic/tools/quic_default_client.h"

DEFINE_QUICHE_COMMAND_LINE_FLAG(
    std::string, host, "",
    "The IP or hostname to connect to. If not provided, the host "
    "will be derived from the provided URL.");

DEFINE_QUICHE_COMMAND_LINE_FLAG(int32_t, port, 0, "The port to connect to.");

DEFINE_QUICHE_COMMAND_LINE_FLAG(std::string, ip_version_for_host_lookup, "",
                                "Only used if host address lookup is needed. "
                                "4=ipv4; 6=ipv6; otherwise=don't care.");

DEFINE_QUICHE_COMMAND_LINE_FLAG(bool, quiet, false,
                                "Set to true for a quieter output experience.");

DEFINE_QUICHE_COMMAND_LINE_FLAG(
    bool, output_resolved_server_address, false,
    "Set to true to print the resolved IP of the server.");

DEFINE_QUICHE_COMMAND_LINE_FLAG(
    std::string, quic_version, "",
    "QUIC version to speak, e.g. RFCv1. If not set, then all available "
    "versions are offered in the handshake.");

DEFINE_QUICHE_COMMAND_LINE_FLAG(
    bool, redirect_is_success, true,
    "If true, an HTTP response code of 3xx is considered to be a "
    "successful response, otherwise a failure.");

DEFINE_QUICHE_COMMAND_LINE_FLAG(
    int32_t, num_requests, 1,
    "How many sequential requests to make on a single connection.");

DEFINE_QUICHE_COMMAND_LINE_FLAG(
    bool, ignore_errors, false,
    "If true, ignore connection/response errors and send all num_requests "
    "anyway.");

DEFINE_QUICHE_COMMAND_LINE_FLAG(
    bool, disable_certificate_verification, false,
    "If true, don't verify the server certificate.");

DEFINE_QUICHE_COMMAND_LINE_FLAG(
    bool, drop_response_body, false,
    "If true, drop response body immediately after it is received.");

DEFINE_QUICHE_COMMAND_LINE_FLAG(
    std::string, interface_name, "",
    "Interface name to bind QUIC UDP sockets to.");

DEFINE_QUICHE_COMMAND_LINE_FLAG(
    std::string, bind_to_address, "",
    "If set, the local address the client socket binds to.");

DEFINE_QUICHE_COMMAND_LINE_FLAG(
    std::string, signing_algorithms_pref, "",
    "A textual specification of a set of signature algorithms that "
    "can be accepted by boring.");

namespace quic {
namespace {

// The parts of an https URL the toy client needs.
struct ParsedUrl {
  std::string host;
  uint16_t port = 443;
  std::string path = "/";
};

bool ParseUrl(const std::string& url, ParsedUrl* parsed) {
  std::string rest = url;
  size_t scheme_end = rest.find("://");
  if (scheme_end != std::string::npos) rest = rest.substr(scheme_end + 3);
  size_t path_start = rest.find('/');
  std::string authority = rest.substr(0, path_start);
  if (path_start != std::string::npos) parsed->path = rest.substr(path_start);
  size_t colon = authority.find(':');
  parsed->host = authority.substr(0, colon);
  if (colon != std::string::npos) {
    parsed->port = static_cast<uint16_t>(std::stoi(authority.substr(colon + 1)));
  }
  return !parsed->host.empty();
}

bool IsKnownVersion(const std::string& version) {
  static const std::set<std::string> kVersions = {"", "RFCv1", "RFCv2",
                                                  "draft29", "h3", "h3-29"};
  return kVersions.count(version) > 0;
}

}  // namespace

QuicToyClient::QuicToyClient(ClientFactory* client_factory)
    : client_factory_(client_factory) {}

int QuicToyClient::SendRequestsAndPrintResponses(
    std::vector<std::string> urls) {
  ParsedUrl url;
  if (!ParseUrl(urls[0], &url)) {
    std::cerr << "Invalid URL: " << urls[0] << std::endl;
    return 1;
  }
  std::string host = GetQuicFlag(FLAGS_host);
  if (host.empty()) {
    host = url.host;
  }
  int port = GetQuicFlag(FLAGS_port);
  if (port == 0) {
    port = url.port;
  }

  std::string quic_version_string = GetQuicFlag(FLAGS_quic_version);
  if (!IsKnownVersion(quic_version_string)) {
    std::cerr << "Unknown QUIC version " << quic_version_string << std::endl;
    return 1;
  }
  if (quic_version_string == "h3") quic_version_string = "RFCv1";
  if (quic_version_string == "h3-29") quic_version_string = "draft29";

  QuicIpAddress bind_to_address;
  if (!GetQuicFlag(FLAGS_bind_to_address).empty() &&
      !bind_to_address.FromString(GetQuicFlag(FLAGS_bind_to_address))) {
    std::cerr << "Invalid --bind_to_address "
              << GetQuicFlag(FLAGS_bind_to_address) << std::endl;
    return 1;
  }

  // Build the client, and try to connect.
  const std::string interface_name = GetQuicFlag(FLAGS_interface_name);
  std::unique_ptr<QuicDefaultClient> client = client_factory_->CreateClient(
      url.host, host, static_cast<uint16_t>(port), quic_version_string,
      !GetQuicFlag(FLAGS_disable_certificate_verification), interface_name,
      bind_to_address);

  if (client == nullptr) {
    std::cerr << "Failed to create client." << std::endl;
    return 1;
  }

  if (!client->Initialize()) {
    std::cerr << "Failed to initialize client: " << client->error_details()
              << std::endl;
    return 1;
  }
  if (!client->Connect()) {
    if (client->error() == "QUIC_INVALID_VERSION") {
      std::cerr << "Failed to negotiate version with " << host << ":" << port
                << ". " << client->error_details() << std::endl;
      return 1;
    }
    std::cerr << "Failed to connect to " << host << ":" << port
              << ". Error: " << client->error() << std::endl;
    return 1;
  }
  std::cout << "Connected to " << host << ":" << port << std::endl;

  // Make sure to store the response, for later output.
  client->set_store_response(!GetQuicFlag(FLAGS_drop_response_body));

  const int num_requests(GetQuicFlag(FLAGS_num_requests));
  for (int i = 0; i < num_requests; ++i) {
    // Send the request.
    client->SendRequestAndWaitForResponse(url.path);

    // Print request and response details.
    if (!GetQuicFlag(FLAGS_quiet)) {
      std::cout << "Request:" << std::endl;
      std::cout << "headers: { :method: GET :scheme: https :authority: "
                << url.host << " :path: " << url.path << " }" << std::endl;
      std::cout << "Response:" << std::endl;
      std::cout << "headers: { :status: " << client->latest_response_code()
                << " content-length: " << client->latest_response_body_size()
                << " }" << std::endl;
      const std::string& response_body = client->latest_response_body();
      // The fixture shortens big bodies so a large download stays readable.
      if (response_body.size() > 1024) {
        std::cout << "body: (" << response_body.size() << " bytes)"
                  << std::endl;
      } else {
        std::cout << "body: " << response_body << std::endl;
      }
    }

    if (!client->connected()) {
      std::cerr << "Request caused connection failure. Error: "
                << client->error() << " " << client->error_details()
                << std::endl;
      if (!GetQuicFlag(FLAGS_ignore_errors)) {
        return 1;
      }
    }

    int response_code = client->latest_response_code();
    if (response_code >= 200 && response_code < 300) {
      std::cout << "Request succeeded (" << response_code << ")." << std::endl;
    } else if (response_code >= 300 && response_code < 400) {
      if (GetQuicFlag(FLAGS_redirect_is_success)) {
        std::cout << "Request succeeded (redirect " << response_code << ")."
                  << std::endl;
      } else {
        std::cout << "Request failed (redirect " << response_code << ")."
                  << std::endl;
        if (!GetQuicFlag(FLAGS_ignore_errors)) {
          return 1;
        }
      }
    } else {
      std::cout << "Request failed (" << response_code << ")." << std::endl;
      if (!GetQuicFlag(FLAGS_ignore_errors)) {
        return 1;
      }
    }
  }

  return 0;
}

}  // namespace quic
