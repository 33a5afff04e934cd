// Per-block float epilogues of the quantized dot products, shared by the scalar kernels
// (vec_dot_scalar.cpp) and the AVX2 ones (vec_dot_avx2.cpp).
//
// Contract: a quantized vec_dot computes each block's integer sums exactly, then folds the block
// into the running f32 sum with one of these functions, block after block in index order. The
// AVX2 kernels may evaluate the products of up to eight blocks at once in vector registers, but
// with the same IEEE operations in the same order (no fused multiply-add), and then add the
// blocks into the sum in index order; so every AVX2 kernel returns the bit-identical float its
// scalar twin returns, in every build.
//
// Every file that includes this header must switch floating-point contraction off first, as
// its first lines, so that all code in the file shares the setting:
//   #pragma GCC optimize("fp-contract=off")   (GCC; clang: #pragma clang fp contract(off))
// GCC otherwise fuses a*b+c into an FMA under -march=x86-64-v3 (C++ defaults to
// -ffp-contract=fast), which would make the default build differ from the portable one and the
// vector lanes differ from the scalar code.
#pragma once

namespace agora {

// Q4_0, Q5_0, Q8_0, IQ4_NL against Q8_0: sum + sumi * dx * dy.
inline float combine_q_0(float sum, int sumi, float dx, float dy) {
  const float t = static_cast<float>(sumi) * dx * dy;
  return sum + t;
}

// Q4_1, Q5_1 against Q8_1: sum + (sumi * dx * dy + mx * sy); sy = dy * sum(qy) (f16-rounded).
inline float combine_q_1(float sum, int sumi, float dx, float dy, float mx, float sy) {
  const float t = static_cast<float>(sumi) * dx * dy + mx * sy;
  return sum + t;
}

// Q2_K: sum + (dy * d * isum - dy * dmin * summs).
inline float combine_q2_k(float sum, int isum, int summs, float d, float dmin, float dy) {
  const float dall = dy * d;
  const float dm = dy * dmin;
  const float t = dall * static_cast<float>(isum) - dm * static_cast<float>(summs);
  return sum + t;
}

// Q3_K, Q6_K, IQ4_XS: sum + d * dy * isum.
inline float combine_k(float sum, int isum, float d, float dy) {
  const float t = d * dy * static_cast<float>(isum);
  return sum + t;
}

// Q4_K, Q5_K: sum + (d * dy * isum - dmin * dy * summs).
inline float combine_k4(float sum, int isum, int summs, float d, float dmin, float dy) {
  const float t = d * dy * static_cast<float>(isum) - dmin * dy * static_cast<float>(summs);
  return sum + t;
}

}  // namespace agora
