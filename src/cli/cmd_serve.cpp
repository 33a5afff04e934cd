// `agora serve`: the OpenAI-compatible HTTP server (docs/api.md).
//
//   agora serve --model models/qwen2.5-0.5b-instruct-q4_k_m.gguf --port 8080
//   agora serve --models-dir ./models --api-key sk-local --parallel 8 --ctx-size 8192
//
//   agora serve --config agora.toml --port 9000    # flags override the file
//
// Prints "agora serve: listening on http://HOST:PORT" on stderr once ready. SIGTERM/SIGINT drain
// the server (new requests 503, in-flight ones finish) and exit 0.
//
// --config FILE is TOML (parsed strictly by toml++, Debian's libtomlplusplus-dev), one flat table
// whose keys are the long flag names: every flag can be set there (`model = ["a.gguf", "b.gguf"]`,
// `ctx-size = 8192`, `api-key = "sk-local"`; `_` may stand for `-`). Unknown keys, tables and
// wrong types are errors naming the line. A flag given on the command line wins over the file.
#include <cstdlib>
#include <string>
#include <vector>

#if __has_include(<toml++/toml.h>)
#include <toml++/toml.h>
#define AGORA_HAS_TOML 1
#endif

#include "cli/commands.h"
#include "platform/serve.h"

namespace agora::cli {

namespace {

// Applies the TOML file's keys to the options of `cmd` that the command line did not set.
// Returns an error message ("FILE:LINE: …"), empty on success.
std::string apply_config(CLI::App& cmd, const std::string& path) {
#ifdef AGORA_HAS_TOML
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description());
  }
  for (auto&& [key, node] : table) {
    std::string name(key.str());
    for (auto& c : name)
      if (c == '_') c = '-';
    const std::string where = path + ":" + std::to_string(node.source().begin.line) + ": ";
    CLI::Option* opt = name == "config" ? nullptr : cmd.get_option_no_throw("--" + name);
    if (!opt) return where + "unknown setting '" + std::string(key.str()) + "' (the keys are `agora serve` flag names)";
    if (opt->count() > 0) continue;  // the command line wins
    std::vector<std::string> values;
    std::string bad;
    auto scalar = [&](const toml::node& n) {
      if (auto v = n.as_string()) values.push_back(v->get());
      else if (auto i = n.as_integer()) values.push_back(std::to_string(i->get()));
      else if (auto b = n.as_boolean()) values.push_back(b->get() ? "true" : "false");
      else bad = "'" + std::string(key.str()) + "' must be a string, an integer or a boolean";
    };
    if (auto arr = node.as_array()) {
      if (opt->get_expected_max() <= 1) return where + "'" + std::string(key.str()) + "' takes one value, not a list";
      for (auto&& el : *arr) scalar(el);
    } else if (node.is_table()) {
      return where + "'" + std::string(key.str()) + "' must be a value, not a table";
    } else {
      scalar(node);
    }
    if (!bad.empty()) return where + bad;
    try {
      for (auto& v : values) opt->add_result(v);
      opt->run_callback();
    } catch (const CLI::Error& e) {
      return where + "'" + std::string(key.str()) + "': " + e.what();
    }
  }
  return {};
#else
  (void)cmd;
  return path + ": this build has no TOML support (install libtomlplusplus-dev and rebuild)";
#endif
}

}  // namespace

void register_serve(CLI::App& app) {
  auto o = std::make_shared<platform::ServeOptions>();
  auto* cmd = app.add_subcommand("serve", "Serve models over the OpenAI-compatible HTTP API");
  cmd->add_option("-m,--model", o->models, "GGUF model file (repeatable)");
  cmd->add_option("--models-dir", o->models_dirs, "Serve every *.gguf in this directory (repeatable)");
  cmd->add_option("--alias", o->aliases, "Model id for the --model at the same position (default: file stem)");
  cmd->add_option("--host", o->host, "Address to listen on (default 127.0.0.1)");
  cmd->add_option("--port", o->port, "Port (default 8080; 0 = any free port)");
  cmd->add_option("--api-key", o->api_key, "Require 'Authorization: Bearer KEY' on /v1/ (default: $AGORA_API_KEY)");
  cmd->add_option("--data-dir", o->data_dir, "Data directory: database, files, sessions (default ./data)");
  cmd->add_flag("--auth", o->auth, "Require an API key or a signed-in session on /v1/ (users: `agora admin`)");
  cmd->add_flag("--no-auth", o->no_auth, "Serve without authentication, even on a non-loopback --host");
  cmd->add_option("--web-dir", o->web_dir, "The built web app to serve at / (default: web/dist)");
  cmd->add_option("--parallel", o->backend.n_parallel, "Sequences decoded together per model (default 4)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("-c,--ctx-size", o->backend.n_ctx, "Context per sequence in tokens (default: min(training, 4096))");
  cmd->add_option("--max-queue", o->backend.max_queue, "Waiting requests per model before 429 (default 64)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-t,--threads", o->backend.n_threads, "Engine threads (default: physical cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--http-threads", o->http_threads, "HTTP I/O threads (default 2)")->check(CLI::PositiveNumber);
  cmd->add_option("--max-body-bytes", o->limits.max_body_bytes, "Request body limit (default 8 MiB)");
  cmd->add_option("--max-upload-bytes", o->limits.max_upload_bytes,
                  "Upload body limit (POST /v1/files, streamed to disk; default 512 MiB)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-connections", o->limits.max_connections, "Open connection limit (default 4096)");
  auto config = std::make_shared<std::string>();
  cmd->add_option("--config", *config, "TOML file with any of these flags as keys (flags given here win)");
  cmd->callback([o, cmd, config] {
    if (!config->empty()) {
      if (std::string err = apply_config(*cmd, *config); !err.empty()) {
        fail(2, err);
        return;
      }
    }
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
