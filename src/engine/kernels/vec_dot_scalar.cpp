// Scalar reference dot products: the definition the AVX2 kernels are tested against. Quantized
// kernels keep the eight f32 lanes of block_combine.h (the reference engine's AVX2 order).

// No fused multiply-add anywhere in this file (see block_combine.h): the scalar results must be
// the same in the default and the portable build.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <cstring>

#include "engine/kernels/block_combine.h"

#include "engine/kernels/vec_dot.h"
#include "engine/tensor/fp16.h"
#include "engine/tensor/quant_blocks.h"
#include "engine/tensor/quant_unpack.h"

namespace agora {

float vec_dot_f32_f32_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const float*>(w);
  const auto* y = static_cast<const float*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * y[i];
  return static_cast<float>(sum);
}

float vec_dot_f16_f16_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const uint16_t*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(fp16_to_fp32(x[i]) * fp16_to_fp32(y[i]));
  return static_cast<float>(sum);
}

float vec_dot_bf16_bf16_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const uint16_t*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(bf16_to_fp32(x[i]) * bf16_to_fp32(y[i]));
  return static_cast<float>(sum);
}

// ---- 32-value blocks against Q8_0 / Q8_1 ------------------------------------------------------
//
// *_0 types: d = dx * dy, lanes as in block_combine.h, result hsum8.
// *_1 types: the same lanes of the unsigned quants, plus summs = sum over blocks, in block order,
// of (mx * sy) added after the lanes: result hsum8 + summs.

namespace {

template <class XB, class Unpack>
float dot_q_0(int64_t nb, const XB* x, const BlockQ8_0* y, Unpack unpack) {
  float acc[8] = {};
  int8_t q[32];
  int32_t lane[8];
  for (int64_t i = 0; i < nb; ++i) {
    unpack(x[i], q);
    block_lanes(q, y[i].qs, lane);
    lanes_fma(acc, fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d), lane);
  }
  return hsum8(acc);
}

template <class XB, class Unpack>
float dot_q_1(int64_t nb, const XB* x, const BlockQ8_1* y, Unpack unpack) {
  float acc[8] = {};
  float summs = 0.0f;
  uint8_t q[32];
  int32_t lane[8];
  for (int64_t i = 0; i < nb; ++i) {
    unpack(x[i], q);
    block_lanes(q, y[i].qs, lane);
    // The min contributes m * sum(a) = m * s, with s precomputed in the activation block.
    const float ms = fp16_to_fp32(x[i].m) * fp16_to_fp32(y[i].s);
    summs = summs + ms;
    lanes_fma(acc, fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d), lane);
  }
  return hsum8(acc) + summs;
}

// Lane sums of a 256-value super-block: lane[l] = sum over chunks c and i < 4 of
// sc[k / sub] * q[k] * y[k], k = 32c + 4l + i (sub = values per scale: 16 or 32).
template <class Q, class S>
inline void superblock_lanes(const Q* q, const S* sc, int sub, const int8_t* y, int32_t* lane) {
  for (int l = 0; l < 8; ++l) lane[l] = 0;
  for (int c = 0; c < QK_K / 32; ++c)
    for (int l = 0; l < 8; ++l)
      for (int i = 0; i < 4; ++i) {
        const int k = 32 * c + 4 * l + i;
        lane[l] += static_cast<int32_t>(sc[k / sub]) * static_cast<int32_t>(q[k]) * y[k];
      }
}

}  // namespace

// Q4_0 is the exception (block_combine.h): one f32 chain per row, block by block,
// acc = fma(float(sumi), dx * dy, acc), the order of the reference engine's repacked Q4_0 kernels.
float vec_dot_q4_0_q8_0_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float acc = 0.0f;
  for (int64_t i = 0; i < n / QK4_0; ++i) {
    int32_t sumi = 0;
    for (int j = 0; j < QK4_0 / 2; ++j) {
      sumi += ((x[i].qs[j] & 0xF) - 8) * y[i].qs[j];
      sumi += ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + QK4_0 / 2];
    }
    acc = std::fma(static_cast<float>(sumi), fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d), acc);
  }
  return acc;
}

float vec_dot_q4_1_q8_1_scalar(int64_t n, const void* w, const void* a) {
  return dot_q_1(n / QK4_1, static_cast<const BlockQ4_1*>(w), static_cast<const BlockQ8_1*>(a),
                 [](const BlockQ4_1& b, uint8_t* q) {
                   for (int j = 0; j < 16; ++j) {
                     q[j] = b.qs[j] & 0xF;
                     q[j + 16] = b.qs[j] >> 4;
                   }
                 });
}

