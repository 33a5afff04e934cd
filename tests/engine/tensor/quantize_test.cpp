// ctest-labels: unit
// Quantizers: exact bytes on inputs whose reference output is known by hand (rounding rules),
// and quantize -> dequantize round-trip error bounds on random rows.
#include "engine/tensor/quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "engine/kernels/type_ops.h"
#include "engine/tensor/dequantize.h"
#include "engine/tensor/fp16.h"
#include "engine/tensor/quant_blocks.h"

namespace agora {
namespace {

std::vector<float> random_row(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  return v;
}

// A deterministic, platform-independent input row (xorshift, no <random> distributions), with
// varied block scales and some all-zero sub-blocks.
std::vector<float> golden_input(int64_t n) {
  std::vector<float> x(static_cast<size_t>(n));
  uint64_t s = 0x9E3779B97F4A7C15ull;
  for (int64_t i = 0; i < n; ++i) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    const float u = static_cast<float>(s >> 40) / 16777216.0f;  // [0, 1)
    const float block_scale = static_cast<float>(1 + (i / 256) % 7) * 0.25f;
    x[i] = (u * 2.0f - 1.0f) * (u * u + 0.1f) * block_scale;
    if ((i / 256) % 5 == 3 && i % 256 < 40) x[i] = 0.0f;
  }
  return x;
}

uint64_t fnv1a(const std::vector<uint8_t>& bytes) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// FNV-1a of the reference engine's quantize_row_*_ref output for golden_input(256 * 40), taken
// from its C source built with -ffp-contract=off (a throwaway harness, not in this repository).
// The scalar and the fast (type_ops) quantizers must reproduce those bytes exactly.
TEST(Quantize, MatchesReferenceEngineBytes) {
  // Q4_K: the reference's own bytes differ between its x86-64-v3 and its baseline x86-64 builds
  // (both without contraction; 0x0de4c9e5d21efbd7 is the baseline build's), and ours follow the
  // same split, so either hash is accepted for it. TODO(q4k-isa): find the ISA-dependent step.
  const uint64_t q4_k_baseline = 0x0de4c9e5d21efbd7ull;
  const struct {
    GgmlType type;
    uint64_t hash;
  } golden[] = {
      {GgmlType::Q4_0, 0x3ad7c64e03d6b3d1ull}, {GgmlType::Q4_1, 0xf1cc8e211a664a93ull},
      {GgmlType::Q5_0, 0x008d0ed4fbc7e70aull}, {GgmlType::Q5_1, 0x045c348a69e701b8ull},
      {GgmlType::Q8_0, 0x7d3b116dff332fe7ull}, {GgmlType::Q8_1, 0xeb9bda34db3e4acaull},
      {GgmlType::Q8_K, 0x2f9cf004fce23134ull}, {GgmlType::Q2_K, 0xac04443c8856e782ull},
      {GgmlType::Q3_K, 0x98631e0e90c15d7bull}, {GgmlType::Q4_K, 0x02166e200dd98e16ull},
      {GgmlType::Q5_K, 0x5d1895a4ff6860f6ull}, {GgmlType::Q6_K, 0x11fefd250985ff22ull},
  };
  const int64_t n = 256 * 40;
  const auto x = golden_input(n);
  for (const auto& g : golden) {
    std::vector<uint8_t> q(row_size(g.type, n));
    quantize_row_fn(g.type)(x.data(), q.data(), n);
    auto matches = [&](uint64_t h) {
      return h == g.hash || (g.type == GgmlType::Q4_K && h == q4_k_baseline);
    };
    EXPECT_TRUE(matches(fnv1a(q))) << type_name(g.type) << " (scalar)";
    std::fill(q.begin(), q.end(), 0);
    type_ops(g.type).from_float(x.data(), q.data(), n);
    EXPECT_TRUE(matches(fnv1a(q))) << type_name(g.type) << " (type_ops)";
  }
}

TEST(Quantize, Q4_0KnownBytes) {
  float x[32];
  for (int i = 0; i < 32; ++i) x[i] = static_cast<float>(i - 16);
  BlockQ4_0 b;
  quantize_row_q4_0(x, &b, 32);
  // max |x| is x[0] = -16, so d = -16 / -8 = 2 and q = trunc(x/2 + 8.5), clamped to 15.
  EXPECT_EQ(b.d, fp32_to_fp16(2.0f));
  for (int j = 0; j < 16; ++j) {
    const int lo = std::min(15, (j + 1) / 2), hi = std::min(15, (j + 16 + 1) / 2);
    EXPECT_EQ(b.qs[j], lo | (hi << 4)) << j;
  }
}

TEST(Quantize, Q8_0RoundsHalfAwayFromZero) {
  float x[32] = {127.0f, 0.5f, -2.5f, 1.5f, -0.5f, 3.49f, -126.5f};
  BlockQ8_0 b;
  quantize_row_q8_0(x, &b, 32);
  EXPECT_EQ(fp16_to_fp32(b.d), 1.0f);
  const int expect[7] = {127, 1, -3, 2, -1, 3, -127};
  for (int i = 0; i < 7; ++i) EXPECT_EQ(b.qs[i], expect[i]) << i;
  for (int i = 7; i < 32; ++i) EXPECT_EQ(b.qs[i], 0);
}

TEST(Quantize, Q8_1SumField) {
  auto x = random_row(64, 7);
  BlockQ8_1 b[2];
  quantize_row_q8_1(x.data(), b, 64);
  for (int i = 0; i < 2; ++i) {
    int sum = 0;
    for (int j = 0; j < 32; ++j) sum += b[i].qs[j];
    const float d = fp16_to_fp32(b[i].d);
    EXPECT_NEAR(fp16_to_fp32(b[i].s), sum * d, std::fabs(sum * d) * 2e-3f + 1e-6f);
  }
}

TEST(Quantize, Q8_KRoundsHalfToEvenAndSums) {
  std::vector<float> x(256, 0.0f);
  x[0] = -127.0f;  // the extreme: iscale = 1, d = 1
  x[1] = 0.5f;
  x[2] = 1.5f;
  x[3] = -2.5f;
  x[4] = 126.5f;
  BlockQ8_K b;
  quantize_row_q8_k(x.data(), &b, 256);
  EXPECT_EQ(b.d, 1.0f);
  EXPECT_EQ(b.qs[0], -127);
  EXPECT_EQ(b.qs[1], 0);
  EXPECT_EQ(b.qs[2], 2);
  EXPECT_EQ(b.qs[3], -2);
  EXPECT_EQ(b.qs[4], 126);
  EXPECT_EQ(b.bsums[0], -127 + 0 + 2 - 2 + 126);
  for (int s = 1; s < 16; ++s) EXPECT_EQ(b.bsums[s], 0);
}

TEST(Quantize, ZeroRowsGiveZeroBlocks) {
  std::vector<float> x(256, 0.0f), out(256, 1.0f);
  for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                     GgmlType::Q8_0, GgmlType::Q8_1, GgmlType::Q8_K}) {
    std::vector<uint8_t> q(row_size(t, 256));
    quantize_row_fn(t)(x.data(), q.data(), 256);
    dequantize_row(t, q.data(), out.data(), 256);
    for (float v : out) ASSERT_EQ(v, 0.0f) << type_name(t);
  }
}

