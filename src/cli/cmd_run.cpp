// `agora run`: generate a completion for one prompt, streaming the text to stdout.
//
//   agora run -m MODEL.gguf -p "Once upon a time" -n 64 --temp 0
//   agora run -m MODEL.gguf --prompt-ids 1,450,4996 --print-ids
//
// stdout carries only the completion (or, with --print-ids, one JSON array of generated ids
// on the last line); load time and speeds go to stderr. Exit 2 on bad arguments or files.
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <random>
#include <sstream>

#include "cli/commands.h"
#include "engine/context.h"
#include "engine/model.h"
#include "engine/sample/sampler.h"
#include "engine/vocab/detokenizer.h"
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

void run(const RunOptions& o) {
  if (o.prompt.empty() == false && !o.prompt_ids.empty()) {
    fail(2, "use either -p or --prompt-ids, not both");
    return;
  }
  if (o.n_predict < 0) {
    fail(2, "-n must be >= 0");
    return;
  }
  if (o.kv_type != "f16" && o.kv_type != "f32") {
    fail(2, "--kv-type must be f16 or f32");
    return;
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

  ContextParams cp;
  cp.n_ctx = o.ctx_size;
  cp.n_threads = o.threads;
  cp.kv_type = o.kv_type == "f32" ? KvType::f32 : KvType::f16;
  if (cp.n_ctx <= 0) cp.n_ctx = std::min<int64_t>(mp.n_ctx_train, std::max<int64_t>(4096, 0));
  if (static_cast<int64_t>(prompt.size()) >= cp.n_ctx) {
    fail(2, "the prompt has " + std::to_string(prompt.size()) + " tokens; the context holds " + std::to_string(cp.n_ctx));
    return;
  }
  auto ctx = Context::create(*model.value(), cp);
  if (!ctx.ok()) {
    fail(2, ctx.status().message());
    return;
  }
  const double load_s = seconds_since(t_load);
  std::fprintf(stderr, "agora: loaded %s (%s, %" PRId64 " layers, %" PRId64 " vocab) in %.3f s, %d threads\n", o.model.c_str(),
               mp.arch_name.c_str(), mp.n_layer, mp.n_vocab, load_s, ctx.value()->params().n_threads);

  SamplingParams sp;
  sp.temperature = o.temp;
  sp.top_k = o.top_k;
  sp.top_p = o.top_p;
  sp.min_p = o.min_p;
  sp.repeat_penalty = o.repeat_penalty;
  sp.seed = o.seed >= 0 ? static_cast<uint64_t>(o.seed) : std::random_device{}();
  Sampler sampler(sp, mp.n_vocab);
  for (int32_t id : prompt) sampler.accept(id);
  Detokenizer detok(voc);

  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < prompt.size(); ++i) batch.push_back({prompt[i], static_cast<int32_t>(i), 0, i + 1 == prompt.size()});
  std::vector<int32_t> generated;
  const auto t_prompt = std::chrono::steady_clock::now();
  double prompt_s = 0;
  int32_t pos = static_cast<int32_t>(prompt.size());
  for (int i = 0; i < o.n_predict; ++i) {
    auto logits = ctx.value()->decode(batch);
    if (!logits.ok()) {
      fail(1, logits.status().message());
      return;
    }
    if (i == 0) prompt_s = seconds_since(t_prompt);
    const int32_t tok = sampler.sample(logits.value().data());
    sampler.accept(tok);
    if (!o.ignore_eos && voc.is_eog(tok)) break;
    generated.push_back(tok);
    if (!o.print_ids) {
      std::string piece = detok.push(tok);
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    }
    if (pos >= cp.n_ctx) {
      std::fprintf(stderr, "agora: context full (%" PRId64 " tokens)\n", cp.n_ctx);
      break;
    }
    batch = {{tok, pos++, 0, true}};
  }
  const double total_s = seconds_since(t_prompt);
  if (o.print_ids) {
    std::string line = "[";
    for (size_t i = 0; i < generated.size(); ++i) line += (i ? "," : "") + std::to_string(generated[i]);
    std::printf("%s]\n", line.c_str());
  } else {
    std::string rest = detok.finish();
    std::fwrite(rest.data(), 1, rest.size(), stdout);
    std::printf("\n");
  }
  const double gen_s = total_s - prompt_s;
  const size_t n_gen_decoded = generated.empty() ? 0 : generated.size() - 1;
  std::fprintf(stderr, "agora: prompt %zu tokens in %.3f s (%.1f tok/s); generated %zu tokens, %.1f tok/s; seed %" PRIu64 "\n",
               prompt.size(), prompt_s, prompt_s > 0 ? prompt.size() / prompt_s : 0.0, generated.size(),
               gen_s > 0 ? n_gen_decoded / gen_s : 0.0, sp.seed);
}

}  // namespace

void register_run(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run", "Generate a completion for one prompt");
  cmd->add_option("-m,--model", o->model, "GGUF model file")->required();
  cmd->add_option("-p,--prompt", o->prompt, "Prompt text");
  cmd->add_option("--prompt-ids", o->prompt_ids, "Prompt as comma-separated token ids");
  cmd->add_option("-n,--n-predict", o->n_predict, "Tokens to generate (default 128)");
  cmd->add_option("--temp", o->temp, "Temperature; 0 = greedy (default 0.8)");
  cmd->add_option("--top-k", o->top_k, "Top-k (default 40; 0 = off)");
  cmd->add_option("--top-p", o->top_p, "Top-p (default 0.95; 1 = off)");
  cmd->add_option("--min-p", o->min_p, "Min-p (default 0.05; 0 = off)");
  cmd->add_option("--repeat-penalty", o->repeat_penalty, "Repetition penalty (default 1 = off)");
  cmd->add_option("-s,--seed", o->seed, "Random seed (default: random)");
  cmd->add_option("-t,--threads", o->threads, "Threads (default: physical cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("-c,--ctx-size", o->ctx_size, "Context size in tokens (default: min(training context, 4096))");
  cmd->add_option("--kv-type", o->kv_type, "KV cache element type: f16 (default) or f32");
  cmd->add_flag("--ignore-eos", o->ignore_eos, "Keep generating past end-of-generation tokens");
  cmd->add_flag("--print-ids", o->print_ids, "Print the generated ids as a JSON array instead of text");
  cmd->add_flag("--special", o->special, "Parse special-token text (e.g. <|im_start|>) in the prompt");
  cmd->add_flag("--no-bos", o->no_bos, "Do not add the BOS token");
  cmd->callback([o] { run(*o); });
}

}  // namespace agora::cli