float vec_dot_q5_0_q8_0_scalar(int64_t n, const void* w, const void* a) {
  return dot_q_0(n / QK5_0, static_cast<const BlockQ5_0*>(w), static_cast<const BlockQ8_0*>(a),
                 [](const BlockQ5_0& b, int8_t* q) {
                   const uint32_t qh = q5_high_bits(b.qh);
                   for (int j = 0; j < 16; ++j) {
                     q[j] = static_cast<int8_t>(((b.qs[j] & 0xF) | (((qh >> j) & 1) << 4)) - 16);
                     q[j + 16] = static_cast<int8_t>(((b.qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16);
                   }
                 });
}

float vec_dot_q5_1_q8_1_scalar(int64_t n, const void* w, const void* a) {
  return dot_q_1(n / QK5_1, static_cast<const BlockQ5_1*>(w), static_cast<const BlockQ8_1*>(a),
                 [](const BlockQ5_1& b, uint8_t* q) {
                   const uint32_t qh = q5_high_bits(b.qh);
                   for (int j = 0; j < 16; ++j) {
                     q[j] = static_cast<uint8_t>((b.qs[j] & 0xF) | (((qh >> j) & 1) << 4));
                     q[j + 16] = static_cast<uint8_t>((b.qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
                   }
                 });
}

// Q8_0 follows Q4_0's order (block_combine.h): one f32 chain per row, block by block.
float vec_dot_q8_0_q8_0_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float acc = 0.0f;
  for (int64_t i = 0; i < n / QK8_0; ++i) {
    int32_t sumi = 0;
    for (int j = 0; j < QK8_0; ++j) sumi += x[i].qs[j] * y[i].qs[j];
    acc = std::fma(static_cast<float>(sumi), fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d), acc);
  }
  return acc;
}

float vec_dot_iq4_nl_q8_0_scalar(int64_t n, const void* w, const void* a) {
  return dot_q_0(n / QK4_NL, static_cast<const BlockIQ4_NL*>(w), static_cast<const BlockQ8_0*>(a),
                 [](const BlockIQ4_NL& b, int8_t* q) {
                   for (int j = 0; j < 16; ++j) {
                     q[j] = kIq4nlValues[b.qs[j] & 0xF];
                     q[j + 16] = kIq4nlValues[b.qs[j] >> 4];
                   }
                 });
}

// ---- K-quants against Q8_K -----------------------------------------------------------------------

// Q2_K: d = dy * d_x, dmin = -dy * dmin_x. Per super-block, first the min lanes
// acc[l] = fma(dmin, float(m[2l] * bsums[2l] + m[2l+1] * bsums[2l+1]), acc[l]), then the quant
// lanes acc[l] = fma(d, float(lane[l]), acc[l]); result hsum8.
float vec_dot_q2_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  int8_t q[QK_K], sc[16];
  int32_t lane[8], mlane[8];
  float acc[8] = {};
  for (int64_t i = 0; i < n / QK_K; ++i) {
    unpack_q2_k(x[i], q);
    for (int s = 0; s < 16; ++s) sc[s] = static_cast<int8_t>(x[i].scales[s] & 0xF);
    for (int l = 0; l < 8; ++l)
      mlane[l] = (x[i].scales[2 * l] >> 4) * y[i].bsums[2 * l] + (x[i].scales[2 * l + 1] >> 4) * y[i].bsums[2 * l + 1];
    superblock_lanes(q, sc, 16, y[i].qs, lane);
    const float d = y[i].d * fp16_to_fp32(x[i].d);
    const float dmin = -y[i].d * fp16_to_fp32(x[i].dmin);
    lanes_fma(acc, dmin, mlane);
    lanes_fma(acc, d, lane);
  }
  return hsum8(acc);
}

// Q3_K, IQ4_XS: d = dy * d_x; lanes of the signed quants times their signed scales.
float vec_dot_q3_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  int8_t q[QK_K], sc[16];
  int32_t lane[8];
  float acc[8] = {};
  for (int64_t i = 0; i < n / QK_K; ++i) {
    unpack_q3_k(x[i], q, sc);
    superblock_lanes(q, sc, 16, y[i].qs, lane);
    lanes_fma(acc, y[i].d * fp16_to_fp32(x[i].d), lane);
  }
  return hsum8(acc);
}