// Worst-case error of one value, given the block's values: half a step of the grid plus the
// f16 rounding of the block's scale and min.
struct Case {
  GgmlType type;
  int block;
  double (*bound)(const float* x, int n);
};

double amax_of(const float* x, int n) {
  double a = 0;
  for (int i = 0; i < n; ++i) a = std::max(a, static_cast<double>(std::fabs(x[i])));
  return a;
}
double range_of(const float* x, int n) {
  double lo = x[0], hi = x[0];
  for (int i = 0; i < n; ++i) lo = std::min(lo, static_cast<double>(x[i])), hi = std::max(hi, static_cast<double>(x[i]));
  return hi - lo;
}

TEST(Quantize, RoundTripErrorBounds) {
  const Case cases[] = {
      // symmetric 4-bit: the side opposite the extreme clamps at +7 steps of 8: up to one step.
      {GgmlType::Q4_0, 32, [](const float* x, int n) { return amax_of(x, n) / 8 * 1.01 + 1e-6; }},
      {GgmlType::Q5_0, 32, [](const float* x, int n) { return amax_of(x, n) / 16 * 1.01 + 1e-6; }},
      {GgmlType::Q4_1, 32,
       [](const float* x, int n) { return range_of(x, n) / 15 * 0.5 * 1.01 + amax_of(x, n) * 2e-3; }},
      {GgmlType::Q5_1, 32,
       [](const float* x, int n) { return range_of(x, n) / 31 * 0.5 * 1.01 + amax_of(x, n) * 2e-3; }},
      {GgmlType::Q8_0, 32,
       [](const float* x, int n) { return amax_of(x, n) / 127 * 0.5 * 1.01 + amax_of(x, n) * 1e-3; }},
      {GgmlType::Q8_1, 32,
       [](const float* x, int n) { return amax_of(x, n) / 127 * 0.5 * 1.01 + amax_of(x, n) * 1e-3; }},
      {GgmlType::Q8_K, 256, [](const float* x, int n) { return amax_of(x, n) / 127 * 0.5 * 1.01; }},
      // K-quants: a sub-block's error is at most about half its step, its step at most twice
      // the (sub-block range / levels) after rounding the scales; bound by the block's range.
      {GgmlType::Q2_K, 256, [](const float* x, int n) { return range_of(x, n) / 3 * 0.75; }},
      {GgmlType::Q3_K, 256, [](const float* x, int n) { return amax_of(x, n) / 4 * 0.75; }},
      {GgmlType::Q4_K, 256, [](const float* x, int n) { return range_of(x, n) / 15 * 0.75; }},
      {GgmlType::Q5_K, 256, [](const float* x, int n) { return range_of(x, n) / 31 * 0.75; }},
      {GgmlType::Q6_K, 256, [](const float* x, int n) { return amax_of(x, n) / 32 * 0.75; }},
      {GgmlType::F16, 1, [](const float* x, int n) { return std::fabs(x[0]) * (1.0 / 2048) + 1e-7; }},
      {GgmlType::BF16, 1, [](const float* x, int n) { return std::fabs(x[0]) * (1.0 / 256) + 1e-30; }},
  };
  const int64_t n = 1024;
  for (const Case& c : cases) {
    for (uint32_t seed = 1; seed <= 5; ++seed) {
      auto x = random_row(n, seed, seed == 5 ? 1000.0f : 1.0f);
      std::vector<uint8_t> q(row_size(c.type, n));
      std::vector<float> back(n);
      quantize_row_fn(c.type)(x.data(), q.data(), n);
      dequantize_row(c.type, q.data(), back.data(), n);
      for (int64_t b0 = 0; b0 < n; b0 += c.block) {
        for (int64_t i = b0; i < b0 + c.block; ++i) {
          const double bound = c.block == 1 ? c.bound(&x[i], 1) : c.bound(&x[b0], c.block);
          ASSERT_LE(std::fabs(back[i] - x[i]), bound) << type_name(c.type) << " seed " << seed << " i " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace agora
