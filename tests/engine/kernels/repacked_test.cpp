// ctest-labels: unit
// Repacked weights (repacked.h), Q4_0x8, Q8_0x8, Q4_Kx8 and Q6_Kx8: every kernel this CPU runs returns the scalar reference's bits, and
// matmul on the repacked matrix returns exactly what it returns on the file's rows, for any
// token count (batch invariance) and thread count. Activations with extreme values (every quant
// at -128 or 127, all-zero blocks) cover the int16 and sign edges of the multiply-adds.
#include "engine/kernels/repacked.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "engine/kernels/matmul.h"
#include "engine/tensor/quant_blocks.h"
#include "kernel_test_util.h"

namespace agora {
namespace {

std::vector<uint8_t> random_matrix(int64_t n_in, int64_t n_out, std::mt19937& rng) {
  std::vector<uint8_t> w;
  for (int64_t o = 0; o < n_out; ++o) {
    auto r = test::random_row(GgmlType::Q4_0, n_in, rng);
    w.insert(w.end(), r.begin(), r.end());
  }
  return w;
}

std::vector<uint8_t> repacked(const WeightView& v) {
  std::vector<uint8_t> out(q4_0x8_bytes(v.n_in, v.n_out));
  repack_q4_0x8(v, out.data(), 0, v.n_out / 8);
  return out;
}

// Activation rows: random, plus rows that hit the extremes of the integer products.
std::vector<float> activations(int64_t n_in, int64_t n_tok, std::mt19937& rng) {
  auto x = test::random_floats(n_in * n_tok, rng);
  for (int64_t t = 0; t < n_tok; ++t) {
    float* row = x.data() + t * n_in;
    if (t % 5 == 1) for (int64_t i = 0; i < n_in; ++i) row[i] = (i % 3 == 0) ? -1.0f : 1.0f;  // ±127 quants
    if (t % 5 == 2) for (int64_t i = 0; i < 32; ++i) row[i] = 0.0f;                           // a zero block
    if (t % 5 == 3) for (int64_t i = 0; i < n_in; ++i) row[i] = -1.0f;                         // all -127
  }
  return x;
}

TEST(Q4_0x8, EveryKernelEqualsTheScalarReference) {
  std::mt19937 rng(11);
  Q4_0x8KernelEntry kernels[8];
  const int n_kernels = q4_0x8_kernels_available(kernels, 8);
  ASSERT_GE(n_kernels, 1);
  std::printf("q4_0x8 kernels on this CPU:");
  for (int k = 0; k < n_kernels; ++k) std::printf(" %s", kernels[k].name);
  std::printf(" (selected: %s)\n", q4_0x8_kernel_name());
  for (int64_t n_in : {32, 64, 96, 2048}) {
    const int64_t nb = n_in / 32;
    auto w = random_matrix(n_in, 8, rng);
    const WeightView v{GgmlType::Q4_0, w.data(), n_in, 8, row_size(GgmlType::Q4_0, n_in)};
    ASSERT_TRUE(q4_0x8_eligible(v));
    auto packed = repacked(v);
    for (int n_act = 1; n_act <= 8; ++n_act) {
      auto x = activations(n_in, n_act, rng);
      const size_t act_row = row_size(GgmlType::Q8_0, n_in);
      std::vector<uint8_t> act(act_row * n_act);
      std::vector<Q8BlockAux> sums(static_cast<size_t>(nb * n_act));
      for (int t = 0; t < n_act; ++t) {
        type_ops(GgmlType::Q8_0).from_float(x.data() + t * n_in, act.data() + t * act_row, n_in);
        q8_0_block_aux(act.data() + t * act_row, nb, sums.data() + t * nb);
      }
      std::vector<float> ref(8 * n_act);
      q4_0x8_kernel_scalar()(nb, packed.data(), act.data(), act_row, sums.data(), nb, n_act, ref.data(), 8);
      // The reference is the unpacked dot product, row by row.
      for (int t = 0; t < n_act; ++t)
        for (int r = 0; r < 8; ++r)
          ASSERT_EQ(ref[t * 8 + r], type_ops_scalar(GgmlType::Q4_0).vec_dot(n_in, w.data() + r * v.row_bytes,
                                                                            act.data() + t * act_row))
              << "n_in " << n_in << " t " << t << " r " << r;
      for (int k = 0; k < n_kernels; ++k) {
        std::vector<float> got(8 * n_act, NAN);
        kernels[k].fn(nb, packed.data(), act.data(), act_row, sums.data(), nb, n_act, got.data(), 8);
        for (int i = 0; i < 8 * n_act; ++i)
          ASSERT_EQ(got[i], ref[i]) << kernels[k].name << " n_in " << n_in << " n_act " << n_act << " i " << i;
      }
    }
  }
}

// The pair kernel (AVX-512 VNNI, two groups per call) returns the scalar reference's bits for
// both groups.
TEST(Q4_0x8, PairKernelEqualsTheScalarReference) {
  const Q4_0x8Kernel pair = q4_0x8_pair_kernel();
  if (!pair) GTEST_SKIP() << "no AVX-512 VNNI on this CPU (or AGORA_Q4_0X8_KERNEL names another kernel)";
  std::mt19937 rng(14);
  for (int64_t n_in : {32, 96, 2048}) {
    const int64_t nb = n_in / 32;
    auto w = random_matrix(n_in, 16, rng);
    const WeightView v{GgmlType::Q4_0, w.data(), n_in, 16, row_size(GgmlType::Q4_0, n_in)};
    auto packed = repacked(v);
    for (int n_act = 1; n_act <= 8; ++n_act) {
      auto x = activations(n_in, n_act, rng);
      const size_t act_row = row_size(GgmlType::Q8_0, n_in);
      std::vector<uint8_t> act(act_row * n_act);
      std::vector<Q8BlockAux> sums(static_cast<size_t>(nb * n_act));
      for (int t = 0; t < n_act; ++t) {
        type_ops(GgmlType::Q8_0).from_float(x.data() + t * n_in, act.data() + t * act_row, n_in);
        q8_0_block_aux(act.data() + t * act_row, nb, sums.data() + t * nb);
      }
      std::vector<float> ref(16 * n_act), got(16 * n_act, NAN);
      for (int g = 0; g < 2; ++g)
        q4_0x8_kernel_scalar()(nb, packed.data() + g * nb * kQ4_0x8RecordBytes, act.data(), act_row, sums.data(), nb,
                               n_act, ref.data() + 8 * g, 16);
      pair(nb, packed.data(), act.data(), act_row, sums.data(), nb, n_act, got.data(), 16);
      for (int i = 0; i < 16 * n_act; ++i) ASSERT_EQ(got[i], ref[i]) << "n_in " << n_in << " n_act " << n_act << " i " << i;
    }
  }
}

TEST(Q4_0x8, MatmulOnRepackedEqualsMatmulOnRows) {
  std::mt19937 rng(12);
  std::vector<uint8_t> s1, s2;
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n_in : {64, 512}) {
      for (int64_t n_out : {8, 64, 136}) {
        auto w = random_matrix(n_in, n_out, rng);
        const WeightView rows{GgmlType::Q4_0, w.data(), n_in, n_out, row_size(GgmlType::Q4_0, n_in)};
        auto packed = repacked(rows);
        WeightView pv = rows;
        pv.data = packed.data();
        pv.layout = WeightLayout::q4_0x8;
        for (int64_t n_tok : {1, 2, 5, 8, 33, 70}) {
          auto x = activations(n_in, n_tok, rng);
          std::vector<float> a(n_out * n_tok, NAN), b(n_out * n_tok, NAN);
          matmul(rows, x.data(), n_tok, a.data(), pool, s1);
          matmul(pv, x.data(), n_tok, b.data(), pool, s2);
          for (size_t i = 0; i < a.size(); ++i)
            ASSERT_EQ(a[i], b[i]) << "threads " << threads << " n_in " << n_in << " n_out " << n_out << " n_tok "
                                  << n_tok << " i " << i;
          EXPECT_GE(s2.size(), matmul_scratch_bytes(pv, n_tok));
        }
      }
    }
  }
}