// Q4_K (block_combine.h, the second exception): per super-block two exact integers, the quants
// times their 6-bit scales, sumi = sum_j sc[j] * (sum of the 32 products of sub-block j), and the
// mins, summ = sum_j mn[j] * (b[2j] + b[2j+1]) with b the activation's bsums; then, with
// d = dy * d_x and dmin = -dy * dmin_x, acc = fma(d, float(sumi), acc), acc = fma(dmin,
// float(summ), acc), super-block after super-block; result acc.
// Q5_K: the quant lanes with the eight 6-bit scales; its mins are one integer per super-block,
// summs = summs + dmin * float(sum_j mn[j] * (b[2j] + b[2j+1])), in block order; result
// hsum8(acc) + summs.
float vec_dot_q4_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  uint8_t q[QK_K], sc[8], mn[8];
  float acc = 0.0f;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    unpack_q4_k(x[i], q);
    for (int j = 0; j < 8; ++j) k4_scale_min(j, x[i].scales, &sc[j], &mn[j]);
    int32_t sumi = 0, summ = 0;
    for (int j = 0; j < 8; ++j) {
      int32_t s = 0;
      for (int k = 32 * j; k < 32 * j + 32; ++k) s += static_cast<int32_t>(q[k]) * y[i].qs[k];
      sumi += sc[j] * s;
      summ += mn[j] * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
    }
    const float d = y[i].d * fp16_to_fp32(x[i].d);
    const float dmin = -y[i].d * fp16_to_fp32(x[i].dmin);
    acc = std::fma(d, static_cast<float>(sumi), acc);
    acc = std::fma(dmin, static_cast<float>(summ), acc);
  }
  return acc;
}

float vec_dot_q5_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  uint8_t q[QK_K], sc[8], mn[8];
  int32_t lane[8];
  float acc[8] = {};
  float summs = 0.0f;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    unpack_q5_k(x[i], q);
    for (int j = 0; j < 8; ++j) k4_scale_min(j, x[i].scales, &sc[j], &mn[j]);
    superblock_lanes(q, sc, 32, y[i].qs, lane);
    int32_t msum = 0;
    for (int j = 0; j < 8; ++j) msum += mn[j] * (y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
    const float d = y[i].d * fp16_to_fp32(x[i].d);
    const float dmin = -y[i].d * fp16_to_fp32(x[i].dmin);
    const float t = dmin * static_cast<float>(msum);
    summs = summs + t;
    lanes_fma(acc, d, lane);
  }
  return hsum8(acc) + summs;
}

// Q6_K (block_combine.h, as Q4_K): per super-block the exact integer sumi = sum_j sc[j] * (sum of
// the 16 products of sub-block j), then acc = fma(dy * d_x, float(sumi), acc); result acc.
float vec_dot_q6_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  int8_t q[QK_K];
  float acc = 0.0f;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    unpack_q6_k(x[i], q);
    int32_t sumi = 0;
    for (int j = 0; j < 16; ++j) {
      int32_t s = 0;
      for (int k = 16 * j; k < 16 * j + 16; ++k) s += static_cast<int32_t>(q[k]) * y[i].qs[k];
      sumi += x[i].scales[j] * s;
    }
    acc = std::fma(y[i].d * fp16_to_fp32(x[i].d), static_cast<float>(sumi), acc);
  }
  return acc;
}

float vec_dot_iq4_xs_q8_k_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ4_XS*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  int8_t q[QK_K], sc[8];
  int32_t lane[8];
  float acc[8] = {};
  for (int64_t i = 0; i < n / QK_K; ++i) {
    for (int ib = 0; ib < 8; ++ib) {
      sc[ib] = static_cast<int8_t>(iq4_xs_scale(x[i], ib));
      for (int j = 0; j < 16; ++j) {
        q[32 * ib + j] = kIq4nlValues[x[i].qs[16 * ib + j] & 0xF];
        q[32 * ib + j + 16] = kIq4nlValues[x[i].qs[16 * ib + j] >> 4];
      }
    }
    superblock_lanes(q, sc, 32, y[i].qs, lane);
    lanes_fma(acc, fp16_to_fp32(x[i].d) * y[i].d, lane);
  }
  return hsum8(acc);
}

}  // namespace agora
