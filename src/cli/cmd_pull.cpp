// `agora pull`: download a GGUF model (platform/model_pull.h).
//
//   agora pull Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf
//   agora pull OWNER/NAME/FILE.gguf --from http://mirror.local:8000 --models-dir /srv/models
//   agora pull https://example.org/files/model.gguf --sha256 9f86d0…
//
// Progress goes to stderr (a bar on a terminal, a line per 10% otherwise); the final path to
// stdout. Exit 0 when the file is in place (also when it already was), 1 on a failed download or
// checksum mismatch (the message is one line), 2 on bad arguments.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "platform/model_pull.h"

namespace agora::cli {

namespace {

std::string mib(int64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", n / double(1 << 20));
  return buf;
}

// Renders PullProgress on stderr, at most ten times a second.
class ProgressBar {
 public:
  explicit ProgressBar(bool tty) : tty_(tty) {}
  void update(const platform::PullProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    const int pct = p.total > 0 ? static_cast<int>(100 * p.received / p.total) : -1;
    if (tty_) {
      if (now - last_ < std::chrono::milliseconds(100) && pct != 100) return;
      last_ = now;
      const double rate = p.seconds > 0 ? (p.received - p.resumed_from) / p.seconds : 0;
      if (pct >= 0) {
        const int width = 30, fill = pct * width / 100;
        std::fprintf(stderr, "\r[%s%s] %3d%%  %s/%s MiB  %s MiB/s   ",
                     std::string(fill, '#').c_str(), std::string(width - fill, ' ').c_str(), pct,
                     mib(p.received).c_str(), mib(p.total).c_str(),
                     mib(static_cast<int64_t>(rate)).c_str());
      } else {
        std::fprintf(stderr, "\r%s MiB  %s MiB/s   ", mib(p.received).c_str(),
                     mib(static_cast<int64_t>(rate)).c_str());
      }
      drawn_ = true;
    } else if (pct >= 0 && pct / 10 > last_decile_) {
      last_decile_ = pct / 10;
      std::fprintf(stderr, "agora pull: %d%% (%s of %s MiB)\n", pct, mib(p.received).c_str(),
                   mib(p.total).c_str());
    }
  }
  void end() {
    if (drawn_) std::fprintf(stderr, "\n");
    drawn_ = false;
  }

 private:
  bool tty_;
  bool drawn_ = false;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace

void register_pull(CLI::App& app) {
  auto o = std::make_shared<platform::PullOptions>();
  auto* cmd =
      app.add_subcommand("pull", "Download a GGUF model (Hugging Face-style URL) into ./models");
  cmd->add_option("spec", o->spec, "OWNER/NAME/FILE.gguf (a Hugging Face repository file) or a URL")
      ->required();
  cmd->add_option(
      "--from", o->base_url,
      "Base URL instead of https://huggingface.co (same OWNER/NAME/resolve/REV/FILE layout)");
  cmd->add_option("--revision", o->revision, "Branch, tag or commit (default main)");
  cmd->add_option("--models-dir", o->models_dir, "Destination folder (default ./models)");
  cmd->add_option("--sha256", o->sha256,
                  "Expected SHA-256 (default: the server's ETag when it is one)");
  cmd->add_flag("--force", o->force, "Download again even if the file exists");
  cmd->callback([o] {
    if (const char* tok = std::getenv("HF_TOKEN")) o->token = tok;
    auto url = platform::pull_url(*o);
    if (!url.ok()) {
      fail(2, url.status().message());
      return;
    }
    std::fprintf(stderr, "agora pull: %s\n", url.value().c_str());
    ProgressBar bar(::isatty(STDERR_FILENO) != 0);
    auto r = platform::pull_model(*o, [&bar](const platform::PullProgress& p) { bar.update(p); });
    bar.end();
    if (!r.ok()) {
      fail(r.status().code() == ErrorCode::invalid_argument ? 2 : 1, r.status().message());
      return;
    }
    const auto& v = r.value();
    if (v.already_present) {
      std::fprintf(stderr, "agora pull: %s is already there (%s MiB; --force downloads it again)\n",
                   v.path.c_str(), mib(v.bytes).c_str());
    } else {
      if (v.resumed_from > 0)
        std::fprintf(stderr, "agora pull: resumed from %s MiB\n", mib(v.resumed_from).c_str());
      std::fprintf(stderr, "agora pull: sha256 %s (%s)\n", v.sha256.c_str(),
                   v.verified
                       ? "verified"
                       : "not verified: the server sent no checksum; pass --sha256 to check");
    }
    std::printf("%s\n", v.path.c_str());
  });
}

}  // namespace agora::cli
