// Scalar reference dot products: the definition the AVX2 kernels are tested against. Quantized
// kernels fold each block into the sum with block_combine.h, in block order.

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

float vec_dot_q4_0_q8_0_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK4_0; ++i) {
    int sumi = 0;
    for (int j = 0; j < QK4_0 / 2; ++j) {
      sumi += ((x[i].qs[j] & 0xF) - 8) * y[i].qs[j];
      sumi += ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + QK4_0 / 2];
    }
    sum = combine_q_0(sum, sumi, fp16_to_fp32(x[i].d), fp16_to_fp32(y[i].d));
  }
  return sum;
}

float vec_dot_q4_1_q8_1_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK4_1; ++i) {
    int sumi = 0;
    for (int j = 0; j < QK4_1 / 2; ++j) {
      sumi += (x[i].qs[j] & 0xF) * y[i].qs[j];
      sumi += (x[i].qs[j] >> 4) * y[i].qs[j + QK4_1 / 2];
    }
    // The min contributes m * sum(a) = m * s, with s precomputed in the activation block.
    sum = combine_q_1(sum, sumi, fp16_to_fp32(x[i].d), fp16_to_fp32(y[i].d), fp16_to_fp32(x[i].m),
                      fp16_to_fp32(y[i].s));
  }
  return sum;
}

float vec_dot_q5_0_q8_0_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK5_0; ++i) {
    const uint32_t qh = q5_high_bits(x[i].qh);
    int sumi = 0;
    for (int j = 0; j < QK5_0 / 2; ++j) {
      const int lo = static_cast<int>((x[i].qs[j] & 0xF) | (((qh >> j) & 1) << 4)) - 16;
      const int hi = static_cast<int>((x[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16;
      sumi += lo * y[i].qs[j] + hi * y[i].qs[j + QK5_0 / 2];
    }
    sum = combine_q_0(sum, sumi, fp16_to_fp32(x[i].d), fp16_to_fp32(y[i].d));
  }
  return sum;
}

float vec_dot_q5_1_q8_1_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK5_1; ++i) {
    const uint32_t qh = q5_high_bits(x[i].qh);
    int sumi = 0;
    for (int j = 0; j < QK5_1 / 2; ++j) {
      const int lo = static_cast<int>((x[i].qs[j] & 0xF) | (((qh >> j) & 1) << 4));
      const int hi = static_cast<int>((x[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
      sumi += lo * y[i].qs[j] + hi * y[i].qs[j + QK5_1 / 2];
    }
    sum = combine_q_1(sum, sumi, fp16_to_fp32(x[i].d), fp16_to_fp32(y[i].d), fp16_to_fp32(x[i].m),
                      fp16_to_fp32(y[i].s));
  }
  return sum;
}

float vec_dot_q8_0_q8_0_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK8_0; ++i) {
    int sumi = 0;
    for (int j = 0; j < QK8_0; ++j) sumi += x[i].qs[j] * y[i].qs[j];
    sum = combine_q_0(sum, sumi, fp16_to_fp32(x[i].d), fp16_to_fp32(y[i].d));
  }
  return sum;
}

float vec_dot_iq4_nl_q8_0_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ4_NL*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK4_NL; ++i) {
    int sumi = 0;
    for (int j = 0; j < QK4_NL / 2; ++j) {
      sumi += kIq4nlValues[x[i].qs[j] & 0xF] * y[i].qs[j];
      sumi += kIq4nlValues[x[i].qs[j] >> 4] * y[i].qs[j + QK4_NL / 2];
    }
    sum = combine_q_0(sum, sumi, fp16_to_fp32(x[i].d), fp16_to_fp32(y[i].d));
  }
  return sum;
}

float vec_dot_q2_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  int8_t q[QK_K];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    unpack_q2_k(x[i], q);
    int isum = 0, summs = 0;
    for (int s = 0; s < QK_K / 16; ++s) {
      int d = 0;
      for (int l = 0; l < 16; ++l) d += q[16 * s + l] * y[i].qs[16 * s + l];
      isum += (x[i].scales[s] & 0xF) * d;
      summs += (x[i].scales[s] >> 4) * y[i].bsums[s];
    }
    sum = combine_q2_k(sum, isum, summs, fp16_to_fp32(x[i].d), fp16_to_fp32(x[i].dmin), y[i].d);
  }
  return sum;
}

float vec_dot_q3_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  int8_t q[QK_K], sc[16];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    unpack_q3_k(x[i], q, sc);
    int isum = 0;
    for (int s = 0; s < QK_K / 16; ++s) {
      int d = 0;
      for (int l = 0; l < 16; ++l) d += q[16 * s + l] * y[i].qs[16 * s + l];
      isum += sc[s] * d;
    }
    sum = combine_k(sum, isum, fp16_to_fp32(x[i].d), y[i].d);
  }
  return sum;
}

namespace {

// Shared by Q4_K and Q5_K: q in 0..31 per value, 8 (scale, min) pairs of 32 values.
inline float dot_k4_superblock(float sum, const uint8_t* q, const uint8_t* scales, float d,
                               float dmin, const BlockQ8_K& y) {
  int isum = 0, summs = 0;
  for (int s = 0; s < QK_K / 32; ++s) {
    uint8_t sc, m;
    k4_scale_min(s, scales, &sc, &m);
    int dot = 0;
    for (int l = 0; l < 32; ++l) dot += q[32 * s + l] * y.qs[32 * s + l];
    isum += sc * dot;
    summs += m * (y.bsums[2 * s] + y.bsums[2 * s + 1]);
  }
  return combine_k4(sum, isum, summs, d, dmin, y.d);
}

}  // namespace

float vec_dot_q4_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  uint8_t q[QK_K];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    unpack_q4_k(x[i], q);
    sum = dot_k4_superblock(sum, q, x[i].scales, fp16_to_fp32(x[i].d), fp16_to_fp32(x[i].dmin), y[i]);
  }
  return sum;
}

float vec_dot_q5_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  uint8_t q[QK_K];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    unpack_q5_k(x[i], q);
    sum = dot_k4_superblock(sum, q, x[i].scales, fp16_to_fp32(x[i].d), fp16_to_fp32(x[i].dmin), y[i]);
  }
  return sum;
}

float vec_dot_q6_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  int8_t q[QK_K];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    unpack_q6_k(x[i], q);
    int isum = 0;
    for (int s = 0; s < QK_K / 16; ++s) {
      int d = 0;
      for (int l = 0; l < 16; ++l) d += q[16 * s + l] * y[i].qs[16 * s + l];
      isum += x[i].scales[s] * d;
    }
    sum = combine_k(sum, isum, fp16_to_fp32(x[i].d), y[i].d);
  }
  return sum;
}

float vec_dot_iq4_xs_q8_k_scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ4_XS*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    int isum = 0;
    for (int ib = 0; ib < QK_K / 32; ++ib) {
      const uint8_t* qs = x[i].qs + 16 * ib;
      const int8_t* q8 = y[i].qs + 32 * ib;
      int dot = 0;
      for (int j = 0; j < 16; ++j)
        dot += kIq4nlValues[qs[j] & 0xF] * q8[j] + kIq4nlValues[qs[j] >> 4] * q8[j + 16];
      isum += iq4_xs_scale(x[i], ib) * dot;
    }
    sum = combine_k(sum, isum, fp16_to_fp32(x[i].d), y[i].d);
  }
  return sum;
}

}  // namespace agora