TEST(Q4_0x8, OnlyWholeGroupsOfQ4_0RowsAreEligible) {
  std::vector<uint8_t> w(row_size(GgmlType::Q4_0, 64) * 12);
  EXPECT_TRUE(q4_0x8_eligible({GgmlType::Q4_0, w.data(), 64, 8, row_size(GgmlType::Q4_0, 64)}));
  EXPECT_FALSE(q4_0x8_eligible({GgmlType::Q4_0, w.data(), 64, 12, row_size(GgmlType::Q4_0, 64)}));
  EXPECT_FALSE(q4_0x8_eligible({GgmlType::Q8_0, w.data(), 64, 8, row_size(GgmlType::Q8_0, 64)}));
  EXPECT_FALSE(q4_0x8_eligible({GgmlType::Q4_0, w.data(), 64, 8, row_size(GgmlType::Q4_0, 64) + 2}));  // padded rows
}

// Q8_0x8: the scalar kernel and (where the CPU has it) the AVX-VNNI one return vec_dot_q8_0_q8_0's
// bits, and matmul on the repacked matrix equals matmul on the rows.
TEST(Q8_0x8, KernelsAndMatmulEqualTheRowKernels) {
  std::mt19937 rng(13);
  std::vector<uint8_t> s1, s2;
  std::printf("q8_0x8 fast kernel on this CPU: %s\n", q8_0x8_kernel() ? "avx-vnni" : "none (Q8_0 stays in rows)");
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    for (int64_t n_in : {32, 96, 512}) {
      for (int64_t n_out : {8, 72}) {
        std::vector<uint8_t> w;
        for (int64_t o = 0; o < n_out; ++o) {
          auto r = test::random_row(GgmlType::Q8_0, n_in, rng);
          w.insert(w.end(), r.begin(), r.end());
        }
        const WeightView rows{GgmlType::Q8_0, w.data(), n_in, n_out, row_size(GgmlType::Q8_0, n_in)};
        ASSERT_TRUE(q8_0x8_eligible(rows));
        std::vector<uint8_t> packed(q8_0x8_bytes(n_in, n_out));
        repack_q8_0x8(rows, packed.data(), 0, n_out / 8);
        // Kernel level, against the row kernel.
        const int64_t nb = n_in / 32;
        const size_t act_row = row_size(GgmlType::Q8_0, n_in);
        for (int n_act = 1; n_act <= 8; ++n_act) {
          auto x = activations(n_in, n_act, rng);
          std::vector<uint8_t> act(act_row * n_act);
          std::vector<Q8BlockAux> aux(static_cast<size_t>(nb * n_act));
          for (int t = 0; t < n_act; ++t) {
            type_ops(GgmlType::Q8_0).from_float(x.data() + t * n_in, act.data() + t * act_row, n_in);
            q8_0_block_aux(act.data() + t * act_row, nb, aux.data() + t * nb);
          }
          for (Q8_0x8Kernel k : {q8_0x8_kernel_scalar(), q8_0x8_kernel()}) {
            if (!k) continue;
            std::vector<float> got(8 * n_act, NAN);
            k(nb, packed.data(), act.data(), act_row, aux.data(), nb, n_act, got.data(), 8);
            for (int t = 0; t < n_act; ++t)
              for (int r = 0; r < 8; ++r)
                ASSERT_EQ(got[t * 8 + r], type_ops_scalar(GgmlType::Q8_0).vec_dot(n_in, w.data() + r * rows.row_bytes,
                                                                                  act.data() + t * act_row))
                    << "n_in " << n_in << " t " << t << " r " << r;
          }
        }
        WeightView pv = rows;
        pv.data = packed.data();
        pv.layout = WeightLayout::q8_0x8;
        for (int64_t n_tok : {1, 3, 8, 37}) {
          auto x = activations(n_in, n_tok, rng);
          std::vector<float> a(n_out * n_tok, NAN), b(n_out * n_tok, NAN);
          matmul(rows, x.data(), n_tok, a.data(), pool, s1);
          matmul(pv, x.data(), n_tok, b.data(), pool, s2);
          for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << "n_tok " << n_tok << " i " << i;
        }
      }
    }
  }
}

