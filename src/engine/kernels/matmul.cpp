#include "engine/kernels/matmul.h"

#include <algorithm>

#include "engine/kernels/amx.h"
#include "engine/kernels/repacked.h"
#include "engine/tensor/quant_blocks.h"
#include "engine/kernels/type_ops.h"

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace agora {
namespace {

// Tokens handled per pass over a chunk of weight rows: the chunk's rows are re-read once per
// tile, and one weight row is dotted with the whole tile while it sits in L1.
constexpr int64_t kTokenTile = 32;

// Tokens per multi-token kernel call (VecDotMultiFn takes at most 8).
constexpr int kMultiTokens = 8;

// Tokens per Q4_Kx8 / Q6_Kx8 kernel call.
constexpr int64_t kKTokens = 8;

// Decode is bound by how fast weights arrive from DRAM; a core alone keeps too few cache misses
// in flight to saturate it, so each row's successor-but-one is requested ahead of use.
constexpr int64_t kPrefetchRows = 2;

inline void prefetch_row(const uint8_t* p, size_t bytes) {
#if defined(__SSE__)
  for (size_t off = 0; off < bytes; off += 64)
    _mm_prefetch(reinterpret_cast<const char*>(p + off), _MM_HINT_T0);
#else
  (void)p;
  (void)bytes;
#endif
}

}  // namespace

namespace {

// Bytes of the per-block activation data that follows the activations in the scratch (the
// repacked layouts).
size_t block_sums_bytes(const WeightView& w, int64_t n_tok) {
  const size_t blocks = static_cast<size_t>(w.n_in / QK8_0) * static_cast<size_t>(n_tok);
  if (w.layout == WeightLayout::q4_0x8) return blocks * sizeof(Q8BlockAux) + alignof(Q8BlockAux);
  if (w.layout == WeightLayout::q8_0x8) return blocks * sizeof(Q8BlockAux) + alignof(Q8BlockAux);
  if (w.layout == WeightLayout::q4_kx8 || w.layout == WeightLayout::q6_kx8)
    return static_cast<size_t>(w.n_in / QK_K) * static_cast<size_t>(n_tok) * sizeof(Q8KBlockAux) +
           alignof(Q8KBlockAux);
  return 0;
}

// Repacked matrices (repacked.h): groups of eight rows split across the pool; each group is one
// sequential stream of records, dotted with up to kTokens tokens per kernel call while it sits in
// L1. `Aux` is the per-block activation data the layout's kernels take; a record covers
// `block_values` inputs.
template <typename Kernel, typename Aux>
// `rows`: rows per kernel call, 8 (one group) or 16 (two consecutive groups: a pair kernel).
void matmul_groups(const WeightView& w, Kernel kernel, size_t record_bytes, int64_t block_values, int64_t k_tokens,
                   const uint8_t* act, size_t act_row, const Aux* aux, int64_t n_tok, float* y, ThreadPool& pool,
                   int64_t rows = 8) {
  const int64_t nb = w.n_in / block_values, n_out = w.n_out, n_groups = n_out / rows;
  const auto* wdata = static_cast<const uint8_t*>(w.data);
  const size_t group_bytes = static_cast<size_t>(nb) * record_bytes * static_cast<size_t>(rows / 8);
  pool.parallel_for(
      n_groups,
      [&](int64_t gb, int64_t ge) {
        for (int64_t t0 = 0; t0 < n_tok; t0 += kTokenTile) {
          const int64_t t1 = std::min(n_tok, t0 + kTokenTile);
          for (int64_t g = gb; g < ge; ++g) {
            const uint8_t* grp = wdata + static_cast<size_t>(g) * group_bytes;
            for (int64_t t = t0; t < t1; t += k_tokens) {
              const int nt = static_cast<int>(std::min<int64_t>(k_tokens, t1 - t));
              kernel(nb, grp, act + static_cast<size_t>(t) * act_row, act_row, aux + static_cast<size_t>(t * nb),
                     static_cast<size_t>(nb), nt, y + t * n_out + g * rows, static_cast<size_t>(n_out));
            }
          }
        }
      },
      /*min_chunk=*/2);
}

}  // namespace

size_t matmul_scratch_bytes(const WeightView& w, int64_t n_tok) {
  const GgmlType vdt = type_ops(w.type).vec_dot_type;
  if (vdt == GgmlType::F32) return 0;
  return row_size(vdt, w.n_in) * static_cast<size_t>(n_tok) + block_sums_bytes(w, n_tok);
}

void matmul(const WeightView& w, const float* x, int64_t n_tok, float* y, ThreadPool& pool,
            std::vector<uint8_t>& scratch) {
  if (n_tok <= 0 || w.n_out <= 0) return;
  const TypeOps& ops = type_ops(w.type);
  const GgmlType vdt = ops.vec_dot_type;
  const int64_t n_in = w.n_in, n_out = w.n_out;

  // 1. Activations in the weight's vec_dot_type (f32 rows are used as they are).
  const uint8_t* act = reinterpret_cast<const uint8_t*>(x);
  size_t act_row = static_cast<size_t>(n_in) * sizeof(float);
  if (vdt != GgmlType::F32) {
    act_row = row_size(vdt, n_in);
    const size_t need = act_row * static_cast<size_t>(n_tok) + block_sums_bytes(w, n_tok);
    if (scratch.size() < need) scratch.resize(need);
    const FromFloatFn from_float = type_ops(vdt).from_float;
    uint8_t* dst = scratch.data();
    if (n_tok == 1) {
      from_float(x, dst, n_in);
    } else {
      pool.parallel_for(n_tok, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) from_float(x + t * n_in, dst + t * act_row, n_in);
      });
    }
    act = dst;
  }

  if (w.layout != WeightLayout::rows) {
    // The repacked layouts take per-block activation data, placed in the scratch after the
    // activations (block_sums_bytes reserved it).
    const int64_t nb = n_in / QK8_0;  // Q8_0 blocks (the Q8_0-activation layouts)
    const size_t act_bytes = act_row * static_cast<size_t>(n_tok);
    auto aux_area = [&](auto align) {
      return scratch.data() + act_bytes + (align - act_bytes % align) % align;
    };
    if (w.layout == WeightLayout::q4_0x8) {
      auto* aux = reinterpret_cast<Q8BlockAux*>(aux_area(alignof(Q8BlockAux)));
      for (int64_t t = 0; t < n_tok; ++t) q8_0_block_aux(act + static_cast<size_t>(t) * act_row, nb, aux + t * nb);
      // Prefill passes on the AMX tile unit where there is one (the same bits, amx.h).
      if (n_tok >= kAmxMinTokens && amx_q4_0x8_eligible(w) && amx_available())
        matmul_q4_0x8_amx(w, act, act_row, aux, n_tok, y, pool);
      else if (q4_0x8_pair_kernel() && w.n_out % 16 == 0)
        matmul_groups(w, q4_0x8_pair_kernel(), kQ4_0x8RecordBytes, QK8_0, /*k_tokens=*/8, act, act_row, aux, n_tok,
                      y, pool, /*rows=*/16);
      else
        matmul_groups(w, q4_0x8_kernel(), kQ4_0x8RecordBytes, QK8_0, /*k_tokens=*/8, act, act_row, aux, n_tok, y,
                      pool);
    } else if (w.layout == WeightLayout::q4_kx8 || w.layout == WeightLayout::q6_kx8) {
      const int64_t nbk = n_in / QK_K;
      auto* aux = reinterpret_cast<Q8KBlockAux*>(aux_area(alignof(Q8KBlockAux)));
      for (int64_t t = 0; t < n_tok; ++t) q8_k_block_aux(act + static_cast<size_t>(t) * act_row, nbk, aux + t * nbk);
      if (w.layout == WeightLayout::q4_kx8 && n_tok >= kAmxMinTokens && amx_q4_kx8_eligible(w) && amx_available())
        matmul_q4_kx8_amx(w, act, act_row, aux, n_tok, y, pool);
      else if (w.layout == WeightLayout::q4_kx8)
        matmul_groups(w, q4_kx8_kernel(), kQ4_Kx8RecordBytes, QK_K, kKTokens, act, act_row, aux, n_tok, y, pool);
      else
        matmul_groups(w, q6_kx8_kernel(), kQ6_Kx8RecordBytes, QK_K, kKTokens, act, act_row, aux, n_tok, y, pool);
    } else {
      auto* aux = reinterpret_cast<Q8BlockAux*>(aux_area(alignof(Q8BlockAux)));
      for (int64_t t = 0; t < n_tok; ++t) q8_0_block_aux(act + static_cast<size_t>(t) * act_row, nb, aux + t * nb);
      const Q8_0x8Kernel kernel = q8_0x8_kernel() ? q8_0x8_kernel() : q8_0x8_kernel_scalar();
      if (n_tok >= kAmxMinTokens && amx_q4_0x8_eligible(w) && amx_available())
        matmul_q4_0x8_amx(w, act, act_row, aux, n_tok, y, pool);
      else
        matmul_groups(w, kernel, kQ8_0x8RecordBytes, QK8_0, /*k_tokens=*/4, act, act_row, aux, n_tok, y, pool);
    }
    return;
  }

  // 2. Output rows split across the pool; each row is dotted with a tile of tokens while hot. With
  // a multi-token kernel each weight block is unpacked once per kMultiTokens tokens; the kernel
  // returns, per token, exactly the float vec_dot returns (batch invariance).
  const VecDotFn vec_dot = ops.vec_dot;
  const VecDotMultiFn multi = n_tok >= 2 ? ops.vec_dot_multi : nullptr;
  const VecDotRows8Fn rows8 = ops.vec_dot_rows8;
  const auto* wdata = static_cast<const uint8_t*>(w.data);
  const size_t w_row = w.row_bytes;

  // Rows [b, e) against tokens [t0, t1), one row at a time.
  auto single_rows = [&](int64_t b, int64_t e, int64_t t0, int64_t t1) {
    for (int64_t o = b; o < e; ++o) {
      const uint8_t* wr = wdata + static_cast<size_t>(o) * w_row;
      if (o + kPrefetchRows < e) prefetch_row(wr + kPrefetchRows * w_row, w_row);
      if (multi) {
        float tmp[kMultiTokens];
        for (int64_t t = t0; t < t1; t += kMultiTokens) {
          const int nt = static_cast<int>(std::min<int64_t>(kMultiTokens, t1 - t));
          multi(n_in, wr, act + static_cast<size_t>(t) * act_row, act_row, nt, tmp);
          for (int k = 0; k < nt; ++k) y[(t + k) * n_out + o] = tmp[k];
        }
      } else {
        for (int64_t t = t0; t < t1; ++t)
          y[t * n_out + o] = vec_dot(n_in, wr, act + static_cast<size_t>(t) * act_row);
      }
    }
  };

  if (rows8) {
    // Groups of eight rows (the last group may be short), split across the pool.
    const int64_t n_groups = (n_out + 7) / 8;
    pool.parallel_for(
        n_groups,
        [&](int64_t gb, int64_t ge) {
          const int64_t b = gb * 8, e = std::min(n_out, ge * 8);
          for (int64_t t0 = 0; t0 < n_tok; t0 += kTokenTile) {
            const int64_t t1 = std::min(n_tok, t0 + kTokenTile);
            int64_t o = b;
            for (; o + 8 <= e; o += 8) {
              const uint8_t* wr = wdata + static_cast<size_t>(o) * w_row;
              // The next group's eight rows are requested while this one is computed.
              if (t0 == 0 && o + 16 <= e) prefetch_row(wr + 8 * w_row, 8 * w_row);
              for (int64_t t = t0; t < t1; t += kMultiTokens) {
                const int nt = static_cast<int>(std::min<int64_t>(kMultiTokens, t1 - t));
                rows8(n_in, wr, w_row, act + static_cast<size_t>(t) * act_row, act_row, nt,
                      y + t * n_out + o, static_cast<size_t>(n_out));
              }
            }
            single_rows(o, e, t0, t1);
          }
        },
        /*min_chunk=*/2);
    return;
  }

  pool.parallel_for(
      n_out,
      [&](int64_t b, int64_t e) {
        for (int64_t t0 = 0; t0 < n_tok; t0 += kTokenTile) single_rows(b, e, t0, std::min(n_tok, t0 + kTokenTile));
      },
      /*min_chunk=*/16);
}

}  // namespace agora
