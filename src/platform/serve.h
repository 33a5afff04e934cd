// `agora serve` as a library call: load the models, build their backends, register the routes,
// listen, and run until SIGTERM/SIGINT has drained the server. The CLI (src/cli/cmd_serve.cpp)
// only fills ServeOptions; tests call run_serve-like pieces directly.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/util/status.h"
#include "platform/limits.h"
#include "platform/local_backend.h"
#include "platform/openai/model_registry.h"

namespace agora::platform {

struct ServeOptions {
  std::vector<std::string> models;       // GGUF files
  std::vector<std::string> models_dirs;  // every *.gguf inside
  std::vector<std::string> aliases;      // ids for `models`, in order (default: file stem)
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string api_key;
  // State and accounts: the data directory (Store + lock), and who may call (request_auth.h).
  std::string data_dir = "./data";
  bool auth = false;     // --auth: require an API key or a signed-in session
  bool no_auth = false;  // --no-auth: serve open even on a non-loopback address
  std::string web_dir;   // the built web app; empty = look for web/dist (serve.cpp)
  int http_threads = 2;
  LocalBackendOptions backend;
  ServerLimits limits;
  // Called once listening, with the bound port (the CLI prints it; tests read it).
  std::function<void(uint16_t)> on_listening;
};

// Loads every model (an unreadable or invalid file is an error naming it).
Result<std::unique_ptr<ModelRegistry>> load_models(const ServeOptions& options);

// Runs the server until a signal has drained it. Returns the process exit code (0 after a
// clean drain, 1 when listening fails, 2 on bad options or models).
int run_serve(const ServeOptions& options);

}  // namespace agora::platform
