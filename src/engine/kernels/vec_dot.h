// The dot-product kernels behind type_ops(): one per (weight type, vec_dot_type) pair, in a
// scalar reference version (vec_dot_scalar.cpp) and an AVX2+FMA+F16C version (vec_dot_avx2.cpp,
// compiled only when the build targets AVX2).
//
// Contract (VecDotFn): n values, a multiple of the weight type's block size; `w` is a row of the
// weight type, `a` a row of its vec_dot_type. Quantized pairs compute each block's integer dot
// exactly, as the reference engine does, then scale and add in f32 with the same operations in
// the same order in both versions (block_combine.h: eight lanes, the reference engine's AVX2
// order): their results are bit-identical. The float
// pairs (F32/F16/BF16) differ by rounding only (f32 lanes against a double sum).
#pragma once

#include <cstddef>
#include <cstdint>

namespace agora {

#define AGORA_VEC_DOT_PAIRS(X) \
  X(f32_f32)                   \
  X(f16_f16)                   \
  X(bf16_bf16)                 \
  X(q4_0_q8_0)                 \
  X(q4_1_q8_1)                 \
  X(q5_0_q8_0)                 \
  X(q5_1_q8_1)                 \
  X(q8_0_q8_0)                 \
  X(iq4_nl_q8_0)               \
  X(q2_k_q8_k)                 \
  X(q3_k_q8_k)                 \
  X(q4_k_q8_k)                 \
  X(q5_k_q8_k)                 \
  X(q6_k_q8_k)                 \
  X(iq4_xs_q8_k)

#define AGORA_DECLARE_VEC_DOT(name)                                        \
  float vec_dot_##name##_scalar(int64_t n, const void* w, const void* a); \
  float vec_dot_##name##_avx2(int64_t n, const void* w, const void* a);
AGORA_VEC_DOT_PAIRS(AGORA_DECLARE_VEC_DOT)
#undef AGORA_DECLARE_VEC_DOT

// Multi-token kernels (VecDotMultiFn): out[t] = vec_dot_X_avx2(n, w, act + t * stride) for
// t < n_act, bit-identical, with each weight block unpacked once for a tile of tokens.
#define AGORA_DECLARE_VEC_DOT_MULTI(name) \
  void vec_dot_multi_##name##_avx2(int64_t n, const void* w, const void* act, size_t stride, int n_act, float* out);
AGORA_DECLARE_VEC_DOT_MULTI(f16_f16)
AGORA_DECLARE_VEC_DOT_MULTI(q4_1_q8_1)
AGORA_DECLARE_VEC_DOT_MULTI(q5_0_q8_0)
AGORA_DECLARE_VEC_DOT_MULTI(q5_1_q8_1)
AGORA_DECLARE_VEC_DOT_MULTI(iq4_nl_q8_0)
AGORA_DECLARE_VEC_DOT_MULTI(q2_k_q8_k)
AGORA_DECLARE_VEC_DOT_MULTI(q3_k_q8_k)
AGORA_DECLARE_VEC_DOT_MULTI(q4_k_q8_k)
AGORA_DECLARE_VEC_DOT_MULTI(q5_k_q8_k)
AGORA_DECLARE_VEC_DOT_MULTI(q6_k_q8_k)
AGORA_DECLARE_VEC_DOT_MULTI(iq4_xs_q8_k)
#undef AGORA_DECLARE_VEC_DOT_MULTI

// Q4_0 and Q8_0: eight weight rows at once (VecDotRows8Fn), bit-identical to vec_dot_*_avx2.
void vec_dot_rows8_q4_0_q8_0_avx2(int64_t n, const void* w, size_t w_stride, const void* act,
                                  size_t act_stride, int n_act, float* out, size_t out_stride);
void vec_dot_rows8_q8_0_q8_0_avx2(int64_t n, const void* w, size_t w_stride, const void* act,
                                  size_t act_stride, int n_act, float* out, size_t out_stride);

// Activation quantizers in AVX2 (byte-identical to the scalar reference ones).
void quantize_row_q8_0_avx2(const float* src, void* dst, int64_t n);
void quantize_row_q8_1_avx2(const float* src, void* dst, int64_t n);
void quantize_row_q8_k_avx2(const float* src, void* dst, int64_t n);
void quantize_row_f16_avx2(const float* src, void* dst, int64_t n);

}  // namespace agora
