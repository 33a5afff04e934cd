// The float order of the quantized dot products, shared by the scalar kernels
// (vec_dot_scalar.cpp) and the AVX2 ones (vec_dot_avx2.cpp).
//
// Contract: the reference engine's AVX2 order (ggml-cpu-quants.c), restated here as a definition.
// A quantized vec_dot keeps eight f32 lanes. For each block (32 values; for the K-quants, each
// 256-value super-block) it first computes eight exact int32 lane sums: lane l holds the sum of
// the products (weight scale x weight quant x activation quant, integer scales only) of the values
// at positions 32c + 4l + i (i = 0..3) over the block's 32-value chunks c. This is what
// maddubs + madd leave in a 256-bit register. Then, per lane, in block order,
//     acc[l] = fma(d, float(lane[l]), acc[l])      (one rounding: a true fused multiply-add)
// with d the block's combined float scale, and at the end the lanes are added in the fixed tree
// hsum8 below. Types with a min add their min term as described at each function. Integer sums
// are exact whatever order computes them, and every float operation is written out (std::fma or
// _mm256_fmadd_ps, never a contracted a*b+c), so the AVX2 kernels return the bit-identical float
// of their scalar twin, in the default and the portable build alike, and the multi-token kernels
// return, per token, the bit-identical float of the single-token one.
//
// Exception: Q4_0 and Q8_0. The reference engine repacks Q4_0 weights (eight rows interleaved)
// and its kernels keep one f32 accumulator per row: acc = fma(float(sumi), dx * dy, acc), block
// after block, with sumi the block's whole integer dot. Agora uses that order for Q4_0 and Q8_0
// (it needs no horizontal sum, so the eight-row repacked kernels and the AMX tile kernels, which
// produce whole block dots, run at full width; the AVX2 matmul gets the same independence by
// reducing eight rows at once).
//
// Exception: Q4_K. Its eight lanes would each mix the eight sub-blocks' 6-bit scales, so a kernel
// on eight interleaved rows (repacked.h, Q4_Kx8) could not use the four-way u8 x s8 multiply-add
// (vpdpbusd) without a multiply per lane and sub-block. Agora keeps, per row, one f32 chain, as
// the reference engine's repacked kernels do: per super-block the exact integers
//     sumi = sum_j sc[j] * (sum of the 32 products q x y of sub-block j)
//     summ = sum_j mn[j] * (bsums[2j] + bsums[2j+1])
// then acc = fma(d, float(sumi), acc) and acc = fma(dmin, float(summ), acc), in that order,
// super-block after super-block (d = dy * d_x, dmin = -dy * dmin_x); the result is acc. Every
// Q4_K kernel (scalar, AVX2 rows, repacked scalar/AVX2/AVX-VNNI) follows it. Q6_K likewise (no
// min term): sumi = sum_j sc[j] * (sum of the 16 products of sub-block j), j < 16, then
// acc = fma(d, float(sumi), acc).
//
// Every file that includes this header must switch floating-point contraction off first, as
// its first lines, so that all code in the file shares the setting:
//   #pragma GCC optimize("fp-contract=off")   (GCC; clang: #pragma clang fp contract(off))
#pragma once

#include <cmath>
#include <cstdint>

namespace agora {

// acc[l] = fma(d, float(lane[l]), acc[l]) for the eight lanes.
inline void lanes_fma(float* acc, float d, const int32_t* lane) {
  for (int l = 0; l < 8; ++l) acc[l] = std::fma(d, static_cast<float>(lane[l]), acc[l]);
}

// The fixed horizontal sum of eight lanes: ((a0+a4) + (a2+a6)) + ((a1+a5) + (a3+a7)).
inline float hsum8(const float* a) {
  const float s0 = a[0] + a[4], s1 = a[1] + a[5], s2 = a[2] + a[6], s3 = a[3] + a[7];
  return (s0 + s2) + (s1 + s3);
}

// The fixed horizontal sum of four lanes: (a0+a2) + (a1+a3).
inline float hsum4(const float* a) { return (a[0] + a[2]) + (a[1] + a[3]); }

// Lane sums of one 32-value block of integer quants against int8 activations:
// lane[l] = sum_{i<4} x[4l+i] * y[4l+i].
template <class Q>
inline void block_lanes(const Q* x, const int8_t* y, int32_t* lane) {
  for (int l = 0; l < 8; ++l) {
    int32_t s = 0;
    for (int i = 0; i < 4; ++i) s += static_cast<int32_t>(x[4 * l + i]) * y[4 * l + i];
    lane[l] = s;
  }
}

}  // namespace agora
