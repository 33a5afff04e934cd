#include "engine/tensor/quantize.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "engine/tensor/fp16.h"
#include "engine/tensor/quant_blocks.h"

// Float expressions here are evaluated exactly as written (no fused multiply-add), so results do
// not depend on the compiler's contraction choices: quantized bytes must be reproducible.
#pragma GCC optimize("fp-contract=off")

namespace agora {

void quantize_row_f32(const float* src, void* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void quantize_row_f16(const float* src, void* dst, int64_t n) {
  auto* h = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_fp16(src[i]);
}

void quantize_row_bf16(const float* src, void* dst, int64_t n) {
  auto* h = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_bf16(src[i]);
}

namespace {

// The value of largest magnitude (keeping its sign) among x[0..n), and that magnitude. Ties keep
// the first one, as the reference does.
inline float signed_absmax(const float* x, int n, float* amax_out) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    const float a = std::fabs(x[j]);
    if (amax < a) {
      amax = a;
      max = x[j];
    }
  }
  *amax_out = amax;
  return max;
}

inline void min_max(const float* x, int n, float* mn, float* mx) {
  float lo = FLT_MAX, hi = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    if (x[j] < lo) lo = x[j];
    if (x[j] > hi) hi = x[j];
  }
  *mn = lo;
  *mx = hi;
}

}  // namespace

void quantize_row_q4_0(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ4_0*>(dst);
  for (int64_t i = 0; i < n / QK4_0; ++i, src += QK4_0) {
    float amax;
    const float max = signed_absmax(src, QK4_0, &amax);
    const float d = max / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < QK4_0 / 2; ++j) {
      // The biased value lies in [0, 16.5]; truncation then clamping to 15 is the reference's rounding.
      const int lo = std::min(15, static_cast<int>(src[j] * id + 8.5f));
      const int hi = std::min(15, static_cast<int>(src[j + QK4_0 / 2] * id + 8.5f));
      y[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void quantize_row_q4_1(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ4_1*>(dst);
  for (int64_t i = 0; i < n / QK4_1; ++i, src += QK4_1) {
    float mn, mx;
    min_max(src, QK4_1, &mn, &mx);
    const float d = (mx - mn) / 15;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(mn);
    for (int j = 0; j < QK4_1 / 2; ++j) {
      const int lo = std::min(15, static_cast<int>((src[j] - mn) * id + 0.5f));
      const int hi = std::min(15, static_cast<int>((src[j + QK4_1 / 2] - mn) * id + 0.5f));
      y[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void quantize_row_q5_0(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ5_0*>(dst);
  for (int64_t i = 0; i < n / QK5_0; ++i, src += QK5_0) {
    float amax;
    const float max = signed_absmax(src, QK5_0, &amax);
    const float d = max / -16;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    uint32_t qh = 0;
    for (int j = 0; j < QK5_0 / 2; ++j) {
      const int lo = std::min(31, static_cast<int>(src[j] * id + 16.5f));
      const int hi = std::min(31, static_cast<int>(src[j + QK5_0 / 2] * id + 16.5f));
      y[i].qs[j] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
      qh |= static_cast<uint32_t>(lo >> 4) << j;
      qh |= static_cast<uint32_t>(hi >> 4) << (j + QK5_0 / 2);
    }
    std::memcpy(y[i].qh, &qh, 4);
  }
}

void quantize_row_q5_1(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ5_1*>(dst);
  for (int64_t i = 0; i < n / QK5_1; ++i, src += QK5_1) {
    float mn, mx;
    min_max(src, QK5_1, &mn, &mx);
    const float d = (mx - mn) / 31;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(mn);
    uint32_t qh = 0;
    for (int j = 0; j < QK5_1 / 2; ++j) {
      // No clamp here (the reference has none): (max - min) * id rounds to at most 31.
      const int lo = static_cast<uint8_t>((src[j] - mn) * id + 0.5f);
      const int hi = static_cast<uint8_t>((src[j + QK5_1 / 2] - mn) * id + 0.5f);
      y[i].qs[j] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
      qh |= static_cast<uint32_t>((lo >> 4) & 1) << j;
      qh |= static_cast<uint32_t>((hi >> 4) & 1) << (j + QK5_1 / 2);
    }
    std::memcpy(y[i].qh, &qh, 4);
  }
}

void quantize_row_q8_0(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / QK8_0; ++i, src += QK8_0) {
    float amax = 0.0f;
    for (int j = 0; j < QK8_0; ++j) amax = std::max(amax, std::fabs(src[j]));
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    // roundf: halves away from zero.
    for (int j = 0; j < QK8_0; ++j) y[i].qs[j] = static_cast<int8_t>(std::roundf(src[j] * id));
  }
}

void quantize_row_q8_1(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / QK8_1; ++i, src += QK8_1) {
    float amax = 0.0f;
    for (int j = 0; j < QK8_1; ++j) amax = std::max(amax, std::fabs(src[j]));
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    int sum = 0;
    for (int j = 0; j < QK8_1; ++j) {
      y[i].qs[j] = static_cast<int8_t>(std::roundf(src[j] * id));
      sum += y[i].qs[j];
    }
    // s uses the unrounded f32 d, as the reference does.
    y[i].s = fp32_to_fp16(static_cast<float>(sum) * d);
  }
}

void quantize_row_q8_k(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / QK_K; ++i, src += QK_K) {
    float amax;
    const float max = signed_absmax(src, QK_K, &amax);
    if (amax == 0.0f) {
      std::memset(&y[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    // Scale so that the extreme maps to -127 (not -128): keeps every value in [-127, 127].
    const float iscale = -127.f / max;
    for (int j = 0; j < QK_K; ++j) {
      const int v = static_cast<int>(std::nearbyintf(iscale * src[j]));  // half to even
      y[i].qs[j] = static_cast<int8_t>(std::min(127, v));
    }
    for (int s = 0; s < QK_K / 16; ++s) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += y[i].qs[16 * s + l];
      y[i].bsums[s] = static_cast<int16_t>(sum);
    }
    y[i].d = 1 / iscale;
  }
}

QuantizeRowFn quantize_row_fn(GgmlType type) {
  switch (type) {
    case GgmlType::F32: return quantize_row_f32;
    case GgmlType::F16: return quantize_row_f16;
    case GgmlType::BF16: return quantize_row_bf16;
    case GgmlType::Q4_0: return quantize_row_q4_0;
    case GgmlType::Q4_1: return quantize_row_q4_1;
    case GgmlType::Q5_0: return quantize_row_q5_0;
    case GgmlType::Q5_1: return quantize_row_q5_1;
    case GgmlType::Q8_0: return quantize_row_q8_0;
    case GgmlType::Q8_1: return quantize_row_q8_1;
    case GgmlType::Q8_K: return quantize_row_q8_k;
    case GgmlType::Q2_K: return quantize_row_q2_k;
    case GgmlType::Q3_K: return quantize_row_q3_k;
    case GgmlType::Q4_K: return quantize_row_q4_k;
    case GgmlType::Q5_K: return quantize_row_q5_k;
    case GgmlType::Q6_K: return quantize_row_q6_k;
    case GgmlType::IQ4_NL:
    case GgmlType::IQ4_XS: return nullptr;
  }
  return nullptr;
}

}  // namespace agora
