// Scalar quantization (from f32) with the reference engine's rounding, byte for byte.
//
// Contract of every function: `src` holds n floats (n a multiple of the type's block size),
// `dst` receives n/block_size blocks (row_size(type, n) bytes). The output bytes equal those of
// the reference engine's `quantize_row_*_ref` for the same input, so files and activations we
// produce are interchangeable with its own. Pure and thread-safe; no allocation.
#pragma once

#include <cstdint>

#include "engine/tensor/ggml_type.h"

namespace agora {

void quantize_row_f32(const float* src, void* dst, int64_t n);
void quantize_row_f16(const float* src, void* dst, int64_t n);
void quantize_row_bf16(const float* src, void* dst, int64_t n);
void quantize_row_q4_0(const float* src, void* dst, int64_t n);
void quantize_row_q4_1(const float* src, void* dst, int64_t n);
void quantize_row_q5_0(const float* src, void* dst, int64_t n);
void quantize_row_q5_1(const float* src, void* dst, int64_t n);
void quantize_row_q8_0(const float* src, void* dst, int64_t n);
void quantize_row_q8_1(const float* src, void* dst, int64_t n);
void quantize_row_q8_k(const float* src, void* dst, int64_t n);
// K-quants (quantize_k.cpp): the reference's searches without an importance matrix.
void quantize_row_q2_k(const float* src, void* dst, int64_t n);
void quantize_row_q3_k(const float* src, void* dst, int64_t n);
void quantize_row_q4_k(const float* src, void* dst, int64_t n);
void quantize_row_q5_k(const float* src, void* dst, int64_t n);
void quantize_row_q6_k(const float* src, void* dst, int64_t n);

// The quantizer of a type, or null where Agora has none (IQ4_NL, IQ4_XS).
using QuantizeRowFn = void (*)(const float* src, void* dst, int64_t n);
QuantizeRowFn quantize_row_fn(GgmlType type);

}  // namespace agora
