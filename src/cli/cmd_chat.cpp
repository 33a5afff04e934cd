// `agora chat -m MODEL.gguf`: an interactive terminal chat using the model's chat template.
//
// Lines are read with editline (history with the arrow keys); replies stream as they are
// generated. Commands: /system TEXT (set the system prompt and restart), /reset (forget the
// conversation), /exit or Ctrl-D. Earlier turns are reused from the prefix cache, so each turn
// only computes its new tokens.
#include <editline/readline.h>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>

#include "cli/commands.h"
#include "engine/chat/chat_formatter.h"
#include "engine/model.h"
#include "engine/scheduler.h"
#include "engine/vocab/vocab.h"

namespace agora::cli {
namespace {

struct ChatOptions {
  std::string model;
  std::string chat_template_file;
  std::string system;
  float temp = 0.7f;
  int64_t seed = -1;
  int threads = 0;
  int64_t ctx_size = 0;
  int n_predict = -1;
};

void chat_loop(const ChatOptions& o) {
  auto file = GgufFile::open(o.model);
  if (!file.ok()) return (void)fail(2, file.status().message());
  std::string template_source(file.value()->get_str("tokenizer.chat_template").value_or(""));
  if (!o.chat_template_file.empty()) {
    std::ifstream in(o.chat_template_file, std::ios::binary);
    if (!in) return (void)fail(2, "cannot read " + o.chat_template_file);
    std::ostringstream ss;
    ss << in.rdbuf();
    template_source = ss.str();
  }
  auto formatter = chat::ChatFormatter::create(template_source);
  if (!formatter.ok()) return (void)fail(2, "chat template: " + formatter.status().message());
  auto vocab = Vocab::load(*file.value());
  if (!vocab.ok()) return (void)fail(2, vocab.status().message());
  auto model = Model::from_file(std::move(file.value()));
  if (!model.ok()) return (void)fail(2, model.status().message());
  const Vocab& voc = *vocab.value();
  SchedulerParams sp;
  sp.n_parallel = 1;
  sp.n_ctx = o.ctx_size;
  sp.n_threads = o.threads;
  auto sched = Scheduler::create(*model.value(), voc, sp);
  if (!sched.ok()) return (void)fail(2, sched.status().message());

  chat::FormatOptions fo;
  fo.add_generation_prompt = true;
  if (voc.bos() >= 0) fo.bos_token = voc.token_to_piece(voc.bos(), true);
  if (voc.eos() >= 0) fo.eos_token = voc.token_to_piece(voc.eos(), true);
  std::vector<chat::ChatMessage> messages;
  auto reset = [&] {
    messages.clear();
    if (!o.system.empty()) messages.push_back({.role = "system", .content = o.system});
  };
  reset();
  std::mt19937_64 seeds(o.seed >= 0 ? static_cast<uint64_t>(o.seed) : std::random_device{}());
  std::fprintf(stderr, "agora chat: %s — /system TEXT, /reset, /exit\n", o.model.c_str());
  for (;;) {
    char* raw = readline("> ");
    if (!raw) break;
    std::string line(raw);
    std::free(raw);
    if (line.empty()) continue;
    add_history(line.c_str());
    if (line == "/exit" || line == "/quit") break;
    if (line == "/reset") {
      reset();
      std::fprintf(stderr, "(conversation reset)\n");
      continue;
    }
    if (line.rfind("/system", 0) == 0) {
      std::string text = line.size() > 7 ? line.substr(8) : "";
      const_cast<ChatOptions&>(o).system = text;
      reset();
      std::fprintf(stderr, "(system prompt set; conversation reset)\n");
      continue;
    }
    messages.push_back({.role = "user", .content = line});
    auto prompt_text = formatter.value().format(messages, "", fo);
    if (!prompt_text.ok()) {
      std::fprintf(stderr, "agora: %s\n", prompt_text.status().message().c_str());
      messages.pop_back();
      continue;
    }
    // The template writes BOS itself when it wants one; add it only when it did not.
    std::vector<int32_t> prompt = voc.tokenize(prompt_text.value(), false, true);
    if (voc.add_bos() && voc.bos() >= 0 && (prompt.empty() || prompt[0] != voc.bos())) prompt.insert(prompt.begin(), voc.bos());
    GenerateParams gp;
    gp.prompt = std::move(prompt);
    gp.max_tokens = o.n_predict;
    gp.sampling.temperature = o.temp;
    gp.sampling.seed = seeds();
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::string reply;
    Event fin;
    auto h = sched.value()->generate(gp, [&](Event&& e) {
      if (!e.text.empty()) {
        std::fwrite(e.text.data(), 1, e.text.size(), stdout);
        std::fflush(stdout);
      }
      std::lock_guard<std::mutex> lock(mu);
      reply += e.text;
      if (e.kind == Event::Kind::finish) {
        fin = std::move(e);
        done = true;
        cv.notify_all();
      }
    });
    if (!h.ok()) {
      std::fprintf(stderr, "agora: %s\n", h.status().message().c_str());
      messages.pop_back();
      continue;
    }
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
    std::printf("\n");
    if (fin.finish_reason == FinishReason::error) std::fprintf(stderr, "agora: %s\n", fin.error.c_str());
    messages.push_back({.role = "assistant", .content = reply});
  }
}

}  // namespace

void register_chat(CLI::App& app) {
  auto o = std::make_shared<ChatOptions>();
  auto* cmd = app.add_subcommand("chat", "Interactive chat in the terminal");
  cmd->add_option("-m,--model", o->model, "GGUF model file")->required();
  cmd->add_option("--chat-template", o->chat_template_file, "Jinja chat template file (default: the model's, else ChatML)");
  cmd->add_option("--system", o->system, "System prompt");
  cmd->add_option("--temp", o->temp, "Temperature (default 0.7)");
  cmd->add_option("-s,--seed", o->seed, "Random seed (default: random)");
  cmd->add_option("-t,--threads", o->threads, "Threads (default: physical cores)");
  cmd->add_option("-c,--ctx-size", o->ctx_size, "Context size in tokens");
  cmd->add_option("-n,--n-predict", o->n_predict, "Maximum tokens per reply (default: until the context is full)");
  cmd->callback([o] { chat_loop(*o); });
}

}  // namespace agora::cli