// Q4_K rows: random (half quantized floats, half random bytes), with every tenth row at the
// extremes (all quants 15, all scales and mins 63) for the integer ranges of the kernels.
std::vector<uint8_t> random_q4k_matrix(int64_t n_in, int64_t n_out, std::mt19937& rng) {
  std::vector<uint8_t> w;
  for (int64_t o = 0; o < n_out; ++o) {
    auto r = test::random_row(GgmlType::Q4_K, n_in, rng);
    if (o % 10 == 3) {
      auto* b = reinterpret_cast<BlockQ4_K*>(r.data());
      for (int64_t i = 0; i < n_in / QK_K; ++i) {
        std::memset(b[i].scales, 0xFF, sizeof b[i].scales);
        std::memset(b[i].qs, 0xFF, sizeof b[i].qs);
      }
    }
    w.insert(w.end(), r.begin(), r.end());
  }
  return w;
}

// Q6_K rows: random, with extremes (every quant 31 or -32, scales 127 and -128).
std::vector<uint8_t> random_q6k_matrix(int64_t n_in, int64_t n_out, std::mt19937& rng) {
  std::vector<uint8_t> w;
  for (int64_t o = 0; o < n_out; ++o) {
    auto r = test::random_row(GgmlType::Q6_K, n_in, rng);
    if (o % 10 == 3 || o % 10 == 7) {
      auto* b = reinterpret_cast<BlockQ6_K*>(r.data());
      for (int64_t i = 0; i < n_in / QK_K; ++i) {
        std::memset(b[i].ql, o % 10 == 3 ? 0xFF : 0, sizeof b[i].ql);
        std::memset(b[i].qh, o % 10 == 3 ? 0xFF : 0, sizeof b[i].qh);
        for (int j = 0; j < 16; ++j) b[i].scales[j] = static_cast<int8_t>(j % 2 ? 127 : -128);
      }
    }
    w.insert(w.end(), r.begin(), r.end());
  }
  return w;
}

