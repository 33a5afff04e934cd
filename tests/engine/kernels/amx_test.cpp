// ctest-labels: unit
// The AMX kernels for repacked Q4_0 and Q4_K (amx.h) return the bits of the Q4_0x8 / Q4_Kx8
// kernels for every token count (one tile, several, a last tile overlapping the one before),
// thread count and shape, with activations at the extremes of the int8 products. Skipped where
// the CPU or OS has no AMX (the engine then never calls it).
#include "engine/kernels/amx.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/kernels/matmul.h"
#include "engine/kernels/repacked.h"
#include "engine/kernels/thread_pool.h"
#include "engine/tensor/quant_blocks.h"
#include "kernel_test_util.h"

namespace agora {
namespace {

// Q4_0x8 and Q8_0x8 (the same tile kernel, another unpacking of the weights).
TEST(AmxQ4_0x8, EqualsTheQ4_0x8AndQ8_0x8Kernels) {
  if (!amx_available()) GTEST_SKIP() << "no AMX on this CPU/OS (or AGORA_NO_AMX is set)";
  std::mt19937 rng(21);
  std::vector<uint8_t> scratch;
  for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q8_0})
  for (int threads : {1, 2, 3}) {
    SCOPED_TRACE(type_name(type));
    const bool q8 = type == GgmlType::Q8_0;
    if (q8 && !q8_0x8_kernel()) continue;  // no Q8_0x8 layout on this CPU
    ThreadPool pool(threads);
    for (int64_t n_in : {32, 352, 2048}) {
      // The last shape is large enough (milliseconds) that the pool's sleeping workers wake up
      // and take row blocks too.
      for (int64_t n_out : {16, 48, 4096}) {
        if (n_out == 4096 && n_in != 2048) continue;
        const int64_t nb = n_in / 32;
        std::vector<uint8_t> w;
        for (int64_t o = 0; o < n_out; ++o) {
          auto r = test::random_row(type, n_in, rng);
          w.insert(w.end(), r.begin(), r.end());
        }
        WeightView v{type, w.data(), n_in, n_out, row_size(type, n_in)};
        std::vector<uint8_t> packed(q8 ? q8_0x8_bytes(n_in, n_out) : q4_0x8_bytes(n_in, n_out));
        if (q8) repack_q8_0x8(v, packed.data(), 0, n_out / 8);
        else repack_q4_0x8(v, packed.data(), 0, n_out / 8);
        v.data = packed.data();
        v.layout = q8 ? WeightLayout::q8_0x8 : WeightLayout::q4_0x8;
        ASSERT_TRUE(amx_q4_0x8_eligible(v));
        for (int64_t n_tok : {1, 7, 16, 17, 31, 32, 45, 100}) {
          if (n_out == 4096 && n_tok != 100) continue;
          auto x = test::random_floats(n_in * n_tok, rng);
          for (int64_t t = 0; t < n_tok; ++t) {
            float* row = x.data() + t * n_in;
            if (t % 4 == 1) for (int64_t i = 0; i < n_in; ++i) row[i] = (i % 3 == 0) ? -1.0f : 1.0f;  // ±127
            if (t % 4 == 2) for (int64_t i = 0; i < 32; ++i) row[i] = 0.0f;                           // zero block
          }
          const size_t act_row = row_size(GgmlType::Q8_0, n_in);
          std::vector<uint8_t> act(act_row * n_tok);
          std::vector<Q8BlockAux> aux(static_cast<size_t>(nb * n_tok));
          for (int64_t t = 0; t < n_tok; ++t) {
            type_ops(GgmlType::Q8_0).from_float(x.data() + t * n_in, act.data() + t * act_row, n_in);
            q8_0_block_aux(act.data() + t * act_row, nb, aux.data() + t * nb);
          }
          std::vector<float> ref(n_out * n_tok, NAN), got(n_out * n_tok, NAN);
          const size_t group_bytes = static_cast<size_t>(nb) * (q8 ? kQ8_0x8RecordBytes : kQ4_0x8RecordBytes);
          const Q4_0x8Kernel kernel = q8 ? q8_0x8_kernel() : q4_0x8_kernel();
          for (int64_t g = 0; g < n_out / 8; ++g)
            for (int64_t t = 0; t < n_tok; t += 8)
              kernel(nb, packed.data() + g * group_bytes, act.data() + t * act_row, act_row, aux.data() + t * nb, nb,
                     static_cast<int>(std::min<int64_t>(8, n_tok - t)), ref.data() + t * n_out + g * 8, n_out);
          matmul_q4_0x8_amx(v, act.data(), act_row, aux.data(), n_tok, got.data(), pool);
          for (size_t i = 0; i < ref.size(); ++i)
            ASSERT_EQ(got[i], ref[i]) << "threads " << threads << " n_in " << n_in << " n_out " << n_out << " n_tok "
                                      << n_tok << " i " << i;
          // And through matmul, which takes this path for passes of kAmxMinTokens+ tokens.
          std::vector<float> via(n_out * n_tok, NAN);
          matmul(v, x.data(), n_tok, via.data(), pool, scratch);
          for (size_t i = 0; i < ref.size(); ++i)
            ASSERT_EQ(via[i], ref[i]) << "matmul: threads " << threads << " n_out " << n_out << " n_tok " << n_tok;
        }
      }
    }
  }
}

