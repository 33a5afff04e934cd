// `agora bench`: prompt-processing and generation speed of a model, llama-bench style.
//
//   agora bench -m MODEL.gguf -t 2 -p 512 -n 128 -r 3 [-b 1,4,8] [--json] [--roofline]
//
// Tests, each repeated -r times after one untimed warm-up:
//   pp<P>       one decode() of P prompt tokens (positions 0..P-1 of an empty sequence);
//   tg<N>       N decode() calls of one token each, from an empty sequence;
//   tg<N>@b<B>  B sequences generating together: N decode() calls of B entries (one per
//               sequence); tokens/s counts all B*N tokens.
// Token ids are pseudo-random (fixed seed), the KV cache is F16 and is cleared before every run.
//
// Output: a markdown table on stdout (mean ± sample stddev of tokens/s), or with --json one JSON
// array of {"test", "threads", "sequences", "tps_mean", "tps_stddev"} objects. --roofline first
// measures the machine's read bandwidth (all threads streaming a buffer much larger than the
// caches) and reports each tg test as the fraction of the bandwidth limit it reaches: weight
// bytes read per decode step (every matrix once; the embedding table only as the output matrix
// when it is tied) times steps per second, divided by the bandwidth; the JSON objects then also
// carry "bandwidth_gbs" and "roofline". Progress goes to stderr; exit 2 on bad arguments/files.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "cli/commands.h"
#include "engine/context.h"
#include "engine/model.h"

namespace agora::cli {
namespace {

struct BenchOptions {
  std::string model;
  int threads = 0;
  int n_prompt = 512;
  int n_gen = 128;
  int reps = 3;
  std::string batches = "1";
  bool json = false;
  bool roofline = false;
};

struct BenchResult {
  std::string test;
  int sequences = 1;
  double mean = 0, stddev = 0;
  double roofline = -1;  // fraction of the bandwidth limit (tg tests with --roofline)
};

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

bool parse_batches(const std::string& s, std::vector<int>& out) {
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < 1 || v > 256) return false;
    out.push_back(static_cast<int>(v));
  }
  return !out.empty();
}

void mean_stddev(const std::vector<double>& v, double& mean, double& sd) {
  mean = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  sd = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0;
}

// Read bandwidth in bytes/s: every thread sums its slice of a 512 MiB buffer (integer adds, four
// independent accumulators, so memory and not add latency is the limit); best of five passes.
double measure_bandwidth(ThreadPool& pool) {
  const size_t n = (size_t(512) << 20) / sizeof(uint64_t);
  std::unique_ptr<uint64_t[]> buf(new uint64_t[n]);
  pool.parallel_for(static_cast<int64_t>(n), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) buf[static_cast<size_t>(i)] = static_cast<uint64_t>(i);
  });
  const int nt = pool.n_threads();
  std::vector<uint64_t> sink(static_cast<size_t>(nt) * 8, 0);
  double best = 0;
  for (int pass = 0; pass < 5; ++pass) {
    const auto t0 = Clock::now();
    pool.parallel_for(
        nt,
        [&](int64_t tb, int64_t te) {
          for (int64_t t = tb; t < te; ++t) {
            const size_t b = n * static_cast<size_t>(t) / static_cast<size_t>(nt);
            const size_t e = n * static_cast<size_t>(t + 1) / static_cast<size_t>(nt);
            uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (size_t i = b; i + 4 <= e; i += 4) {
              s0 += buf[i];
              s1 += buf[i + 1];
              s2 += buf[i + 2];
              s3 += buf[i + 3];
            }
            sink[static_cast<size_t>(t) * 8] += s0 + s1 + s2 + s3;
          }
        },
        1);
    best = std::max(best, static_cast<double>(n * sizeof(uint64_t)) / seconds(t0));
  }
  uint64_t all = 0;
  for (uint64_t s : sink) all += s;
  if (all == 42) std::fprintf(stderr, " ");  // keeps the sums alive
  return best;
}