// A K-quant eight-row layout under test: its file type, random rows, and the repacked.h API.
struct KLayout {
  GgmlType type;
  WeightLayout layout;
  std::vector<uint8_t> (*matrix)(int64_t n_in, int64_t n_out, std::mt19937& rng);
  bool (*eligible)(const WeightView&);
  size_t (*bytes)(int64_t n_in, int64_t n_out);
  void (*repack)(const WeightView&, uint8_t*, int64_t, int64_t);
  int (*available)(Q4_Kx8KernelEntry*, int);
};

// Every kernel of the layout this CPU runs returns, per row and token, the row kernel's bits (the
// scalar row kernel and the selected one), for 1..8 tokens.
void expect_every_kernel_equals_the_row_kernel(const KLayout& L, uint32_t seed) {
  std::mt19937 rng(seed);
  Q4_Kx8KernelEntry kernels[8];
  const int n_kernels = L.available(kernels, 8);
  ASSERT_GE(n_kernels, 1);
  const std::string_view name = type_name(L.type);
  std::printf("%.*sx8 kernels on this CPU:", static_cast<int>(name.size()), name.data());
  for (int k = 0; k < n_kernels; ++k) std::printf(" %s", kernels[k].name);
  std::printf("\n");
  for (int64_t n_in : {256, 512, 1280}) {
    const int64_t nb = n_in / QK_K;
    for (int rep = 0; rep < 3; ++rep) {
      auto w = L.matrix(n_in, 8, rng);
      const WeightView v{L.type, w.data(), n_in, 8, row_size(L.type, n_in)};
      ASSERT_TRUE(L.eligible(v));
      std::vector<uint8_t> packed(L.bytes(n_in, 8));
      L.repack(v, packed.data(), 0, 1);
      for (int n_act = 1; n_act <= 8; ++n_act) {
        auto x = activations(n_in, n_act, rng);
        const size_t act_row = row_size(GgmlType::Q8_K, n_in);
        std::vector<uint8_t> act(act_row * n_act);
        std::vector<Q8KBlockAux> aux(static_cast<size_t>(nb * n_act));
        for (int t = 0; t < n_act; ++t) {
          type_ops(GgmlType::Q8_K).from_float(x.data() + t * n_in, act.data() + t * act_row, n_in);
          q8_k_block_aux(act.data() + t * act_row, nb, aux.data() + t * nb);
        }
        for (int k = 0; k < n_kernels; ++k) {
          std::vector<float> got(8 * n_act, NAN);
          kernels[k].fn(nb, packed.data(), act.data(), act_row, aux.data(), nb, n_act, got.data(), 8);
          for (int t = 0; t < n_act; ++t)
            for (int r = 0; r < 8; ++r) {
              const uint8_t* row = w.data() + r * v.row_bytes;
              const uint8_t* a = act.data() + t * act_row;
              const float want = type_ops_scalar(L.type).vec_dot(n_in, row, a);
              ASSERT_EQ(want, type_ops(L.type).vec_dot(n_in, row, a));
              ASSERT_EQ(got[t * 8 + r], want)
                  << kernels[k].name << " n_in " << n_in << " n_act " << n_act << " t " << t << " r " << r;
            }
        }
      }
    }
  }
}

