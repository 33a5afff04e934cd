// AVX-512 VNNI kernel for repacked Q4_0 (repacked.h), two groups (16 rows) per pass. This file
// alone is compiled with -mavx512f -mavx512bw -mavx512vnni (CMakeLists.txt); repacked.cpp hands
// it out only when CPUID and the OS report AVX-512 F/BW/VNNI.
//
// One 512-bit register holds chunk c of both groups (rows 0-7 of the first in the low half, of the
// second in the high half), so one vpdpbusd adds four products of sixteen rows where the 256-bit
// kernel covers eight: the same integer block dots, and per row the same float steps in the same
// order (acc = fma(float(sumi), d_w * d_y, acc)), so the results are bit-identical to the other
// Q4_0x8 kernels. No lane crossing is needed (the previous two-tokens-per-register attempt paid
// a permute per block and lost to the 256-bit kernel).

// No fused multiply-add unless written as one (see block_combine.h).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "engine/kernels/repacked.h"
#include "engine/kernels/token_count.h"

#if !defined(AGORA_PORTABLE) && defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__) && \
    defined(__F16C__)

#include <immintrin.h>

#include <cstring>

#include "engine/tensor/quant_blocks.h"

namespace agora {

extern const Q4_0x8Kernel q4_0x8_pair_kernel_avx512;

namespace {

inline __m512i bcast4_512(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

template <int NT>
void run_pair(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const Q8BlockAux* aux,
              size_t aux_row, float* out, size_t out_stride) {
  const size_t group_bytes = static_cast<size_t>(nb) * kQ4_0x8RecordBytes;
  const uint8_t* g1 = group + group_bytes;
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* r0 = group + static_cast<size_t>(i) * kQ4_0x8RecordBytes;
    const uint8_t* r1 = g1 + static_cast<size_t>(i) * kQ4_0x8RecordBytes;
    _mm_prefetch(reinterpret_cast<const char*>(r0 + 8 * kQ4_0x8RecordBytes), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(r0 + 8 * kQ4_0x8RecordBytes + 64), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(r0 + 8 * kQ4_0x8RecordBytes + 128), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(r1 + 8 * kQ4_0x8RecordBytes), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(r1 + 8 * kQ4_0x8RecordBytes + 64), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(r1 + 8 * kQ4_0x8RecordBytes + 128), _MM_HINT_T0);
    // The sixteen rows' scales: the two records' eight f16 scales side by side.
    const __m256i dh = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r0))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(r1)), 1);
    const __m512 dx = _mm512_cvtph_ps(dh);
    __m512i lo[4], hi[4];
    for (int c = 0; c < 4; ++c) {
      const __m512i v = _mm512_inserti64x4(
          _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(r0 + 16 + 32 * c))),
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r1 + 16 + 32 * c)), 1);
      lo[c] = _mm512_and_si512(v, m4);
      hi[c] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
    }
    for (int t = 0; t < NT; ++t) {
      const auto* y = reinterpret_cast<const BlockQ8_0*>(act + static_cast<size_t>(t) * act_row) + i;
      const Q8BlockAux* ya = aux + static_cast<size_t>(t) * aux_row + static_cast<size_t>(i);
      // Two chains, the first started at the offset term (-8 x the activations' sum).
      __m512i a = _mm512_dpbusd_epi32(_mm512_set1_epi32(-ya->sum8), lo[0], bcast4_512(y->qs));
      __m512i b = _mm512_dpbusd_epi32(_mm512_setzero_si512(), hi[0], bcast4_512(y->qs + 16));
      for (int c = 1; c < 4; ++c) {
        a = _mm512_dpbusd_epi32(a, lo[c], bcast4_512(y->qs + 4 * c));
        b = _mm512_dpbusd_epi32(b, hi[c], bcast4_512(y->qs + 16 + 4 * c));
      }
      const __m512 d = _mm512_mul_ps(dx, _mm512_set1_ps(ya->d));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(a, b)), d, acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) _mm512_storeu_ps(out + static_cast<size_t>(t) * out_stride, acc[t]);
}

void pair_kernel(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const Q8BlockAux* aux,
                 size_t aux_row, int n_act, float* out, size_t out_stride) {
  with_token_count(n_act, [&](auto nt) {
    run_pair<decltype(nt)::value>(nb, group, act, act_row, aux, aux_row, out, out_stride);
  });
}

}  // namespace

const Q4_0x8Kernel q4_0x8_pair_kernel_avx512 = pair_kernel;

}  // namespace agora

#elif !defined(AGORA_PORTABLE)

namespace agora {
extern const Q4_0x8Kernel q4_0x8_pair_kernel_avx512;
const Q4_0x8Kernel q4_0x8_pair_kernel_avx512 = nullptr;
}  // namespace agora

#endif
