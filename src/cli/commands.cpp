#include "cli/commands.h"

#include <cstdio>

namespace agora::cli {
namespace {
int g_exit_code = 0;
}

void set_exit_code(int code) { g_exit_code = code; }
int exit_code() { return g_exit_code; }

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "agora: %s\n", message.c_str());
  g_exit_code = code;
  return code;
}

void register_commands(CLI::App& app) {
  register_inspect(app);
  register_run(app);
  register_tokenize(app);
  register_render_template(app);
  register_chat(app);
  register_quantize(app);
  register_synth(app);
  register_bench(app);
  register_serve(app);
  register_pull(app);
  register_admin(app);
}

}  // namespace agora::cli
