// The AVX-VNNI kernels for repacked Q4_0, Q8_0, Q4_K and Q6_K (repacked.h). This file alone is compiled with -mavxvnni
// (CMakeLists.txt); repacked.cpp calls it only when CPUID reports AVX-VNNI.

// No fused multiply-add unless written as one (see block_combine.h).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "engine/kernels/repacked.h"

#if !defined(AGORA_PORTABLE) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__) && defined(__AVXVNNI__)

#include "engine/kernels/repacked_x86.h"

namespace agora {
namespace {

// vpdpbusd: u8 x s8 products, four-way sums added into int32 lanes; two chains (low and high
// nibbles, the first one started at init) so the adds do not wait on each other. (One chain
// for passes of several tokens, whose chains are independent anyway, measured no faster.)
struct DotsVnni {
  __m256i operator()(const __m256i* lo, const __m256i* hi, const int8_t* y, __m256i init) const {
    __m256i a = _mm256_dpbusd_avx_epi32(init, lo[0], bcast4(y));
    __m256i b = _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), hi[0], bcast4(y + 16));
    for (int c = 1; c < 4; ++c) {
      a = _mm256_dpbusd_avx_epi32(a, lo[c], bcast4(y + 4 * c));
      b = _mm256_dpbusd_avx_epi32(b, hi[c], bcast4(y + 16 + 4 * c));
    }
    return _mm256_add_epi32(a, b);
  }
};

void kernel_vnni(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const Q8BlockAux* aux,
                 size_t aux_row, int n_act, float* out, size_t out_stride) {
  switch (n_act) {
    case 8: run_group<8>(nb, group, act, act_row, aux, aux_row, out, out_stride, DotsVnni{}); break;
    case 7: run_group<7>(nb, group, act, act_row, aux, aux_row, out, out_stride, DotsVnni{}); break;
    case 6: run_group<6>(nb, group, act, act_row, aux, aux_row, out, out_stride, DotsVnni{}); break;
    case 5: run_group<5>(nb, group, act, act_row, aux, aux_row, out, out_stride, DotsVnni{}); break;
    case 4: run_group<4>(nb, group, act, act_row, aux, aux_row, out, out_stride, DotsVnni{}); break;
    case 3: run_group<3>(nb, group, act, act_row, aux, aux_row, out, out_stride, DotsVnni{}); break;
    case 2: run_group<2>(nb, group, act, act_row, aux, aux_row, out, out_stride, DotsVnni{}); break;
    default: run_group<1>(nb, group, act, act_row, aux, aux_row, out, out_stride, DotsVnni{}); break;
  }
}

// Q8_0x8: one token at a time (the group's records stay in L1/L2 between tokens); per block and
// chunk c, lane r = row r's lane c, started at -128 x the chunk's activation sum so the integer is
// exact; eight f32 accumulators (one per lane) per row, combined at the end in hsum8's order.
void q8_kernel_vnni(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const Q8ChunkAux* aux,
                    size_t aux_row, int n_act, float* out, size_t out_stride) {
  for (int t = 0; t < n_act; ++t) {
    const auto* y = reinterpret_cast<const BlockQ8_0*>(act + static_cast<size_t>(t) * act_row);
    const Q8ChunkAux* ya = aux + static_cast<size_t>(t) * aux_row;
    __m256 acc[8];
    for (int c = 0; c < 8; ++c) acc[c] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; ++i) {
      const uint8_t* rec = group + static_cast<size_t>(i) * kQ8_0x8RecordBytes;
      _mm_prefetch(reinterpret_cast<const char*>(rec + 4 * kQ8_0x8RecordBytes), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(rec + 4 * kQ8_0x8RecordBytes + 64), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(rec + 4 * kQ8_0x8RecordBytes + 128), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(rec + 4 * kQ8_0x8RecordBytes + 192), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(rec + 4 * kQ8_0x8RecordBytes + 256), _MM_HINT_T0);
      const __m256 d = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rec))),
                                     _mm256_set1_ps(ya[i].d));
      for (int c = 0; c < 8; ++c) {
        const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rec + 16 + 32 * c));
        const __m256i lane = _mm256_dpbusd_avx_epi32(_mm256_set1_epi32(-ya[i].corr[c]), w, bcast4(y[i].qs + 4 * c));
        acc[c] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(lane), acc[c]);
      }
    }
    const __m256 s0 = _mm256_add_ps(acc[0], acc[4]), s1 = _mm256_add_ps(acc[1], acc[5]);
    const __m256 s2 = _mm256_add_ps(acc[2], acc[6]), s3 = _mm256_add_ps(acc[3], acc[7]);
    _mm256_storeu_ps(out + static_cast<size_t>(t) * out_stride,
                     _mm256_add_ps(_mm256_add_ps(s0, s2), _mm256_add_ps(s1, s3)));
  }
}

// Q4_Kx8: vpdpbusd sums four u4 x s8 products per row into its int32 lane (eight steps make the
// sub-block's dot, |dot| <= 32 x 15 x 128), then one 32-bit multiply by the row's 6-bit scale.
struct SubVnni {
  static __m256i start() { return _mm256_setzero_si256(); }
  static __m256i step(__m256i s, __m256i w, __m256i y) { return _mm256_dpbusd_avx_epi32(s, w, y); }
  static __m256i scale(const uint8_t* sc) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc)));
  }
  static __m256i scaled(__m256i s, __m256i sc) { return _mm256_mullo_epi32(s, sc); }
};

void q4k_kernel_vnni(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const Q8KBlockAux* aux,
                     size_t aux_row, int n_act, float* out, size_t out_stride) {
  q4k_group<SubVnni>(nb, group, act, act_row, aux, aux_row, n_act, out, out_stride);
}

void q6k_kernel_vnni(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const Q8KBlockAux* aux,
                     size_t aux_row, int n_act, float* out, size_t out_stride) {
  q6k_group<SubVnni>(nb, group, act, act_row, aux, aux_row, n_act, out, out_stride);
}

}  // namespace

const Q4_Kx8Kernel q4_kx8_kernel_vnni = q4k_kernel_vnni;
const Q4_Kx8Kernel q6_kx8_kernel_vnni = q6k_kernel_vnni;
const Q4_0x8Kernel q4_0x8_kernel_vnni = kernel_vnni;
const Q8_0x8Kernel q8_0x8_kernel_vnni = q8_kernel_vnni;

}  // namespace agora

#elif !defined(AGORA_PORTABLE) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)

namespace agora {
extern const Q4_0x8Kernel q4_0x8_kernel_vnni;
extern const Q8_0x8Kernel q8_0x8_kernel_vnni;
const Q4_0x8Kernel q4_0x8_kernel_vnni = nullptr;
const Q8_0x8Kernel q8_0x8_kernel_vnni = nullptr;
extern const Q4_Kx8Kernel q4_kx8_kernel_vnni;
const Q4_Kx8Kernel q4_kx8_kernel_vnni = nullptr;
extern const Q4_Kx8Kernel q6_kx8_kernel_vnni;
const Q4_Kx8Kernel q6_kx8_kernel_vnni = nullptr;
}  // namespace agora

#endif
