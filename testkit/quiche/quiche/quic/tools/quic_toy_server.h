// Copyright 2026 The build-quiche test fixture authors.

#ifndef QUICHE_QUIC_TOOLS_QUIC_TOY_SERVER_H_
#define QUICHE_QUIC_TOOLS_QUIC_TOY_SERVER_H_

#include <memory>

#include "quiche/quic/tools/quic_simple_server_backend.h"

namespace quic {

// A binary wrapper for QuicServer. It listens forever on --port (default
// 6121) until it is killed or stopped with SIGTERM/SIGINT.
class QuicToyServer {
 public:
  // A factory for the backend that produces responses.
  class BackendFactory {
   public:
    virtual ~BackendFactory() = default;
    virtual std::unique_ptr<QuicSimpleServerBackend> CreateBackend() = 0;
  };

  // A backend factory which produces a backend as configured by the
  // --quic_response_cache_dir and --generate_dynamic_responses flags.
  class MemoryCacheBackendFactory : public BackendFactory {
   public:
    std::unique_ptr<QuicSimpleServerBackend> CreateBackend() override;
  };

  explicit QuicToyServer(BackendFactory* backend_factory);

  // Connects to the QUIC server based on the various flags defined in the
  // .cc file, listens for requests and sends the responses. Returns 1 on
  // failure and 0 on a clean shutdown.
  int Start();

 private:
  BackendFactory* backend_factory_;  // Unowned.
};

}  // namespace quic

#endif  // QUICHE_QUIC_TOOLS_QUIC_TOY_SERVER_H_
