// The local engine as a Backend: the one place the platform names the Scheduler, so an upstream
// (OpenAI-compatible) backend can later be chosen here by configuration.
#pragma once

#include <cstdint>
#include <memory>

#include "engine/backend.h"
#include "engine/model.h"
#include "engine/vocab/vocab.h"

namespace agora::platform {

struct LocalBackendOptions {
  int n_parallel = 4;     // sequences decoded together
  int64_t n_ctx = 0;      // positions per sequence; 0 = the engine's default
  int n_threads = 0;      // 0 = physical cores
  int max_queue = 64;     // requests waiting for a slot before 429
};

Result<std::unique_ptr<Backend>> create_local_backend(const Model& model, const Vocab& vocab,
                                                      const LocalBackendOptions& options);

}  // namespace agora::platform
