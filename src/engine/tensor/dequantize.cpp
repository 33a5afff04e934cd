#include "engine/tensor/dequantize.h"

#include <cstring>

#include "engine/tensor/fp16.h"
#include "engine/tensor/quant_blocks.h"
#include "engine/tensor/quant_unpack.h"

// Float expressions here are evaluated exactly as written (no fused multiply-add), so results do
// not depend on the compiler's contraction choices: quantized bytes must be reproducible.
#pragma GCC optimize("fp-contract=off")

namespace agora {

void dequantize_row_f32(const void* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void dequantize_row_f16(const void* src, float* dst, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(h[i]);
}

void dequantize_row_bf16(const void* src, float* dst, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(h[i]);
}

void dequantize_row_q4_0(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_0*>(src);
  for (int64_t i = 0; i < n / QK4_0; ++i, dst += QK4_0) {
    const float d = fp16_to_fp32(b[i].d);
    for (int j = 0; j < QK4_0 / 2; ++j) {
      dst[j] = static_cast<float>((b[i].qs[j] & 0xF) - 8) * d;
      dst[j + QK4_0 / 2] = static_cast<float>((b[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void dequantize_row_q4_1(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_1*>(src);
  for (int64_t i = 0; i < n / QK4_1; ++i, dst += QK4_1) {
    const float d = fp16_to_fp32(b[i].d), m = fp16_to_fp32(b[i].m);
    for (int j = 0; j < QK4_1 / 2; ++j) {
      dst[j] = static_cast<float>(b[i].qs[j] & 0xF) * d + m;
      dst[j + QK4_1 / 2] = static_cast<float>(b[i].qs[j] >> 4) * d + m;
    }
  }
}

void dequantize_row_q5_0(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_0*>(src);
  for (int64_t i = 0; i < n / QK5_0; ++i, dst += QK5_0) {
    const float d = fp16_to_fp32(b[i].d);
    const uint32_t qh = q5_high_bits(b[i].qh);
    for (int j = 0; j < QK5_0 / 2; ++j) {
      const int lo = (b[i].qs[j] & 0xF) | (((qh >> j) & 1) << 4);
      const int hi = (b[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      dst[j] = static_cast<float>(lo - 16) * d;
      dst[j + QK5_0 / 2] = static_cast<float>(hi - 16) * d;
    }
  }
}

void dequantize_row_q5_1(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_1*>(src);
  for (int64_t i = 0; i < n / QK5_1; ++i, dst += QK5_1) {
    const float d = fp16_to_fp32(b[i].d), m = fp16_to_fp32(b[i].m);
    const uint32_t qh = q5_high_bits(b[i].qh);
    for (int j = 0; j < QK5_1 / 2; ++j) {
      const int lo = (b[i].qs[j] & 0xF) | (((qh >> j) & 1) << 4);
      const int hi = (b[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      dst[j] = static_cast<float>(lo) * d + m;
      dst[j + QK5_1 / 2] = static_cast<float>(hi) * d + m;
    }
  }
}

void dequantize_row_q8_0(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / QK8_0; ++i, dst += QK8_0) {
    const float d = fp16_to_fp32(b[i].d);
    for (int j = 0; j < QK8_0; ++j) dst[j] = static_cast<float>(b[i].qs[j]) * d;
  }
}

void dequantize_row_q8_1(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_1*>(src);
  for (int64_t i = 0; i < n / QK8_1; ++i, dst += QK8_1) {
    const float d = fp16_to_fp32(b[i].d);
    for (int j = 0; j < QK8_1; ++j) dst[j] = static_cast<float>(b[i].qs[j]) * d;
  }
}

void dequantize_row_q2_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ2_K*>(src);
  int8_t q[QK_K];
  for (int64_t i = 0; i < n / QK_K; ++i, dst += QK_K) {
    const float d = fp16_to_fp32(b[i].d), dmin = fp16_to_fp32(b[i].dmin);
    unpack_q2_k(b[i], q);
    for (int s = 0; s < QK_K / 16; ++s) {
      const float dl = d * static_cast<float>(b[i].scales[s] & 0xF);
      const float ml = dmin * static_cast<float>(b[i].scales[s] >> 4);
      for (int l = 0; l < 16; ++l) dst[16 * s + l] = dl * static_cast<float>(q[16 * s + l]) - ml;
    }
  }
}

void dequantize_row_q3_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ3_K*>(src);
  int8_t q[QK_K], sc[16];
  for (int64_t i = 0; i < n / QK_K; ++i, dst += QK_K) {
    const float d = fp16_to_fp32(b[i].d);
    unpack_q3_k(b[i], q, sc);
    for (int s = 0; s < QK_K / 16; ++s) {
      const float dl = d * static_cast<float>(sc[s]);
      for (int l = 0; l < 16; ++l) dst[16 * s + l] = dl * static_cast<float>(q[16 * s + l]);
    }
  }
}

void dequantize_row_q4_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_K*>(src);
  uint8_t q[QK_K];
  for (int64_t i = 0; i < n / QK_K; ++i, dst += QK_K) {
    const float d = fp16_to_fp32(b[i].d), dmin = fp16_to_fp32(b[i].dmin);
    unpack_q4_k(b[i], q);
    for (int s = 0; s < QK_K / 32; ++s) {
      uint8_t sc, m;
      k4_scale_min(s, b[i].scales, &sc, &m);
      const float dl = d * static_cast<float>(sc), ml = dmin * static_cast<float>(m);
      for (int l = 0; l < 32; ++l) dst[32 * s + l] = dl * static_cast<float>(q[32 * s + l]) - ml;
    }
  }
}

void dequantize_row_q5_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_K*>(src);
  uint8_t q[QK_K];
  for (int64_t i = 0; i < n / QK_K; ++i, dst += QK_K) {
    const float d = fp16_to_fp32(b[i].d), dmin = fp16_to_fp32(b[i].dmin);
    unpack_q5_k(b[i], q);
    for (int s = 0; s < QK_K / 32; ++s) {
      uint8_t sc, m;
      k4_scale_min(s, b[i].scales, &sc, &m);
      const float dl = d * static_cast<float>(sc), ml = dmin * static_cast<float>(m);
      for (int l = 0; l < 32; ++l) dst[32 * s + l] = dl * static_cast<float>(q[32 * s + l]) - ml;
    }
  }
}

void dequantize_row_q6_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ6_K*>(src);
  int8_t q[QK_K];
  for (int64_t i = 0; i < n / QK_K; ++i, dst += QK_K) {
    const float d = fp16_to_fp32(b[i].d);
    unpack_q6_k(b[i], q);
    for (int s = 0; s < QK_K / 16; ++s) {
      const float dl = d * static_cast<float>(b[i].scales[s]);
      for (int l = 0; l < 16; ++l) dst[16 * s + l] = dl * static_cast<float>(q[16 * s + l]);
    }
  }
}

void dequantize_row_q8_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_K*>(src);
  for (int64_t i = 0; i < n / QK_K; ++i, dst += QK_K)
    for (int j = 0; j < QK_K; ++j) dst[j] = b[i].d * static_cast<float>(b[i].qs[j]);
}

void dequantize_row_iq4_nl(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockIQ4_NL*>(src);
  for (int64_t i = 0; i < n / QK4_NL; ++i, dst += QK4_NL) {
    const float d = fp16_to_fp32(b[i].d);
    for (int j = 0; j < QK4_NL / 2; ++j) {
      dst[j] = d * static_cast<float>(kIq4nlValues[b[i].qs[j] & 0xF]);
      dst[j + QK4_NL / 2] = d * static_cast<float>(kIq4nlValues[b[i].qs[j] >> 4]);
    }
  }
}

void dequantize_row_iq4_xs(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockIQ4_XS*>(src);
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    for (int ib = 0; ib < QK_K / 32; ++ib, dst += 32) {
      const float dl = d * static_cast<float>(iq4_xs_scale(b[i], ib));
      const uint8_t* qs = b[i].qs + 16 * ib;
      for (int j = 0; j < 16; ++j) {
        dst[j] = dl * static_cast<float>(kIq4nlValues[qs[j] & 0xF]);
        dst[j + 16] = dl * static_cast<float>(kIq4nlValues[qs[j] >> 4]);
      }
    }
  }
}

void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n) {
  switch (type) {
    case GgmlType::F32: return dequantize_row_f32(src, dst, n);
    case GgmlType::F16: return dequantize_row_f16(src, dst, n);
    case GgmlType::BF16: return dequantize_row_bf16(src, dst, n);
    case GgmlType::Q4_0: return dequantize_row_q4_0(src, dst, n);
    case GgmlType::Q4_1: return dequantize_row_q4_1(src, dst, n);
    case GgmlType::Q5_0: return dequantize_row_q5_0(src, dst, n);
    case GgmlType::Q5_1: return dequantize_row_q5_1(src, dst, n);
    case GgmlType::Q8_0: return dequantize_row_q8_0(src, dst, n);
    case GgmlType::Q8_1: return dequantize_row_q8_1(src, dst, n);
    case GgmlType::Q2_K: return dequantize_row_q2_k(src, dst, n);
    case GgmlType::Q3_K: return dequantize_row_q3_k(src, dst, n);
    case GgmlType::Q4_K: return dequantize_row_q4_k(src, dst, n);
    case GgmlType::Q5_K: return dequantize_row_q5_k(src, dst, n);
    case GgmlType::Q6_K: return dequantize_row_q6_k(src, dst, n);
    case GgmlType::Q8_K: return dequantize_row_q8_k(src, dst, n);
    case GgmlType::IQ4_NL: return dequantize_row_iq4_nl(src, dst, n);
    case GgmlType::IQ4_XS: return dequantize_row_iq4_xs(src, dst, n);
  }
}

}  // namespace agora
