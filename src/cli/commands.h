// Registration of the agora subcommands. Each command lives in its own cmd_<name>.cpp and
// sets the process exit code through set_exit_code (0 ok, 1 runtime failure, 2 bad usage/input).
#pragma once

#include <CLI/CLI.hpp>

namespace agora::cli {

void register_commands(CLI::App& app);
void set_exit_code(int code);
int exit_code();

// One-line error on stderr ("agora: ...") and the exit code to return.
int fail(int code, const std::string& message);

void register_inspect(CLI::App& app);
void register_run(CLI::App& app);
void register_tokenize(CLI::App& app);  // tokenize + detokenize
void register_render_template(CLI::App& app);
void register_chat(CLI::App& app);
void register_quantize(CLI::App& app);
void register_synth(CLI::App& app);
void register_bench(CLI::App& app);
void register_serve(CLI::App& app);  // cmd_serve.cpp
void register_pull(CLI::App& app);   // cmd_pull.cpp
void register_admin(CLI::App& app);  // cmd_admin.cpp

}  // namespace agora::cli
