// Copyright 2026 The build-quiche test fixture authors.

#include "quiche/quic/tools/quic_toy_server.h"

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "quiche/common/platform/api/quiche_command_line_flags.h"
#include "quiche/quic/tools/quic_server.h"

DEFINE_QUICHE_COMMAND_LINE_FLAG(int32_t, port, 6121,
                                "The port the quic server will listen on.");

DEFINE_QUICHE_COMMAND_LINE_FLAG(
    std::string, quic_response_cache_dir, "",
    "Specifies the directory used during QuicHttpResponseCache "
    "construction to seed the cache. Cache directory can be "
    "generated using `wget -p --save-headers <url>`");

DEFINE_QUICHE_COMMAND_LINE_FLAG(
    bool, generate_dynamic_responses, false,
    "If true, then URLs which have a numeric path will send a dynamically "
    "generated response of that many bytes.");

DEFINE_QUICHE_COMMAND_LINE_FLAG(std::string, quic_versions, "",
                                "QUIC versions to enable, e.g. \"RFCv1\". If "
                                "not set, then all available versions are "
                                "enabled.");

DEFINE_QUICHE_COMMAND_LINE_FLAG(std::string, certificate_file, "",
                                "Path to the certificate chain.");

DEFINE_QUICHE_COMMAND_LINE_FLAG(std::string, key_file, "",
                                "Path to the pkcs8 private key.");

DEFINE_QUICHE_COMMAND_LINE_FLAG(
    int32_t, fixture_send_rate_mbps, 80,
    "Test fixture only: pace response data at this many megabits per second, "
    "so that a transfer on loopback lasts long enough to migrate.");

namespace quic {
namespace {

bool ReadWholeFile(const std::string& path, std::string* contents) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return false;
  char buffer[4096];
  size_t read;
  while ((read = std::fread(buffer, 1, sizeof(buffer), file)) > 0) {
    contents->append(buffer, read);
  }
  std::fclose(file);
  return true;
}

bool ReadPemFile(const std::string& path, const std::string& marker,
                 std::string* contents) {
  return ReadWholeFile(path, contents) &&
         contents->find("-----BEGIN ") != std::string::npos &&
         contents->find(marker) != std::string::npos;
}

// Like Chromium's ProofSourceChromium: --key_file holds a PKCS#8 private key in DER (an ASN.1
// SEQUENCE), not PEM. Only the outer structure is checked; this fixture has no crypto.
bool ReadDerPkcs8File(const std::string& path, std::string* contents) {
  return ReadWholeFile(path, contents) && contents->size() > 16 &&
         static_cast<unsigned char>((*contents)[0]) == 0x30 &&
         contents->find("-----BEGIN ") == std::string::npos;
}

std::vector<std::string> SupportedVersions() {
  std::string flag = GetQuicFlag(FLAGS_quic_versions);
  if (flag.empty()) return {"RFCv1", "draft29"};
  std::vector<std::string> versions;
  size_t start = 0;
  while (start <= flag.size()) {
    size_t comma = flag.find(',', start);
    if (comma == std::string::npos) comma = flag.size();
    versions.push_back(flag.substr(start, comma - start));
    start = comma + 1;
  }
  return versions;
}

}  // namespace

std::unique_ptr<QuicSimpleServerBackend>
QuicToyServer::MemoryCacheBackendFactory::CreateBackend() {
  auto backend = std::make_unique<QuicSimpleServerBackend>();
  if (GetQuicFlag(FLAGS_generate_dynamic_responses)) {
    backend->set_generate_dynamic_responses(true);
  }
  if (!GetQuicFlag(FLAGS_quic_response_cache_dir).empty() &&
      !backend->InitializeBackend(GetQuicFlag(FLAGS_quic_response_cache_dir))) {
    std::cerr << "Failed to read --quic_response_cache_dir="
              << GetQuicFlag(FLAGS_quic_response_cache_dir) << std::endl;
    return nullptr;
  }
  return backend;
}

QuicToyServer::QuicToyServer(BackendFactory* backend_factory)
    : backend_factory_(backend_factory) {}

int QuicToyServer::Start() {
  std::string certificate;
  if (!ReadPemFile(GetQuicFlag(FLAGS_certificate_file), "CERTIFICATE",
                   &certificate)) {
    std::cerr << "Failed to load certificate chain from --certificate_file="
              << GetQuicFlag(FLAGS_certificate_file) << std::endl;
    return 1;
  }
  std::string key;
  if (!ReadDerPkcs8File(GetQuicFlag(FLAGS_key_file), &key)) {
    std::cerr << "Failed to load private key from --key_file="
              << GetQuicFlag(FLAGS_key_file) << std::endl;
    return 1;
  }
  std::unique_ptr<QuicSimpleServerBackend> backend =
      backend_factory_->CreateBackend();
  if (backend == nullptr) return 1;

  uint64_t rate =
      static_cast<uint64_t>(GetQuicFlag(FLAGS_fixture_send_rate_mbps)) *
      1000 * 1000 / 8;
  QuicServer server(certificate.substr(0, 64), backend.get(),
                    SupportedVersions(), rate);
  if (!server.CreateUDPSocketAndListen(QuicSocketAddress(
          QuicIpAddress::Any4(),
          static_cast<uint16_t>(GetQuicFlag(FLAGS_port))))) {
    return 1;
  }
  server.HandleEventsForever();
  return 0;
}

}  // namespace quic
