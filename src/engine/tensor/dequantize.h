// Scalar dequantization (to f32) of every GGUF element type Agora knows.
//
// Contract of every function: `src` holds n values of the type (n a multiple of its block size,
// blocks laid out as in quant_blocks.h, no alignment required beyond the type's natural one for
// F32), `dst` receives n floats. The float expressions follow the reference engine's, so the
// results are bit-identical to its dequantizers. Pure and thread-safe.
#pragma once

#include <cstdint>

#include "engine/tensor/ggml_type.h"

namespace agora {

void dequantize_row_f32(const void* src, float* dst, int64_t n);
void dequantize_row_f16(const void* src, float* dst, int64_t n);
void dequantize_row_bf16(const void* src, float* dst, int64_t n);
void dequantize_row_q4_0(const void* src, float* dst, int64_t n);
void dequantize_row_q4_1(const void* src, float* dst, int64_t n);
void dequantize_row_q5_0(const void* src, float* dst, int64_t n);
void dequantize_row_q5_1(const void* src, float* dst, int64_t n);
void dequantize_row_q8_0(const void* src, float* dst, int64_t n);
void dequantize_row_q8_1(const void* src, float* dst, int64_t n);
void dequantize_row_q2_k(const void* src, float* dst, int64_t n);
void dequantize_row_q3_k(const void* src, float* dst, int64_t n);
void dequantize_row_q4_k(const void* src, float* dst, int64_t n);
void dequantize_row_q5_k(const void* src, float* dst, int64_t n);
void dequantize_row_q6_k(const void* src, float* dst, int64_t n);
void dequantize_row_q8_k(const void* src, float* dst, int64_t n);
void dequantize_row_iq4_nl(const void* src, float* dst, int64_t n);
void dequantize_row_iq4_xs(const void* src, float* dst, int64_t n);

// Dispatch on the type; every GgmlType has a dequantizer.
void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n);

}  // namespace agora
