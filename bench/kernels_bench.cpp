// Kernel throughput: GB/s of weights streamed by a 4096x4096 matrix-vector product per type
// (the decode regime), the memory bandwidth this machine gives to a plain read and a memcpy, and
// prefill throughput of a matrix x 64 tokens; "hot ... tok:8" is the batched-decode regime (one
// weight row against eight sequences). Compare the CPU-time column on a loaded machine.
//
//   kernels_bench [--benchmark_filter=matvec] ...
//
// "hot": one 4096x4096 matrix, re-read every iteration (it may stay in a large L3).
// "cold": iterations rotate over copies totalling >= 512 MiB, so weights come from DRAM, as in a
// real model's decode step. bytes_per_second counts weight bytes only.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "engine/kernels/matmul.h"
#include "engine/kernels/repacked.h"
#include "engine/kernels/thread_pool.h"
#include "engine/kernels/type_ops.h"
#include "engine/tensor/fp16.h"
#include "engine/tensor/quantize.h"

namespace agora {
namespace {

constexpr int64_t kDim = 4096;
constexpr size_t kColdBytes = size_t{512} << 20;

const GgmlType kTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q8_0,
                           GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                           GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K,
                           GgmlType::Q6_K, GgmlType::IQ4_NL, GgmlType::IQ4_XS};

// One kDim x kDim matrix of type t: quantized from Gaussian floats, or (IQ4 types, which have no
// quantizer) random bytes with small f16 scales.
std::vector<uint8_t> make_matrix(GgmlType t) {
  const size_t row = row_size(t, kDim);
  std::vector<uint8_t> m(row * kDim);
  std::mt19937 rng(1234);
  if (QuantizeRowFn q = quantize_row_fn(t)) {
    std::normal_distribution<float> dist(0.0f, 0.02f);
    std::vector<float> x(kDim);
    for (int64_t r = 0; r < kDim; ++r) {
      for (auto& v : x) v = dist(rng);
      q(x.data(), m.data() + r * row, kDim);
    }
  } else {
    for (auto& b : m) b = static_cast<uint8_t>(rng());
    const size_t bs = type_info(t).type_size;
    const uint16_t d = fp32_to_fp16(0.001f);
    for (size_t off = 0; off < m.size(); off += bs) std::memcpy(&m[off], &d, 2);
  }
  return m;
}

ThreadPool& pool_for(int n) {
  static std::unique_ptr<ThreadPool> pools[9];
  if (!pools[n]) pools[n] = std::make_unique<ThreadPool>(n);
  return *pools[n];
}

// `repacked`: the matrix in the load-time layout the engine uses for its type (repacked.h).
void BM_matvec(benchmark::State& state, GgmlType t, bool cold, bool repacked) {
  const int threads = static_cast<int>(state.range(0));
  const int64_t n_tok = state.range(1);
  std::vector<uint8_t> one = make_matrix(t);
  WeightLayout layout = WeightLayout::rows;
  if (repacked) {
    const WeightView rows{t, one.data(), kDim, kDim, row_size(t, kDim)};
    std::vector<uint8_t> packed;
    if (t == GgmlType::Q4_0) {
      packed.resize(q4_0x8_bytes(kDim, kDim));
      repack_q4_0x8(rows, packed.data(), 0, kDim / 8);
      layout = WeightLayout::q4_0x8;
    } else if (t == GgmlType::Q8_0 && q8_0x8_kernel() != nullptr) {
      packed.resize(q8_0x8_bytes(kDim, kDim));
      repack_q8_0x8(rows, packed.data(), 0, kDim / 8);
      layout = WeightLayout::q8_0x8;
    } else {
      state.SkipWithError("no repacked layout for this type on this CPU");
      return;
    }
    one = std::move(packed);
  }
  const size_t bytes = one.size();
  const size_t copies = cold ? std::max<size_t>(1, kColdBytes / bytes) : 1;
  std::vector<uint8_t> all(bytes * copies);
  for (size_t c = 0; c < copies; ++c) std::memcpy(all.data() + c * bytes, one.data(), bytes);
  std::vector<float> x(kDim * n_tok), y(kDim * n_tok);
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (auto& v : x) v = dist(rng);
  std::vector<uint8_t> scratch;
  ThreadPool& pool = pool_for(threads);
  size_t c = 0;
  for (auto _ : state) {
    WeightView w{t, all.data() + c * bytes, kDim, kDim, row_size(t, kDim)};
    w.layout = layout;
    matmul(w, x.data(), n_tok, y.data(), pool, scratch);
    benchmark::DoNotOptimize(y.data());
    c = (c + 1) % copies;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * kDim * kDim * n_tok * state.iterations(),
                                                 benchmark::Counter::kIsRate,
                                                 benchmark::Counter::kIs1000);
  state.SetLabel(std::string(type_name(t)) + (repacked ? "x8 " + std::string(q4_0x8_kernel_name()) : kernels_use_avx2() ? " avx2" : " scalar"));
}

// Memory bandwidth probes over a 1 GiB buffer: a parallel sum (pure read) and a memcpy.
void BM_mem_read(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  // Integer sum: vectorizes without reassociating floats, so the loop is bound by memory only.
  const size_t n = (size_t{1} << 30) / sizeof(uint32_t);
  std::vector<uint32_t> buf(n, 1u);
  ThreadPool& pool = pool_for(threads);
  std::vector<uint32_t> partial(64 * 16);
  for (auto _ : state) {
    pool.parallel_for(64, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) {
        const uint32_t* p = buf.data() + k * (n / 64);
        uint32_t s = 0;
        for (size_t i = 0; i < n / 64; ++i) s += p[i];
        partial[k * 16] = s;
      }
    });
    benchmark::DoNotOptimize(partial.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * sizeof(uint32_t)));
}

