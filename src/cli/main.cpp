// The `agora` command: one binary, one subcommand per job.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "cli/cpu_check.h"

int main(int argc, char** argv) {
  if (!agora::cli::cpu_supported()) return 2;
  CLI::App app{"Agora: a self-hosted AI assistant platform"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "agora 0.1.0");
  agora::cli::register_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "agora: %s\n", e.what());
    return 2;
  }
  return agora::cli::exit_code();
}
