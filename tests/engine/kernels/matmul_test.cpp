// ctest-labels: unit
// matmul against a naive loop: exactly equal to per-element vec_dot on the converted
// activations, and close to the f32 product of the dequantized weights.
#include "engine/kernels/matmul.h"

#include <gtest/gtest.h>

#include <cmath>

#include "kernel_test_util.h"

namespace agora {
namespace {

void check(GgmlType t, int64_t n_in, int64_t n_out, int64_t n_tok, ThreadPool& pool,
           std::vector<uint8_t>& scratch, std::mt19937& rng) {
  const size_t row_bytes = row_size(t, n_in);
  std::vector<uint8_t> w;
  for (int64_t o = 0; o < n_out; ++o) {
    auto r = test::random_row(t, n_in, rng);
    w.insert(w.end(), r.begin(), r.end());
  }
  auto x = test::random_floats(n_in * n_tok, rng);
  std::vector<float> y(n_out * n_tok, NAN);
  matmul(WeightView{t, w.data(), n_in, n_out, row_bytes}, x.data(), n_tok, y.data(), pool, scratch);

  const TypeOps& ops = type_ops(t);
  const GgmlType vdt = ops.vec_dot_type;
  std::vector<uint8_t> a(row_size(vdt, n_in));
  std::vector<float> wf(n_in), af(n_in);
  for (int64_t tok = 0; tok < n_tok; ++tok) {
    type_ops(vdt).from_float(x.data() + tok * n_in, a.data(), n_in);
    dequantize_row(vdt, a.data(), af.data(), n_in);
    for (int64_t o = 0; o < n_out; ++o) {
      const uint8_t* wr = w.data() + o * row_bytes;
      const float got = y[tok * n_out + o];
      ASSERT_EQ(got, ops.vec_dot(n_in, wr, a.data()))
          << type_name(t) << " tok " << tok << " o " << o << " n_tok " << n_tok;
      dequantize_row(t, wr, wf.data(), n_in);
      double ref = 0, mag = 0;
      for (int64_t i = 0; i < n_in; ++i) {
        ref += static_cast<double>(wf[i]) * af[i];
        mag += std::fabs(static_cast<double>(wf[i]) * af[i]);
      }
      ASSERT_NEAR(got, ref, 2e-3 * mag + 1e-6) << type_name(t);
    }
  }
}

TEST(Matmul, MatchesNaiveLoopEveryType) {
  std::mt19937 rng(3);
  std::vector<uint8_t> scratch;
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (GgmlType t : test::kWeightTypes) {
      const int64_t n_in = 512;
      for (int64_t n_tok : {1, 3, 17, 40})
        for (int64_t n_out : {1, 7, 33, 67}) check(t, n_in, n_out, n_tok, pool, scratch, rng);
    }
  }
}

TEST(Matmul, ScratchGrowsOnlyWhenTooSmall) {
  std::mt19937 rng(5);
  ThreadPool pool(2);
  const GgmlType t = GgmlType::Q4_0;
  const WeightView probe{t, nullptr, 256, 8, row_size(t, 256)};
  std::vector<uint8_t> scratch(matmul_scratch_bytes(probe, 17));
  const uint8_t* before = scratch.data();
  check(t, 256, 8, 17, pool, scratch, rng);
  check(t, 256, 8, 3, pool, scratch, rng);
  EXPECT_EQ(scratch.data(), before);  // pre-sized: no reallocation
  EXPECT_EQ(matmul_scratch_bytes(WeightView{GgmlType::F32, nullptr, 256, 8, 1024}, 5), 0u);
}

TEST(Matmul, PaddedRowStride) {
  std::mt19937 rng(11);
  ThreadPool pool(2);
  std::vector<uint8_t> scratch;
  const GgmlType t = GgmlType::Q8_0;
  const int64_t n_in = 64, n_out = 5;
  const size_t stride = row_size(t, n_in) + 6;
  std::vector<uint8_t> w(stride * n_out, 0xAB);
  for (int64_t o = 0; o < n_out; ++o) {
    auto r = test::random_row(t, n_in, rng);
    std::copy(r.begin(), r.end(), w.begin() + o * stride);
  }
  auto x = test::random_floats(n_in, rng);
  std::vector<float> y(n_out);
  matmul(WeightView{t, w.data(), n_in, n_out, stride}, x.data(), 1, y.data(), pool, scratch);
  std::vector<uint8_t> a(row_size(t, n_in));
  type_ops(t).from_float(x.data(), a.data(), n_in);
  for (int64_t o = 0; o < n_out; ++o)
    EXPECT_EQ(y[o], type_ops(t).vec_dot(n_in, w.data() + o * stride, a.data()));
}

}  // namespace
}  // namespace agora