void BM_memcpy(benchmark::State& state) {
  const size_t n = size_t{512} << 20;
  std::vector<uint8_t> a(n, 1), b(n, 2);
  for (auto _ : state) {
    std::memcpy(b.data(), a.data(), n);
    benchmark::DoNotOptimize(b.data());
  }
  // Bytes moved: read + write.
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * 2 * n));
}

int register_all() {
  for (GgmlType t : kTypes) {
    for (bool cold : {false, true}) {
      const std::string name = std::string("matvec_") + (cold ? "cold/" : "hot/") + std::string(type_name(t));
      benchmark::RegisterBenchmark(name.c_str(), BM_matvec, t, cold, false)
          ->ArgsProduct({{1, 2}, cold ? std::vector<int64_t>{1} : std::vector<int64_t>{1, 8}})
          ->ArgNames({"t", "tok"})
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
    const std::string name = std::string("prefill/") + std::string(type_name(t));
    benchmark::RegisterBenchmark(name.c_str(), BM_matvec, t, false, false)
        ->Args({1, 64})
        ->Args({2, 64})
        ->ArgNames({"t", "tok"})
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q8_0}) {
    const std::string name = std::string(type_name(t)) + "x8";
    benchmark::RegisterBenchmark(("matvec_hot/" + name).c_str(), BM_matvec, t, false, true)
        ->ArgsProduct({{1, 2}, {1, 8}})
        ->ArgNames({"t", "tok"})
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("prefill/" + name).c_str(), BM_matvec, t, false, true)
        ->Args({1, 64})
        ->Args({2, 64})
        ->ArgNames({"t", "tok"})
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("mem_read_1GiB", BM_mem_read)->Arg(1)->Arg(2)->ArgName("t")->UseRealTime()->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("memcpy_512MiB", BM_memcpy)->UseRealTime()->Unit(benchmark::kMillisecond);
  return 0;
}

const int registered = register_all();

}  // namespace
}  // namespace agora

BENCHMARK_MAIN();
