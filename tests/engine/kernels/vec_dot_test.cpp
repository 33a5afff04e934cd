// ctest-labels: unit
// Every dot-product kernel against the definition (dequantize both rows, dot in double), and
// every fast (AVX2) kernel and activation quantizer against its scalar twin.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/kernels/type_ops.h"
#include "kernel_test_util.h"

namespace agora {
namespace {

using test::kWeightTypes;

std::vector<int64_t> lengths(GgmlType t) {
  const int64_t bs = std::max<int64_t>(type_info(type_ops(t).vec_dot_type).block_size,
                                       type_info(t).block_size);
  // Odd block counts and tails after groups of eight blocks (8, 9, 15, 17 blocks).
  return {bs, 3 * bs, 8 * bs, 9 * bs, 15 * bs, 17 * bs, 4096};
}

struct Pair {
  std::vector<uint8_t> w, a;
  double ref = 0, mag = 0;  // exact dot of the decoded rows, and sum of |products|
};

bool is_float_type(GgmlType t) {
  return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16;
}

Pair make_pair(GgmlType t, int64_t n, std::mt19937& rng) {
  Pair p;
  p.w = test::random_row(t, n, rng);
  const GgmlType vdt = type_ops_scalar(t).vec_dot_type;
  auto x = test::random_floats(n, rng);
  p.a.resize(row_size(vdt, n));
  type_ops_scalar(vdt).from_float(x.data(), p.a.data(), n);
  std::vector<float> wf(n), af(n);
  dequantize_row(t, p.w.data(), wf.data(), n);
  dequantize_row(vdt, p.a.data(), af.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    p.ref += static_cast<double>(wf[i]) * af[i];
    p.mag += std::fabs(static_cast<double>(wf[i]) * af[i]);
  }
  return p;
}

TEST(VecDot, ScalarMatchesDequantizedDot) {
  std::mt19937 rng(42);
  for (GgmlType t : kWeightTypes) {
    for (int64_t n : lengths(t)) {
      for (int rep = 0; rep < 4; ++rep) {
        Pair p = make_pair(t, n, rng);
        const float got = type_ops_scalar(t).vec_dot(n, p.w.data(), p.a.data());
        // Integer sums are exact; what remains is f32 scaling/summation and, for the _1 types,
        // the activation's f16-rounded block sum.
        ASSERT_NEAR(got, p.ref, 2e-3 * p.mag + 1e-6) << type_name(t) << " n=" << n;
      }
    }
  }
}

TEST(VecDot, FastMatchesScalar) {
  if (!kernels_use_avx2()) GTEST_SKIP() << "no AVX2 kernels on this build/CPU";
  std::mt19937 rng(7);
  for (GgmlType t : kWeightTypes) {
    ASSERT_NE(type_ops(t).vec_dot, nullptr);
    for (int64_t n : lengths(t)) {
      for (int rep = 0; rep < 8; ++rep) {
        Pair p = make_pair(t, n, rng);
        const float fast = type_ops(t).vec_dot(n, p.w.data(), p.a.data());
        const float ref = type_ops_scalar(t).vec_dot(n, p.w.data(), p.a.data());
        if (is_float_type(t)) {
          // Eight-lane f32 sums against the scalar double sum: rounding only.
          ASSERT_NEAR(fast, ref, 1e-5 * p.mag + 1e-6) << type_name(t) << " n=" << n << " rep " << rep;
        } else {
          // Same integer block sums, same float operations in the same order: bit-identical.
          ASSERT_EQ(fast, ref) << type_name(t) << " n=" << n << " rep " << rep;
        }
      }
    }
  }
}

TEST(VecDot, MultiTokenKernelsMatchSingleTokenBitForBit) {
  // Batch invariance: a token's dot product must not depend on the other tokens of the tile.
  std::mt19937 rng(11);
  for (GgmlType t : kWeightTypes) {
    const TypeOps& ops = type_ops(t);
    if (!ops.vec_dot_multi) continue;
    const GgmlType vdt = ops.vec_dot_type;
    for (int64_t n : lengths(t)) {
      const auto w = test::random_row(t, n, rng);
      const size_t stride = row_size(vdt, n) + 64;  // padded rows: the stride is honoured
      std::vector<uint8_t> act(stride * 8);
      for (int k = 0; k < 8; ++k) {
        auto x = test::random_floats(n, rng, k == 3 ? 1e-3f : 1.0f);
        type_ops(vdt).from_float(x.data(), act.data() + k * stride, n);
      }
      for (int n_act = 1; n_act <= 8; ++n_act) {
        std::vector<float> out(8, NAN);
        ops.vec_dot_multi(n, w.data(), act.data(), stride, n_act, out.data());
        for (int k = 0; k < n_act; ++k)
          ASSERT_EQ(out[k], ops.vec_dot(n, w.data(), act.data() + k * stride))
              << type_name(t) << " n=" << n << " n_act=" << n_act << " token " << k;
        for (int k = n_act; k < 8; ++k) ASSERT_TRUE(std::isnan(out[k])) << "wrote past n_act";
      }
    }
  }
}

TEST(VecDot, EightRowKernelsMatchSingleRowBitForBit) {
  std::mt19937 rng(13);
  for (GgmlType t : kWeightTypes) {
    const TypeOps& ops = type_ops(t);
    if (!ops.vec_dot_rows8) continue;
    const GgmlType vdt = ops.vec_dot_type;
    for (int64_t n : lengths(t)) {
      const size_t ws = row_size(t, n) + 18;  // an odd padding: unaligned rows
      std::vector<uint8_t> w(ws * 8);
      for (int r = 0; r < 8; ++r) {
        const auto row = test::random_row(t, n, rng);
        std::copy(row.begin(), row.end(), w.begin() + r * ws);
      }
      const size_t as = row_size(vdt, n);
      std::vector<uint8_t> act(as * 8);
      for (int k = 0; k < 8; ++k) {
        auto x = test::random_floats(n, rng);
        type_ops(vdt).from_float(x.data(), act.data() + k * as, n);
      }
      for (int n_act = 1; n_act <= 8; ++n_act) {
        const size_t os = 11;
        std::vector<float> out(os * 8, NAN);
        ops.vec_dot_rows8(n, w.data(), ws, act.data(), as, n_act, out.data(), os);
        for (int k = 0; k < n_act; ++k)
          for (int r = 0; r < 8; ++r)
            ASSERT_EQ(out[k * os + r], ops.vec_dot(n, w.data() + r * ws, act.data() + k * as))
                << type_name(t) << " n=" << n << " n_act=" << n_act << " token " << k << " row " << r;
        for (int k = n_act; k < 8; ++k)
          for (size_t r = 0; r < os; ++r) ASSERT_TRUE(std::isnan(out[k * os + r])) << "wrote past n_act";
      }
    }
  }
}

TEST(VecDot, FastActivationQuantizersAreByteExact) {
  std::mt19937 rng(9);
  for (GgmlType t : {GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q8_1, GgmlType::Q8_K}) {
    for (int64_t n : {256, 512, 4096}) {
      for (float scale : {1.0f, 1e-3f, 300.0f}) {
        auto x = test::random_floats(n, rng, scale);
        x[n / 2] = 0.5f * scale;  // halves exercise the rounding rule
        std::vector<uint8_t> fast(row_size(t, n)), ref(row_size(t, n));
        type_ops(t).from_float(x.data(), fast.data(), n);
        type_ops_scalar(t).from_float(x.data(), ref.data(), n);
        ASSERT_EQ(fast, ref) << type_name(t) << " n=" << n;
      }
    }
    // An all-zero row.
    std::vector<float> z(256, 0.0f);
    std::vector<uint8_t> fast(row_size(t, 256)), ref(row_size(t, 256));
    type_ops(t).from_float(z.data(), fast.data(), 256);
    type_ops_scalar(t).from_float(z.data(), ref.data(), 256);
    ASSERT_EQ(fast, ref) << type_name(t);
  }
}

TEST(VecDot, TableIsConsistent) {
  for (GgmlType t : kWeightTypes) {
    const TypeOps& ops = type_ops(t);
    EXPECT_EQ(ops.type, t);
    EXPECT_NE(ops.to_float, nullptr);
    EXPECT_NE(ops.vec_dot, nullptr);
    EXPECT_NE(type_ops(ops.vec_dot_type).from_float, nullptr) << type_name(t);
  }
  EXPECT_EQ(type_ops(GgmlType::Q4_0).vec_dot_type, GgmlType::Q8_0);
  EXPECT_EQ(type_ops(GgmlType::Q4_1).vec_dot_type, GgmlType::Q8_1);
  EXPECT_EQ(type_ops(GgmlType::Q4_K).vec_dot_type, GgmlType::Q8_K);
  EXPECT_EQ(type_ops(GgmlType::IQ4_NL).vec_dot_type, GgmlType::Q8_0);
  EXPECT_EQ(type_ops(GgmlType::IQ4_XS).vec_dot_type, GgmlType::Q8_K);
  EXPECT_EQ(type_ops(GgmlType::F16).vec_dot_type, GgmlType::F16);
}

}  // namespace
}  // namespace agora
