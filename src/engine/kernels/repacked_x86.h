// Internal to the repacked-weight kernels (repacked.cpp: AVX2; repacked_vnni.cpp: AVX-VNNI, compiled with
// -mavxvnni so that its instantiation of run_group inlines vpdpbusd). Everything here has internal
// linkage, so the two translation units never share a copy compiled for the other's ISA.
#pragma once

#include <immintrin.h>

#include <cstring>

#include "engine/kernels/repacked.h"
#include "engine/tensor/fp16.h"
#include "engine/tensor/quant_blocks.h"

namespace agora {

// Set by repacked_vnni.cpp when the build can emit AVX-VNNI (null otherwise).
extern const Q4_0x8Kernel q4_0x8_kernel_vnni;
extern const Q8_0x8Kernel q8_0x8_kernel_vnni;

namespace {

inline const BlockQ8_0* x86_act_block(const uint8_t* act, size_t act_row, int t, int64_t i) {
  return reinterpret_cast<const BlockQ8_0*>(act + static_cast<size_t>(t) * act_row) + i;
}

// One core keeps too few cache misses in flight to stream weights at full speed, and the
// hardware prefetchers stop at page boundaries: request the record kAheadBytes ahead (the group
// is one sequential stream, and the next group follows it in memory).
constexpr size_t kAheadBytes = 8 * kQ4_0x8RecordBytes;
inline void prefetch_ahead(const uint8_t* rec) {
  _mm_prefetch(reinterpret_cast<const char*>(rec + kAheadBytes), _MM_HINT_T0);
  _mm_prefetch(reinterpret_cast<const char*>(rec + kAheadBytes + 64), _MM_HINT_T0);
  _mm_prefetch(reinterpret_cast<const char*>(rec + kAheadBytes + 128), _MM_HINT_T0);
}

// Four 4-value groups of one activation block, each broadcast to all eight lanes.
inline __m256i bcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// init + the eight rows' integer dots (lane r = row r) of one block, from its unpacked chunks
// lo[c] (values 4c..4c+3 of every row) and hi[c] (values 16+4c..16+4c+3), against activations y.
// u4 x s8 products summed in int16 stay in range: 8 maddubs x 2 x 15 x 128 <= 30720.
inline __m256i block_dots_avx2(const __m256i* lo, const __m256i* hi, const int8_t* y, __m256i init) {
  __m256i s = _mm256_maddubs_epi16(lo[0], bcast4(y));
  for (int c = 1; c < 4; ++c) s = _mm256_add_epi16(s, _mm256_maddubs_epi16(lo[c], bcast4(y + 4 * c)));
  for (int c = 0; c < 4; ++c) s = _mm256_add_epi16(s, _mm256_maddubs_epi16(hi[c], bcast4(y + 16 + 4 * c)));
  return _mm256_add_epi32(_mm256_madd_epi16(s, _mm256_set1_epi16(1)), init);
}

template <int NT, typename Dots>
inline void run_group(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const Q8BlockAux* aux,
                      size_t aux_row, float* out, size_t out_stride, Dots dots_of) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* rec = group + static_cast<size_t>(i) * kQ4_0x8RecordBytes;
    prefetch_ahead(rec);
    const __m256 dx = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rec)));
    __m256i lo[4], hi[4];
    for (int c = 0; c < 4; ++c) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rec + 16 + 32 * c));
      lo[c] = _mm256_and_si256(v, m4);
      hi[c] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    }
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_0* y = x86_act_block(act, act_row, t, i);
      const Q8BlockAux* ya = aux + static_cast<size_t>(t) * aux_row + static_cast<size_t>(i);
      // The offset term enters as the start value of the integer sum (exact in any order).
      const __m256i sumi = dots_of(lo, hi, y->qs, _mm256_set1_epi32(-ya->sum8));
      const __m256 d = _mm256_mul_ps(dx, _mm256_set1_ps(ya->d));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), d, acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) _mm256_storeu_ps(out + static_cast<size_t>(t) * out_stride, acc[t]);
}

struct DotsAvx2 {
  __m256i operator()(const __m256i* lo, const __m256i* hi, const int8_t* y, __m256i init) const {
    return block_dots_avx2(lo, hi, y, init);
  }
};

}  // namespace
}  // namespace agora
