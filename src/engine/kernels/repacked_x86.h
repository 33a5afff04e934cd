// Internal to the repacked-weight kernels (repacked.cpp: AVX2; repacked_vnni.cpp: AVX-VNNI, compiled with
// -mavxvnni so that its instantiation of run_group inlines vpdpbusd). Everything here has internal
// linkage, so the two translation units never share a copy compiled for the other's ISA.
#pragma once

#include <immintrin.h>

#include <cstring>

#include "engine/kernels/repacked.h"
#include "engine/kernels/token_count.h"
#include "engine/tensor/fp16.h"
#include "engine/tensor/quant_blocks.h"

namespace agora {

// Set by repacked_vnni.cpp when the build can emit AVX-VNNI (null otherwise).
extern const Q4_0x8Kernel q4_0x8_kernel_vnni;
extern const Q4_0x8Kernel q4_0x8_pair_kernel_avx512;  // repacked_avx512.cpp (null without AVX-512)
extern const Q8_0x8Kernel q8_0x8_kernel_vnni;
extern const Q4_Kx8Kernel q4_kx8_kernel_vnni;
extern const Q4_Kx8Kernel q6_kx8_kernel_vnni;

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

// ---- Q4_Kx8 ----
// `Sub` accumulates one sub-block's dot for each of the eight rows: start(), step(s, w, y) with
// w the unpacked quants (lane r: four values of row r) and y the four activations broadcast, then
// scaled(s, sc) = row r's sc[j] * dot_j in int32 lane r, sc from Sub::scale(&sc[j][0]).
template <int NT, typename Sub>
inline void run_group_q4k(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row,
                          const Q8KBlockAux* aux, size_t aux_row, float* out, size_t out_stride) {
  constexpr size_t kAhead = 4 * kQ4_Kx8RecordBytes;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const int8_t* yq[NT];
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) {
    yq[t] = reinterpret_cast<const BlockQ8_K*>(act + static_cast<size_t>(t) * act_row)->qs;
    acc[t] = _mm256_setzero_ps();
  }
  for (int64_t i = 0; i < nb; ++i, group += kQ4_Kx8RecordBytes) {
    __m256i sumi[NT];
    for (int t = 0; t < NT; ++t) sumi[t] = _mm256_setzero_si256();
    for (int j = 0; j < 8; ++j) {
      for (int p = 0; p < 3; ++p)
        _mm_prefetch(reinterpret_cast<const char*>(group + kAhead + 64 * (3 * j + p)), _MM_HINT_T0);
      const uint8_t* qs = group + 160 + 256 * (j / 2);
      __m256i s[NT];
      for (int t = 0; t < NT; ++t) s[t] = Sub::start();
      for (int k = 0; k < 8; ++k) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * k));
        const __m256i w = (j & 1) ? _mm256_and_si256(_mm256_srli_epi16(v, 4), m4) : _mm256_and_si256(v, m4);
        for (int t = 0; t < NT; ++t) s[t] = Sub::step(s[t], w, bcast4(yq[t] + 32 * j + 4 * k));
      }
      const __m256i sc = Sub::scale(group + 32 + 8 * j);
      for (int t = 0; t < NT; ++t) sumi[t] = _mm256_add_epi32(sumi[t], Sub::scaled(s[t], sc));
    }
    const __m256 dx = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(group)));
    const __m256 dmx = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(group + 16)));
    __m256i mn[4];
    for (int m = 0; m < 4; ++m)
      mn[m] = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(group + 96 + 16 * m)));
    for (int t = 0; t < NT; ++t) {
      const Q8KBlockAux& a = aux[static_cast<size_t>(t) * aux_row + static_cast<size_t>(i)];
      __m256i summ = _mm256_madd_epi16(mn[0], bcast4(reinterpret_cast<const int8_t*>(a.bsum)));
      for (int m = 1; m < 4; ++m)
        summ = _mm256_add_epi32(summ, _mm256_madd_epi16(mn[m], bcast4(reinterpret_cast<const int8_t*>(a.bsum + 2 * m))));
      const __m256 d = _mm256_mul_ps(dx, _mm256_set1_ps(a.d));
      const __m256 dmin = _mm256_mul_ps(dmx, _mm256_set1_ps(-a.d));
      acc[t] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi[t]), acc[t]);
      acc[t] = _mm256_fmadd_ps(dmin, _mm256_cvtepi32_ps(summ), acc[t]);
      yq[t] += sizeof(BlockQ8_K);
    }
  }
  for (int t = 0; t < NT; ++t) _mm256_storeu_ps(out + static_cast<size_t>(t) * out_stride, acc[t]);
}

// AVX2: u4 x s8 pairs summed in int16 (eight steps: 8 x 2 x 15 x 128 <= 30720, no saturation), then
// one multiply-add of the pairs with the scale in both halves of each 32-bit lane.
struct SubAvx2 {
  static __m256i start() { return _mm256_setzero_si256(); }
  static __m256i step(__m256i s, __m256i w, __m256i y) { return _mm256_add_epi16(s, _mm256_maddubs_epi16(w, y)); }
  static __m256i scale(const uint8_t* sc) {
    const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc)));
    return _mm256_or_si256(v, _mm256_slli_epi32(v, 16));
  }
  static __m256i scaled(__m256i s, __m256i sc) { return _mm256_madd_epi16(s, sc); }
};