TEST(AmxQ4_Kx8, EqualsTheQ4_Kx8Kernels) {
  if (!amx_available()) GTEST_SKIP() << "no AMX on this CPU/OS (or AGORA_NO_AMX is set)";
  std::mt19937 rng(22);
  for (int threads : {1, 3}) {
    ThreadPool pool(threads);
    for (int64_t n_in : {256, 768, 2048}) {
      for (int64_t n_out : {16, 48, 2048}) {
        if (n_out == 2048 && n_in != 2048) continue;  // the shape the workers take part in
        const int64_t nbk = n_in / 256;
        std::vector<uint8_t> w;
        for (int64_t o = 0; o < n_out; ++o) {
          auto r = test::random_row(GgmlType::Q4_K, n_in, rng);
          w.insert(w.end(), r.begin(), r.end());
        }
        WeightView v{GgmlType::Q4_K, w.data(), n_in, n_out, row_size(GgmlType::Q4_K, n_in)};
        std::vector<uint8_t> packed(q4_kx8_bytes(n_in, n_out));
        repack_q4_kx8(v, packed.data(), 0, n_out / 8);
        v.data = packed.data();
        v.layout = WeightLayout::q4_kx8;
        ASSERT_TRUE(amx_q4_kx8_eligible(v));
        for (int64_t n_tok : {1, 16, 17, 40}) {
          if (n_out == 2048 && n_tok != 40) continue;
          auto x = test::random_floats(n_in * n_tok, rng);
          for (int64_t t = 0; t < n_tok; ++t)
            if (t % 3 == 1)
              for (int64_t i = 0; i < n_in; ++i) x[t * n_in + i] = (i % 5 == 0) ? -1.0f : 1.0f;  // ±127 quants
          const size_t act_row = row_size(GgmlType::Q8_K, n_in);
          std::vector<uint8_t> act(act_row * n_tok);
          std::vector<Q8KBlockAux> aux(static_cast<size_t>(nbk * n_tok));
          for (int64_t t = 0; t < n_tok; ++t) {
            type_ops(GgmlType::Q8_K).from_float(x.data() + t * n_in, act.data() + t * act_row, n_in);
            q8_k_block_aux(act.data() + t * act_row, nbk, aux.data() + t * nbk);
          }
          std::vector<float> ref(n_out * n_tok, NAN), got(n_out * n_tok, NAN);
          const size_t group_bytes = static_cast<size_t>(nbk) * kQ4_Kx8RecordBytes;
          for (int64_t g = 0; g < n_out / 8; ++g)
            for (int64_t t = 0; t < n_tok; t += 8)
              q4_kx8_kernel()(nbk, packed.data() + g * group_bytes, act.data() + t * act_row, act_row,
                              aux.data() + t * nbk, nbk, static_cast<int>(std::min<int64_t>(8, n_tok - t)),
                              ref.data() + t * n_out + g * 8, n_out);
          matmul_q4_kx8_amx(v, act.data(), act_row, aux.data(), n_tok, got.data(), pool);
          for (size_t i = 0; i < ref.size(); ++i)
            ASSERT_EQ(got[i], ref[i]) << "threads " << threads << " n_in " << n_in << " n_out " << n_out << " n_tok "
                                      << n_tok << " i " << i;
        }
      }
    }
  }
}

TEST(AmxQ4_0x8, OnlyPairsOfGroupsAreEligible) {
  std::vector<uint8_t> w(64);
  WeightView v{GgmlType::Q4_0, w.data(), 64, 24, row_size(GgmlType::Q4_0, 64)};
  v.layout = WeightLayout::q4_0x8;
  EXPECT_FALSE(amx_q4_0x8_eligible(v));
  v.n_out = 32;
  EXPECT_TRUE(amx_q4_0x8_eligible(v));
  v.layout = WeightLayout::rows;
  EXPECT_FALSE(amx_q4_0x8_eligible(v));
}

}  // namespace
}  // namespace agora
