// Per-type row operations: the kernel interface every weight format implements.
//
// Matrix products follow the reference engine's scheme: before a weight row of type W is dotted
// with an activation row, the activations are converted once to W's `vec_dot_type` (F16 for F16
// weights, Q8_0 for Q4_0/Q5_0/Q8_0/IQ4_NL, Q8_1 for Q4_1/Q5_1, Q8_K for the K-quants and IQ4_XS,
// F32 for F32, BF16 for BF16), then `vec_dot` runs on the two encoded rows.
//
// Each type has a scalar reference implementation and, where written, an AVX2+FMA+F16C one;
// `type_ops()` returns the fastest the CPU supports, `type_ops_scalar()` the reference.
// All functions are pure and thread-safe. Row lengths are multiples of the type's block size.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/tensor/ggml_type.h"

namespace agora {

using ToFloatFn = void (*)(const void* src, float* dst, int64_t n);
using FromFloatFn = void (*)(const float* src, void* dst, int64_t n);
using VecDotFn = float (*)(int64_t n, const void* w_row, const void* act_row);
// One weight row against n_act (1..8) activation rows `stride` bytes apart:
// out[t] = vec_dot(n, w_row, act + t * stride), bit-identical (batch invariance), but each weight
// block is unpacked once for all tokens.
using VecDotMultiFn = void (*)(int64_t n, const void* w_row, const void* act, size_t stride, int n_act,
                               float* out);
// Eight weight rows (w_stride bytes apart) against n_act (1..8) activation rows:
// out[t * out_stride + r] = vec_dot(n, w + r * w_stride, act + t * act_stride), bit-identical.
using VecDotRows8Fn = void (*)(int64_t n, const void* w, size_t w_stride, const void* act,
                               size_t act_stride, int n_act, float* out, size_t out_stride);

struct TypeOps {
  GgmlType type;
  GgmlType vec_dot_type;
  ToFloatFn to_float = nullptr;      // dequantize n values
  FromFloatFn from_float = nullptr;  // quantize n values (reference rounding); null if unsupported
  VecDotFn vec_dot = nullptr;        // dot of a row of `type` with a row of `vec_dot_type`
  VecDotMultiFn vec_dot_multi = nullptr;  // several activation rows at once; null: loop vec_dot
  VecDotRows8Fn vec_dot_rows8 = nullptr;  // eight weight rows x several activation rows; optional
};

// Fastest implementation available on this CPU (AVX2 unless AGORA_PORTABLE or no AVX2).
const TypeOps& type_ops(GgmlType type);
// Scalar reference implementation (what the fast kernels are tested against).
const TypeOps& type_ops_scalar(GgmlType type);
// True when type_ops() uses the AVX2 kernels.
bool kernels_use_avx2();

}  // namespace agora