// ---- Q6_Kx8 ----
// `Sub` as for Q4_Kx8, with scaled(s, sc) = s * sc in 32 bits (sc: the sign-extended scales).
template <int NT, typename Sub>
inline void run_group_q6k(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row,
                          const Q8KBlockAux* aux, size_t aux_row, float* out, size_t out_stride) {
  constexpr size_t kAhead = 4 * kQ6_Kx8RecordBytes;
  const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
  const BlockQ8_K* yb[NT];
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) {
    yb[t] = reinterpret_cast<const BlockQ8_K*>(act + static_cast<size_t>(t) * act_row);
    acc[t] = _mm256_setzero_ps();
  }
  for (int64_t i = 0; i < nb; ++i, group += kQ6_Kx8RecordBytes) {
    __m256i sumi[NT];
    for (int t = 0; t < NT; ++t) sumi[t] = _mm256_setzero_si256();
    for (int G = 0; G < 8; ++G) {
      for (int p = 0; p < 4; ++p)
        _mm_prefetch(reinterpret_cast<const char*>(group + kAhead + 64 * (4 * G + p)), _MM_HINT_T0);
      const uint8_t* ql = group + 144 + 256 * (G / 2);
      const uint8_t* qh = group + 1168 + 256 * (G / 4);
      // Scales of sub-blocks 2G and 2G+1, row r in lane r, sign-extended to 32 bits.
      const __m256i scp = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(group + 16 + 16 * G)));
      const __m256i sc[2] = {_mm256_srai_epi32(_mm256_slli_epi32(scp, 16), 16), _mm256_srai_epi32(scp, 16)};
      const int g = G % 4;
      for (int half = 0; half < 2; ++half) {
        __m256i s[NT];
        for (int t = 0; t < NT; ++t) s[t] = Sub::start();
        for (int k = 4 * half; k < 4 * half + 4; ++k) {
          const __m256i vl = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32 * k));
          const __m256i vh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh + 32 * k));
          const __m256i lo = (G & 1) ? _mm256_and_si256(_mm256_srli_epi16(vl, 4), m4) : _mm256_and_si256(vl, m4);
          // Bits 2g..2g+1 to bits 4..5 (what crosses a byte boundary in the 16-bit shift is masked).
          const __m256i hs = g == 0   ? _mm256_slli_epi16(vh, 4)
                             : g == 1 ? _mm256_slli_epi16(vh, 2)
                             : g == 2 ? vh
                                      : _mm256_srli_epi16(vh, 2);
          const __m256i u = _mm256_or_si256(lo, _mm256_and_si256(hs, m30));
          for (int t = 0; t < NT; ++t) s[t] = Sub::step(s[t], u, bcast4(yb[t]->qs + 32 * G + 4 * k));
        }
        for (int t = 0; t < NT; ++t) sumi[t] = _mm256_add_epi32(sumi[t], Sub::scaled(s[t], sc[half]));
      }
    }
    const __m256 dx = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(group)));
    for (int t = 0; t < NT; ++t) {
      // 32 x sum_j sc[j] x bsums[j], the offset of the unsigned quants.
      __m256i corr = _mm256_setzero_si256();
      for (int m = 0; m < 8; ++m) {
        const __m256i scp =
            _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(group + 16 + 16 * m)));
        corr = _mm256_add_epi32(corr, _mm256_madd_epi16(scp, bcast4(reinterpret_cast<const int8_t*>(yb[t]->bsums + 2 * m))));
      }
      const __m256i si = _mm256_sub_epi32(sumi[t], _mm256_slli_epi32(corr, 5));
      const __m256 d = _mm256_mul_ps(dx, _mm256_set1_ps(aux[static_cast<size_t>(t) * aux_row + static_cast<size_t>(i)].d));
      acc[t] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(si), acc[t]);
      ++yb[t];
    }
  }
  for (int t = 0; t < NT; ++t) _mm256_storeu_ps(out + static_cast<size_t>(t) * out_stride, acc[t]);
}

// AVX2 for Q6_Kx8: u6 x s8 pairs (<= 16128) widened to 32 bits at each step.
struct SubAvx2Wide {
  static __m256i start() { return _mm256_setzero_si256(); }
  static __m256i step(__m256i s, __m256i w, __m256i y) {
    return _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_maddubs_epi16(w, y), _mm256_set1_epi16(1)));
  }
  static __m256i scaled(__m256i s, __m256i sc) { return _mm256_mullo_epi32(s, sc); }
};

template <typename Sub>
inline void q6k_group(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const Q8KBlockAux* aux,
                      size_t aux_row, int n_act, float* out, size_t out_stride) {
  with_token_count(n_act, [&](auto nt) {
    run_group_q6k<decltype(nt)::value, Sub>(nb, group, act, act_row, aux, aux_row, out, out_stride);
  });
}

// Dispatches n_act (1..8) to the instantiation for that many tokens.
template <typename Sub>
inline void q4k_group(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const Q8KBlockAux* aux,
                      size_t aux_row, int n_act, float* out, size_t out_stride) {
  with_token_count(n_act, [&](auto nt) {
    run_group_q4k<decltype(nt)::value, Sub>(nb, group, act, act_row, aux, aux_row, out, out_stride);
  });
}

}  // namespace
}  // namespace agora
