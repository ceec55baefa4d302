// Copyright 2026 The build-quiche test fixture authors.
// Where the fixture server's responses come from: files under a response
// cache directory (<dir>/<host>/<path>) and, with
// --generate_dynamic_responses, generated bodies for numeric paths.

#ifndef QUICHE_QUIC_TOOLS_QUIC_SIMPLE_SERVER_BACKEND_H_
#define QUICHE_QUIC_TOOLS_QUIC_SIMPLE_SERVER_BACKEND_H_

#include <cstdint>
#include <map>
#include <string>

namespace quic {

class QuicSimpleServerBackend {
 public:
  QuicSimpleServerBackend() = default;

  // Loads every file under |cache_directory|. False if it is not a directory.
  bool InitializeBackend(const std::string& cache_directory);
  void set_generate_dynamic_responses(bool generate) {
    generate_dynamic_responses_ = generate;
  }

  void FetchResponse(const std::string& authority, const std::string& path,
                     uint16_t* status, std::string* body) const;

 private:
  bool generate_dynamic_responses_ = false;
  std::map<std::string, std::string> responses_;  // "host/path" -> body
};

}  // namespace quic

#endif  // QUICHE_QUIC_TOOLS_QUIC_SIMPLE_SERVER_BACKEND_H_
