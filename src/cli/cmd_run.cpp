// `agora run`: generate a completion for one prompt, streaming the text to stdout.
//
//   agora run -m MODEL.gguf -p "Once upon a time" -n 64 --temp 0
//   agora run -m MODEL.gguf --prompt-ids 1,450,4996 --print-ids
//
// stdout carries only the completion (or, with --print-ids, one JSON array of generated ids
// on the last line; with --grammar / --json-schema exactly the generated document); load time
// and speeds go to stderr. Exit 2 on bad arguments or files, 1 on a failure while generating.
// The request runs through the same Scheduler as `agora serve`.
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <random>
#include <sstream>

#include "cli/commands.h"
#include <condition_variable>
#include <fstream>
#include <mutex>

#include "engine/grammar/gbnf_parser.h"
#include "engine/grammar/json_schema.h"
#include "engine/model.h"
#include "engine/scheduler.h"
#include "engine/vocab/vocab.h"

namespace agora::cli {
namespace {

struct RunOptions {
  std::string model;
  std::string prompt;
  std::string prompt_ids;
  int n_predict = 128;
  float temp = 0.8f;
  int top_k = 40;
  float top_p = 0.95f;
  float min_p = 0.05f;
  float repeat_penalty = 1.0f;
  int64_t seed = -1;
  int threads = 0;
  int64_t ctx_size = 0;
  std::string kv_type = "f16";
  bool ignore_eos = false;
  bool print_ids = false;
  bool special = false;
  bool no_bos = false;
  std::string grammar_file;
  std::string schema_file;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Parses "1,2,3" (spaces allowed). Returns false with a message on anything else.
bool parse_ids(const std::string& s, std::vector<int32_t>& out, std::string& err) {
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    if (b == std::string::npos) {
      err = "empty id in --prompt-ids";
      return false;
    }
    item = item.substr(b, e - b + 1);
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(item.c_str(), &end, 10);
    if (*end != '\0' || errno || v < 0 || v > INT32_MAX) {
      err = "invalid token id '" + item + "' in --prompt-ids";
      return false;
    }
    out.push_back(static_cast<int32_t>(v));
  }
  if (out.empty()) {
    err = "--prompt-ids is empty";
    return false;
  }
  return true;
}

bool read_text_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

void run(const RunOptions& o) {
  if (!o.prompt.empty() && !o.prompt_ids.empty()) {
    fail(2, "use either -p or --prompt-ids, not both");
    return;
  }
  if (!o.grammar_file.empty() && !o.schema_file.empty()) {
    fail(2, "use either --grammar or --json-schema, not both");
    return;
  }
  if (o.n_predict < -1) {
    fail(2, "-n must be >= -1 (-1: until the context is full)");
    return;
  }
  if (o.kv_type != "f16" && o.kv_type != "f32" && o.kv_type != "q8_0") {
    fail(2, "--kv-type must be f16, f32 or q8_0");
    return;
  }
  // Constraint first: a bad grammar is a usage error, reported before the model loads.
  std::shared_ptr<const Grammar> grammar;
  if (!o.grammar_file.empty() || !o.schema_file.empty()) {
    const std::string& path = o.grammar_file.empty() ? o.schema_file : o.grammar_file;
    std::string text;
    if (!read_text_file(path, text)) {
      fail(2, "cannot read " + path);
      return;
    }
    auto g = o.grammar_file.empty() ? compile_json_schema(text) : parse_gbnf(text);
    if (!g.ok()) {
      fail(2, path + ": " + g.status().message());
      return;
    }
    grammar = std::make_shared<const Grammar>(std::move(g.value()));
  }

  const auto t_load = std::chrono::steady_clock::now();
  auto file = GgufFile::open(o.model);
  if (!file.ok()) {
    fail(2, file.status().message());
    return;
  }
  auto vocab = Vocab::load(*file.value());
  if (!vocab.ok()) {
    fail(2, vocab.status().message());
    return;
  }
  auto model = Model::from_file(std::move(file.value()));
  if (!model.ok()) {
    fail(2, model.status().message());
    return;
  }
  const Vocab& voc = *vocab.value();
  const ModelParams& mp = model.value()->params();

  std::vector<int32_t> prompt;
  if (!o.prompt_ids.empty()) {
    std::string err;
    if (!parse_ids(o.prompt_ids, prompt, err)) {
      fail(2, err);
      return;
    }
    for (int32_t id : prompt)
      if (id >= mp.n_vocab) {
        fail(2, "token id " + std::to_string(id) + " in --prompt-ids is outside the vocabulary (" + std::to_string(mp.n_vocab) + ")");
        return;
      }
  } else {
    prompt = voc.tokenize(o.prompt, !o.no_bos, o.special);
    if (prompt.empty()) {
      fail(2, "the prompt is empty and the model adds no BOS token; give a prompt");
      return;
    }
  }

  SchedulerParams sp;
  sp.n_parallel = 1;
  sp.n_ctx = o.ctx_size;
  sp.n_threads = o.threads;
  sp.kv_type = o.kv_type == "f32" ? KvType::f32 : o.kv_type == "q8_0" ? KvType::q8_0 : KvType::f16;
  sp.prefix_cache = false;
  auto sched = Scheduler::create(*model.value(), voc, sp);
  if (!sched.ok()) {
    fail(2, sched.status().message());
    return;
  }
  const double load_s = seconds_since(t_load);
  std::fprintf(stderr, "agora: loaded %s (%s, %" PRId64 " layers, %" PRId64 " vocab) in %.3f s, %d threads\n", o.model.c_str(),
               mp.arch_name.c_str(), mp.n_layer, mp.n_vocab, load_s, sched.value()->params().n_threads);

  GenerateParams gp;
  gp.prompt = prompt;
  gp.max_tokens = o.n_predict;
  gp.ignore_eos = o.ignore_eos;
  gp.grammar = grammar;
  gp.sampling.temperature = o.temp;
  gp.sampling.top_k = o.top_k;
  gp.sampling.top_p = o.top_p;
  gp.sampling.min_p = o.min_p;
  gp.sampling.repeat_penalty = o.repeat_penalty;
  gp.sampling.seed = o.seed >= 0 ? static_cast<uint64_t>(o.seed) : std::random_device{}();

  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Event finish;
  std::vector<int32_t> generated;
  const bool print_ids = o.print_ids;
  auto t0 = std::chrono::steady_clock::now();
  auto h = sched.value()->generate(gp, [&](Event&& e) {
    if (!print_ids && !e.text.empty()) {
      std::fwrite(e.text.data(), 1, e.text.size(), stdout);
      std::fflush(stdout);
    }
    std::lock_guard<std::mutex> lock(mu);
    if (e.kind == Event::Kind::token) {
      generated.push_back(e.token);
    } else {
      finish = std::move(e);
      done = true;
      cv.notify_all();
    }
  });
  if (!h.ok()) {
    fail(2, h.status().message());
    return;
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
  }
  const double total_s = seconds_since(t0);
  if (print_ids) {
    std::string line = "[";
    for (size_t i = 0; i < generated.size(); ++i) line += (i ? "," : "") + std::to_string(generated[i]);
    std::printf("%s]\n", line.c_str());
  } else if (!grammar) {
    std::printf("\n");
  }
  std::fflush(stdout);
  if (finish.finish_reason == FinishReason::error) {
    fail(1, finish.error);
    return;
  }
  const double ttft = finish.time_to_first_token_s;
  const double gen_s = total_s - ttft;
  std::fprintf(stderr,
               "agora: prompt %zu tokens in %.3f s (%.1f tok/s); generated %zu tokens, %.1f tok/s; finish %s; seed %" PRIu64 "\n",
               prompt.size(), ttft, ttft > 0 ? prompt.size() / ttft : 0.0, generated.size(),
               gen_s > 0 && generated.size() > 1 ? (generated.size() - 1) / gen_s : 0.0, finish_reason_name(finish.finish_reason),
               gp.sampling.seed);
}

}  // namespace

void register_run(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run", "Generate a completion for one prompt");
  cmd->add_option("-m,--model", o->model, "GGUF model file")->required();
  cmd->add_option("-p,--prompt", o->prompt, "Prompt text");
  cmd->add_option("--prompt-ids", o->prompt_ids, "Prompt as comma-separated token ids");
  cmd->add_option("-n,--n-predict", o->n_predict, "Tokens to generate (default 128; -1 = until the context is full)");
  cmd->add_option("--temp", o->temp, "Temperature; 0 = greedy (default 0.8)");
  cmd->add_option("--top-k", o->top_k, "Top-k (default 40; 0 = off)");
  cmd->add_option("--top-p", o->top_p, "Top-p (default 0.95; 1 = off)");
  cmd->add_option("--min-p", o->min_p, "Min-p (default 0.05; 0 = off)");
  cmd->add_option("--repeat-penalty", o->repeat_penalty, "Repetition penalty (default 1 = off)");
  cmd->add_option("-s,--seed", o->seed, "Random seed (default: random)");
  cmd->add_option("-t,--threads", o->threads, "Threads (default: physical cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("-c,--ctx-size", o->ctx_size, "Context size in tokens (default: min(training context, 4096))");
  cmd->add_option("--kv-type", o->kv_type, "KV cache element type: f16 (default), f32, or q8_0 (half the memory; head sizes multiple of 32)");
  cmd->add_flag("--ignore-eos", o->ignore_eos, "Keep generating past end-of-generation tokens");
  cmd->add_flag("--print-ids", o->print_ids, "Print the generated ids as a JSON array instead of text");
  cmd->add_flag("--special", o->special, "Parse special-token text (e.g. <|im_start|>) in the prompt");
  cmd->add_flag("--no-bos", o->no_bos, "Do not add the BOS token");
  cmd->add_option("--grammar", o->grammar_file, "GBNF grammar file: the output must match it");
  cmd->add_option("--json-schema", o->schema_file, "JSON Schema file: the output is a JSON document valid under it");
  cmd->callback([o] { run(*o); });
}

}  // namespace agora::cli
