// Random rows of any GGUF type for the kernel tests.
#pragma once

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/kernels/type_ops.h"
#include "engine/tensor/dequantize.h"
#include "engine/tensor/fp16.h"
#include "engine/tensor/quant_blocks.h"
#include "engine/tensor/quantize.h"

namespace agora::test {

inline std::vector<float> random_floats(int64_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  return v;
}

// Byte offsets of the f16 scale fields in one block of a quantized type.
inline std::vector<size_t> f16_fields(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0: case GgmlType::Q5_0: case GgmlType::Q8_0: case GgmlType::IQ4_NL:
    case GgmlType::IQ4_XS: return {0};
    case GgmlType::Q4_1: case GgmlType::Q5_1: case GgmlType::Q8_1:
    case GgmlType::Q4_K: case GgmlType::Q5_K: return {0, 2};
    case GgmlType::Q2_K: return {offsetof(BlockQ2_K, d), offsetof(BlockQ2_K, dmin)};
    case GgmlType::Q3_K: return {offsetof(BlockQ3_K, d)};
    case GgmlType::Q6_K: return {offsetof(BlockQ6_K, d)};
    default: return {};
  }
}

// A row of n values of type t: quantized from random floats where a quantizer exists,
// otherwise random bytes with sane f16 scales (every bit pattern of the quants is then covered).
inline std::vector<uint8_t> random_row(GgmlType t, int64_t n, std::mt19937& rng) {
  std::vector<uint8_t> row(row_size(t, n));
  if (t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16 ||
      (quantize_row_fn(t) && (rng() & 1))) {
    auto x = random_floats(n, rng);
    quantize_row_fn(t)(x.data(), row.data(), n);
    return row;
  }
  for (auto& b : row) b = static_cast<uint8_t>(rng());
  const TypeInfo& ti = type_info(t);
  std::uniform_real_distribution<float> scale(-0.02f, 0.02f);
  for (size_t off = 0; off < row.size(); off += ti.type_size) {
    for (size_t f : f16_fields(t)) {
      const uint16_t h = fp32_to_fp16(scale(rng));
      std::memcpy(&row[off + f], &h, 2);
    }
  }
  return row;
}

inline const GgmlType kWeightTypes[] = {
    GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0,   GgmlType::Q4_1,
    GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::IQ4_NL, GgmlType::Q2_K,
    GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K,   GgmlType::IQ4_XS};

}  // namespace agora::test