// matmul on the repacked matrix equals matmul on the rows, for any token count (batch
// invariance) and thread count.
void expect_matmul_on_repacked_equals_rows(const KLayout& L, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> s1, s2;
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n_in : {256, 768}) {
      for (int64_t n_out : {8, 40, 136}) {
        auto w = L.matrix(n_in, n_out, rng);
        const WeightView rows{L.type, w.data(), n_in, n_out, row_size(L.type, n_in)};
        std::vector<uint8_t> packed(L.bytes(n_in, n_out));
        L.repack(rows, packed.data(), 0, n_out / 8);
        WeightView pv = rows;
        pv.data = packed.data();
        pv.layout = L.layout;
        for (int64_t n_tok : {1, 2, 5, 8, 9, 33, 70}) {
          auto x = activations(n_in, n_tok, rng);
          std::vector<float> a(n_out * n_tok, NAN), b(n_out * n_tok, NAN);
          matmul(rows, x.data(), n_tok, a.data(), pool, s1);
          matmul(pv, x.data(), n_tok, b.data(), pool, s2);
          for (size_t i = 0; i < a.size(); ++i)
            ASSERT_EQ(a[i], b[i]) << "threads " << threads << " n_in " << n_in << " n_out " << n_out << " n_tok "
                                  << n_tok << " i " << i;
          EXPECT_GE(s2.size(), matmul_scratch_bytes(pv, n_tok));
        }
      }
    }
  }
}

const KLayout kQ4_Kx8{GgmlType::Q4_K, WeightLayout::q4_kx8, random_q4k_matrix, q4_kx8_eligible,
                      q4_kx8_bytes, repack_q4_kx8, q4_kx8_kernels_available};
const KLayout kQ6_Kx8{GgmlType::Q6_K, WeightLayout::q6_kx8, random_q6k_matrix, q6_kx8_eligible,
                      q6_kx8_bytes, repack_q6_kx8, q6_kx8_kernels_available};

TEST(Q4_Kx8, EveryKernelEqualsTheRowKernel) {
  std::printf("q4_kx8 selected: %s\n", q4_kx8_kernel_name());
  expect_every_kernel_equals_the_row_kernel(kQ4_Kx8, 21);
}
TEST(Q4_Kx8, MatmulOnRepackedEqualsMatmulOnRows) { expect_matmul_on_repacked_equals_rows(kQ4_Kx8, 22); }
TEST(Q6_Kx8, EveryKernelEqualsTheRowKernel) { expect_every_kernel_equals_the_row_kernel(kQ6_Kx8, 31); }
TEST(Q6_Kx8, MatmulOnRepackedEqualsMatmulOnRows) { expect_matmul_on_repacked_equals_rows(kQ6_Kx8, 32); }

TEST(Q4_Kx8, OnlyWholeGroupsOfQ4_KRowsAreEligible) {
  const size_t rb = row_size(GgmlType::Q4_K, 256);
  std::vector<uint8_t> w(rb * 12);
  EXPECT_TRUE(q4_kx8_eligible({GgmlType::Q4_K, w.data(), 256, 8, rb}));
  EXPECT_FALSE(q4_kx8_eligible({GgmlType::Q4_K, w.data(), 256, 12, rb}));
  EXPECT_FALSE(q4_kx8_eligible({GgmlType::Q6_K, w.data(), 256, 8, row_size(GgmlType::Q6_K, 256)}));
  EXPECT_FALSE(q4_kx8_eligible({GgmlType::Q4_K, w.data(), 256, 8, rb + 4}));
}


}  // namespace
}  // namespace agora
