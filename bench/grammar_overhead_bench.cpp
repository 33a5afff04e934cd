// Grammar masking overhead per generated token, as a fraction of the model's decode time.
//
//   grammar_overhead_bench MODEL.gguf [SCHEMA.json] [-t THREADS] [-n TOKENS]
//
// 1. Generates up to N tokens under a JSON Schema (default: an object with a string array) through
//    the Scheduler, recording the tokens.
// 2. Replays those tokens through a fresh GrammarMatcher, timing fill_mask + accept_token per token
//    (the whole cost the grammar adds to a step, mask caches included).
// 3. Times plain decoding (one token per forward pass) of the same number of tokens.
// Prints both per-token times and their ratio.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>

#include "engine/context.h"
#include "engine/grammar/grammar_matcher.h"
#include "engine/grammar/json_schema.h"
#include "engine/model.h"
#include "engine/sample/sampler.h"
#include "engine/scheduler.h"
#include "engine/vocab/vocab.h"

using namespace agora;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.gguf [SCHEMA.json] [-t THREADS] [-n TOKENS]\n", argv[0]);
    return 2;
  }
  std::string schema =
      R"({"type":"object","properties":{"title":{"type":"string"},"tags":{"type":"array","items":{"type":"string"}},"count":{"type":"integer"}},"required":["title","tags","count"],"additionalProperties":false})";
  int threads = 0, n_tokens = 48;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-t" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "-n" && i + 1 < argc) n_tokens = std::atoi(argv[++i]);
    else {
      std::ifstream in(a);
      std::stringstream ss;
      ss << in.rdbuf();
      schema = ss.str();
    }
  }
  auto file = GgufFile::open(argv[1]);
  if (!file.ok()) return std::fprintf(stderr, "%s\n", file.status().message().c_str()), 2;
  auto vocab = Vocab::load(*file.value());
  auto model = Model::from_file(std::move(file.value()));
  if (!vocab.ok() || !model.ok()) return 2;
  auto grammar = compile_json_schema(schema);
  if (!grammar.ok()) return std::fprintf(stderr, "%s\n", grammar.status().message().c_str()), 2;
  auto g = std::make_shared<const Grammar>(std::move(grammar.value()));

  // 1. Constrained generation.
  auto sched = Scheduler::create(*model.value(), *vocab.value(), {.n_parallel = 1, .n_ctx = 512, .n_threads = threads});
  if (!sched.ok()) return 2;
  GenerateParams gp;
  gp.prompt = vocab.value()->tokenize("Once upon a time", true);
  gp.grammar = g;
  gp.max_tokens = n_tokens;
  gp.sampling.temperature = 1.0f;
  gp.sampling.seed = 3;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::vector<int32_t> tokens;
  std::string text;
  auto h = sched.value()->generate(gp, [&](Event&& e) {
    std::lock_guard<std::mutex> lock(mu);
    text += e.text;
    if (e.kind == Event::Kind::token) tokens.push_back(e.token);
    else {
      done = true;
      cv.notify_all();
    }
  });
  if (!h.ok()) return 2;
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
  }

  // 2. Replay through a fresh matcher: the grammar's share of each step.
  std::vector<std::string> pieces(vocab.value()->n_tokens());
  std::vector<int32_t> never;
  for (uint32_t id = 0; id < vocab.value()->n_tokens(); ++id) {
    pieces[id] = vocab.value()->token_to_piece(static_cast<int32_t>(id), false);
    if (vocab.value()->is_control(static_cast<int32_t>(id)) && !vocab.value()->is_eog(static_cast<int32_t>(id)))
      never.push_back(static_cast<int32_t>(id));
  }
  auto gv = GrammarVocab::create(pieces, vocab.value()->eog_ids(), never);
  if (!gv.ok()) return 2;
  auto gvs = std::make_shared<const GrammarVocab>(std::move(gv.value()));
  GrammarMatcher m(g, gvs);
  TokenMask mask;
  const auto t0 = Clock::now();
  for (int32_t t : tokens) {
    m.fill_mask(mask);
    std::vector<uint8_t> bytes = mask.to_bytes();  // what the scheduler hands the sampler
    if (!m.accept_token(t).ok()) return std::fprintf(stderr, "replay rejected a token\n"), 1;
  }
  const double mask_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / std::max<size_t>(1, tokens.size());

  // 3. Plain decode time per token.
  ContextParams cp;
  cp.n_ctx = 512;
  cp.n_threads = threads;
  auto ctx = Context::create(*model.value(), cp);
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < gp.prompt.size(); ++i) batch.push_back({gp.prompt[i], int32_t(i), 0, i + 1 == gp.prompt.size()});
  (void)ctx.value()->decode(batch);
  const auto t1 = Clock::now();
  const int n_plain = static_cast<int>(std::max<size_t>(8, tokens.size()));
  for (int i = 0; i < n_plain; ++i) {
    batch = {{static_cast<int32_t>(10 + i % 50), static_cast<int32_t>(gp.prompt.size() + i), 0, true}};
    (void)ctx.value()->decode(batch);
  }
  const double decode_ms = std::chrono::duration<double, std::milli>(Clock::now() - t1).count() / n_plain;
  std::printf("model %s, vocab %u: %zu constrained tokens; grammar %.3f ms/token, decode %.2f ms/token: overhead %.1f%%\n",
              argv[1], vocab.value()->n_tokens(), tokens.size(), mask_ms, decode_ms, 100.0 * mask_ms / decode_ms);
  std::printf("output: %s\n", text.c_str());
  return 0;
}
