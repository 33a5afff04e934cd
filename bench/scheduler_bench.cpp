// Scheduler benchmark (issue: many conversations at once):
//   * aggregate generation tokens/s with 1, 4, 8, 16 concurrent sequences;
//   * time to first token for a request whose long prefix is cached vs not cached.
//
//   scheduler_bench MODEL.gguf [-t THREADS] [-n TOKENS] [--prefix TOKENS] [--json]
//
// Prints a markdown table (or JSON lines with --json). Every request uses random token ids for
// its prompt (a benchmark of the engine, not of the text), greedy decoding and ignore_eos.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <string>

#include "engine/model.h"
#include "engine/scheduler.h"
#include "engine/vocab/vocab.h"

using namespace agora;
using Clock = std::chrono::steady_clock;

namespace {

struct Waiter {
  std::mutex mu;
  std::condition_variable cv;
  int remaining = 0;
  std::vector<double> ttft;
};

std::vector<int32_t> random_prompt(std::mt19937& rng, int n, int64_t n_vocab, int32_t bos) {
  std::vector<int32_t> p;
  if (bos >= 0) p.push_back(bos);
  std::uniform_int_distribution<int32_t> d(10, static_cast<int32_t>(n_vocab - 1));
  while (static_cast<int>(p.size()) < n) p.push_back(d(rng));
  return p;
}

// Runs `reqs` concurrently; returns seconds until all finish; fills per-request TTFT.
double run_all(Scheduler& s, const std::vector<GenerateParams>& reqs, std::vector<double>* ttft) {
  Waiter w;
  w.remaining = static_cast<int>(reqs.size());
  const auto t0 = Clock::now();
  for (const auto& g : reqs) {
    auto h = s.generate(g, [&](Event&& e) {
      if (e.kind != Event::Kind::finish) return;
      std::lock_guard<std::mutex> lock(w.mu);
      w.ttft.push_back(e.time_to_first_token_s);
      if (--w.remaining == 0) w.cv.notify_all();
    });
    if (!h.ok()) {
      std::fprintf(stderr, "submit failed: %s\n", h.status().message().c_str());
      std::exit(1);
    }
  }
  std::unique_lock<std::mutex> lock(w.mu);
  w.cv.wait(lock, [&] { return w.remaining == 0; });
  if (ttft) *ttft = w.ttft;
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.gguf [-t THREADS] [-n TOKENS] [--prefix TOKENS] [--json]\n", argv[0]);
    return 2;
  }
  std::string path = argv[1];
  int threads = 0, n_gen = 64, prefix = 2000;
  bool json = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-t" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "-n" && i + 1 < argc) n_gen = std::atoi(argv[++i]);
    else if (a == "--prefix" && i + 1 < argc) prefix = std::atoi(argv[++i]);
    else if (a == "--json") json = true;
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  auto file = GgufFile::open(path);
  if (!file.ok()) {
    std::fprintf(stderr, "%s\n", file.status().message().c_str());
    return 2;
  }
  auto vocab = Vocab::load(*file.value());
  auto model = Model::from_file(std::move(file.value()));
  if (!vocab.ok() || !model.ok()) {
    std::fprintf(stderr, "cannot load %s\n", path.c_str());
    return 2;
  }
  const ModelParams& mp = model.value()->params();
  std::mt19937 rng(1);
  const int64_t n_ctx = std::min<int64_t>(mp.n_ctx_train, std::max(prefix + 256, 1024));

  if (!json) {
    std::printf("model: %s (%s, %.1fM params, %.1f MiB)\n\n", path.c_str(), mp.arch_name.c_str(), model.value()->n_params() / 1e6,
                model.value()->weight_bytes() / 1048576.0);
    std::printf("| sequences | generated tokens | seconds | aggregate tok/s | per-sequence tok/s | decode-phase tok/s |\n"
                "|---:|---:|---:|---:|---:|---:|\n");
  }
  double base = 0, decode_base = 0;
  for (int n_seq : {1, 4, 8, 16}) {
    SchedulerParams sp;
    sp.n_parallel = n_seq;
    sp.n_ctx = 256;
    sp.n_threads = threads;
    sp.prefix_cache = false;
    auto s = Scheduler::create(*model.value(), *vocab.value(), sp);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.status().message().c_str());
      return 1;
    }
    std::vector<GenerateParams> reqs;
    for (int i = 0; i < n_seq; ++i) {
      GenerateParams g;
      g.prompt = random_prompt(rng, 8, mp.n_vocab, vocab.value()->bos());
      g.max_tokens = n_gen;
      g.ignore_eos = true;
      g.sampling.temperature = 0;
      reqs.push_back(g);
    }
    // Measure decode: warm up with one short run, then time the full batch.
    run_all(*s.value(), {reqs[0]}, nullptr);
    std::vector<double> ttft;
    const double sec = run_all(*s.value(), reqs, &ttft);
    const double tps = n_seq * n_gen / sec;
    // Decode phase: from the moment every sequence has its first token (all prompts read) to the
    // end, the tokens generated after the first.
    double last_first = 0;
    for (double t : ttft) last_first = std::max(last_first, t);
    const double decode_tps = n_gen > 1 && sec > last_first ? n_seq * (n_gen - 1) / (sec - last_first) : 0.0;
    if (n_seq == 1) base = tps, decode_base = decode_tps;
    if (json)
      std::printf("{\"test\":\"tg%d@b%d\",\"sequences\":%d,\"tps\":%.2f,\"speedup\":%.2f,\"decode_tps\":%.2f,\"decode_speedup\":%.2f}\n",
                  n_gen, n_seq, n_seq, tps, tps / base, decode_tps, decode_base > 0 ? decode_tps / decode_base : 0.0);
    else
      std::printf("| %d | %d | %.2f | %.1f (%.2fx) | %.1f | %.1f (%.2fx) |\n", n_seq, n_seq * n_gen, sec, tps, tps / base,
                  tps / n_seq, decode_tps, decode_base > 0 ? decode_tps / decode_base : 0.0);
  }

  // Time to first token with a long shared prefix: cold, then cached.
  SchedulerParams sp;
  sp.n_parallel = 2;
  sp.n_ctx = n_ctx;
  sp.n_threads = threads;
  auto s = Scheduler::create(*model.value(), *vocab.value(), sp);
  if (!s.ok()) return 1;
  GenerateParams g;
  g.prompt = random_prompt(rng, prefix, mp.n_vocab, vocab.value()->bos());
  g.max_tokens = 1;
  g.ignore_eos = true;
  g.sampling.temperature = 0;
  std::vector<double> t_cold, t_warm;
  run_all(*s.value(), {g}, &t_cold);
  GenerateParams g2 = g;
  g2.prompt.push_back(42);  // same prefix, new last turn
  for (int i = 0; i < 7; ++i) g2.prompt.push_back(50 + i);
  run_all(*s.value(), {g2}, &t_warm);
  if (json)
    std::printf("{\"test\":\"ttft_prefix%d\",\"cold_s\":%.4f,\"cached_s\":%.4f,\"speedup\":%.1f}\n", prefix, t_cold[0], t_warm[0],
                t_cold[0] / t_warm[0]);
  else
    std::printf("\ntime to first token, %d-token prefix: cold %.3f s, cached %.4f s (%.1fx faster)\n", prefix, t_cold[0], t_warm[0],
                t_cold[0] / t_warm[0]);
  return 0;
}
