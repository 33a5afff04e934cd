// `agora serve`: the OpenAI-compatible HTTP server (docs/api.md).
//
//   agora serve --model models/qwen2.5-0.5b-instruct-q4_k_m.gguf --port 8080
//   agora serve --models-dir ./models --api-key sk-local --parallel 8 --ctx-size 8192
//
// Prints "agora serve: listening on http://HOST:PORT" on stderr once ready. SIGTERM/SIGINT drain
// the server (new requests 503, in-flight ones finish) and exit 0.
#include <cstdlib>

#include "cli/commands.h"
#include "platform/serve.h"

namespace agora::cli {

void register_serve(CLI::App& app) {
  auto o = std::make_shared<platform::ServeOptions>();
  auto* cmd = app.add_subcommand("serve", "Serve models over the OpenAI-compatible HTTP API");
  cmd->add_option("-m,--model", o->models, "GGUF model file (repeatable)");
  cmd->add_option("--models-dir", o->models_dirs, "Serve every *.gguf in this directory (repeatable)");
  cmd->add_option("--alias", o->aliases, "Model id for the --model at the same position (default: file stem)");
  cmd->add_option("--host", o->host, "Address to listen on (default 127.0.0.1)");
  cmd->add_option("--port", o->port, "Port (default 8080; 0 = any free port)");
  cmd->add_option("--api-key", o->api_key, "Require 'Authorization: Bearer KEY' on /v1/ (default: $AGORA_API_KEY)");
  cmd->add_option("--parallel", o->backend.n_parallel, "Sequences decoded together per model (default 4)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("-c,--ctx-size", o->backend.n_ctx, "Context per sequence in tokens (default: min(training, 4096))");
  cmd->add_option("--max-queue", o->backend.max_queue, "Waiting requests per model before 429 (default 64)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-t,--threads", o->backend.n_threads, "Engine threads (default: physical cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--http-threads", o->http_threads, "HTTP I/O threads (default 2)")->check(CLI::PositiveNumber);
  cmd->add_option("--max-body-bytes", o->limits.max_body_bytes, "Request body limit (default 8 MiB)");
  cmd->add_option("--max-connections", o->limits.max_connections, "Open connection limit (default 4096)");
  cmd->callback([o] {
    if (o->api_key.empty())
      if (const char* k = std::getenv("AGORA_API_KEY")) o->api_key = k;
    if (o->models.empty() && o->models_dirs.empty()) {
      fail(2, "no model: pass --model FILE.gguf or --models-dir DIR (download one with `agora pull REPO/FILE.gguf`)");
      return;
    }
    set_exit_code(platform::run_serve(*o));
  });
}

}  // namespace agora::cli