// Bytes of weights one decode step reads: every tensor but the token embedding, which is read
// one row per token unless it doubles as the output matrix.
uint64_t bytes_per_step(const Model& m) {
  uint64_t total = 0;
  const bool tied = m.file().tensor("output.weight") == nullptr;
  for (const auto& t : m.file().tensors())
    if (t.name != "token_embd.weight" || tied) total += t.n_bytes;
  return total;
}

std::string human_size(uint64_t bytes) {
  char b[64];
  if (bytes >= (uint64_t(1) << 30)) std::snprintf(b, sizeof b, "%.2f GiB", bytes / 1073741824.0);
  else std::snprintf(b, sizeof b, "%.2f MiB", bytes / 1048576.0);
  return b;
}

void bench(const BenchOptions& o) {
  std::vector<int> batches;
  if (!parse_batches(o.batches, batches)) {
    fail(2, "-b must be a comma-separated list of sequence counts in 1..256");
    return;
  }
  if (o.n_prompt < 0 || o.n_gen < 0 || o.reps < 1) {
    fail(2, "-p and -n must be >= 0 and -r >= 1");
    return;
  }
  if (o.n_prompt == 0 && o.n_gen == 0) {
    fail(2, "nothing to run: -p and -n are both 0");
    return;
  }
  auto model = Model::load(o.model);
  if (!model.ok()) {
    fail(2, model.status().message());
    return;
  }
  const Model& m = *model.value();
  const ModelParams& mp = m.params();
  const int max_b = *std::max_element(batches.begin(), batches.end());

  ContextParams cp;
  cp.n_ctx = std::max<int64_t>(std::max(o.n_prompt, o.n_gen), 16);
  cp.n_seq = max_b;
  cp.n_batch = std::max<int64_t>({int64_t(o.n_prompt), int64_t(max_b), 1});
  cp.n_threads = o.threads;
  auto created = Context::create(m, cp);
  if (!created.ok()) {
    fail(2, created.status().message());
    return;
  }
  Context& ctx = *created.value();
  const int n_threads = ctx.params().n_threads;

  std::mt19937 rng(1234);
  std::uniform_int_distribution<int32_t> tok(0, static_cast<int32_t>(mp.n_vocab - 1));
  auto clear_all = [&] {
    for (int s = 0; s < cp.n_seq; ++s) ctx.clear_seq(s);
  };
  std::vector<BatchEntry> batch;
  batch.reserve(static_cast<size_t>(cp.n_batch));
  bool failed = false;
  auto decode = [&](const std::vector<BatchEntry>& b) {
    auto r = ctx.decode(b);
    if (!r.ok() && !failed) {
      failed = true;
      fail(1, r.status().message());
    }
  };
  // One prompt of n tokens in one decode(); returns seconds.
  auto run_pp = [&](int n) {
    clear_all();
    batch.clear();
    for (int i = 0; i < n; ++i) batch.push_back({tok(rng), i, 0, i + 1 == n});
    const auto t0 = Clock::now();
    decode(batch);
    return seconds(t0);
  };
  // n steps of b sequences, one token each per step; returns seconds.
  auto run_tg = [&](int n, int b) {
    clear_all();
    const auto t0 = Clock::now();
    for (int i = 0; i < n && !failed; ++i) {
      batch.clear();
      for (int s = 0; s < b; ++s) batch.push_back({tok(rng), i, s, true});
      decode(batch);
    }
    return seconds(t0);
  };

  double bandwidth = 0;
  if (o.roofline) {
    std::fprintf(stderr, "agora: measuring memory bandwidth...\n");
    bandwidth = measure_bandwidth(ctx.pool());
  }
  const uint64_t step_bytes = bytes_per_step(m);

  std::vector<BenchResult> results;
  if (o.n_prompt > 0) {
    run_pp(std::min(o.n_prompt, 16));  // warm-up: maps the weights, sizes the buffers
    std::vector<double> tps;
    for (int r = 0; r < o.reps && !failed; ++r) tps.push_back(o.n_prompt / run_pp(o.n_prompt));
    if (failed) return;
    BenchResult res{"pp" + std::to_string(o.n_prompt), 1};
    mean_stddev(tps, res.mean, res.stddev);
    results.push_back(res);
    std::fprintf(stderr, "agora: %s: %.2f t/s\n", res.test.c_str(), res.mean);
  }
  if (o.n_gen > 0) {
    for (int b : batches) {
      run_tg(std::min(o.n_gen, 4), b);  // warm-up
      std::vector<double> tps;
      for (int r = 0; r < o.reps && !failed; ++r) tps.push_back(static_cast<double>(o.n_gen) * b / run_tg(o.n_gen, b));
      if (failed) return;
      BenchResult res{"tg" + std::to_string(o.n_gen) + (b > 1 ? "@b" + std::to_string(b) : ""), b};
      mean_stddev(tps, res.mean, res.stddev);
      if (o.roofline && bandwidth > 0) res.roofline = res.mean / b * static_cast<double>(step_bytes) / bandwidth;
      results.push_back(res);
      std::fprintf(stderr, "agora: %s: %.2f t/s\n", res.test.c_str(), res.mean);
    }
  }

  if (o.json) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& r : results) {
      nlohmann::ordered_json j = {{"test", r.test}, {"threads", n_threads}, {"sequences", r.sequences},
                          {"tps_mean", r.mean}, {"tps_stddev", r.stddev}};
      if (o.roofline) {
        j["bandwidth_gbs"] = bandwidth / 1e9;
        if (r.roofline >= 0) j["roofline"] = r.roofline;
      }
      arr.push_back(j);
    }
    std::printf("%s\n", arr.dump().c_str());
    return;
  }
  std::string type = "?";
  if (auto ft = m.file().get_u64("general.file_type")) {
    const char* names[] = {"F32", "F16", "Q4_0", "Q4_1", "?", "?", "?", "Q8_0", "Q5_0", "Q5_1", "Q2_K",
                           "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K"};
    if (*ft < sizeof(names) / sizeof(names[0])) type = names[*ft];
  }
  const std::string model_name = mp.arch_name + " " + type;
  const std::string size = human_size(m.weight_bytes());
  char params[32];
  std::snprintf(params, sizeof params, "%.2f B", m.n_params() / 1e9);
  if (o.roofline)
    std::printf("memory read bandwidth: %.2f GB/s (%d threads); weights read per decode step: %s\n\n",
                bandwidth / 1e9, n_threads, human_size(step_bytes).c_str());
  std::printf("| model | size | params | threads | sequences | test | t/s |%s\n", o.roofline ? " roofline |" : "");
  std::printf("| ----- | ---: | -----: | ------: | --------: | ---: | --: |%s\n", o.roofline ? " -------: |" : "");
  for (const auto& r : results) {
    char roof[64] = "";
    if (o.roofline) {
      if (r.roofline >= 0) std::snprintf(roof, sizeof roof, " %.0f%% |", 100 * r.roofline);
      else std::snprintf(roof, sizeof roof, " |");
    }
    std::printf("| %s | %s | %s | %d | %d | %s | %.2f ± %.2f |%s\n", model_name.c_str(), size.c_str(), params, n_threads,
                r.sequences, r.test.c_str(), r.mean, r.stddev, roof);
  }
}

}  // namespace

void register_bench(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand("bench", "Measure prompt-processing and generation speed");
  cmd->add_option("-m,--model", o->model, "GGUF model file")->required();
  cmd->add_option("-t,--threads", o->threads, "Threads (default: physical cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("-p,--n-prompt", o->n_prompt, "Prompt tokens for the pp test (default 512; 0 = skip)");
  cmd->add_option("-n,--n-gen", o->n_gen, "Generated tokens for the tg tests (default 128; 0 = skip)");
  cmd->add_option("-r,--repetitions", o->reps, "Repetitions of each test (default 3)");
  cmd->add_option("-b,--batch-seqs", o->batches, "Sequences decoding together, comma-separated (default 1)");
  cmd->add_flag("--json", o->json, "Print one JSON array instead of a table");
  cmd->add_flag("--roofline", o->roofline, "Measure memory bandwidth and report tg against it");
  cmd->callback([o] { bench(*o); });
}

}  // namespace agora::cli
