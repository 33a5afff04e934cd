// The AVX-VNNI kernels for repacked Q4_0, Q8_0, Q4_K and Q6_K (repacked.h). This file alone is compiled with -mavxvnni
// (CMakeLists.txt); repacked.cpp calls it only when CPUID reports AVX-VNNI.

// No fused multiply-add unless written as one (see block_combine.h).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "engine/kernels/repacked.h"
#include "engine/kernels/token_count.h"

#include <algorithm>

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
  with_token_count(n_act, [&](auto nt) {
    run_group<decltype(nt)::value>(nb, group, act, act_row, aux, aux_row, out, out_stride, DotsVnni{});
  });
}

// Q8_0x8: the block's eight chunks stay in registers while up to four tokens pass; per token
// lane r is row r's exact block dot (two chains, the first started at -128 x the activations'
// sum), then acc = fma(float(sumi), d_w * d_y, acc) as for Q4_0.
template <int NT>
void q8_group(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const Q8BlockAux* aux,
              size_t aux_row, float* out, size_t out_stride) {
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* rec = group + static_cast<size_t>(i) * kQ8_0x8RecordBytes;
    for (int k = 0; k < 5; ++k)
      _mm_prefetch(reinterpret_cast<const char*>(rec + 4 * kQ8_0x8RecordBytes + 64 * k), _MM_HINT_T0);
    const __m256 dx = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rec)));
    __m256i w[8];
    for (int c = 0; c < 8; ++c) w[c] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rec + 16 + 32 * c));
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_0* y = x86_act_block(act, act_row, t, i);
      const Q8BlockAux* ya = aux + static_cast<size_t>(t) * aux_row + static_cast<size_t>(i);
      __m256i a = _mm256_dpbusd_avx_epi32(_mm256_set1_epi32(-16 * ya->sum8), w[0], bcast4(y->qs));
      __m256i b = _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), w[1], bcast4(y->qs + 4));
      for (int c = 2; c < 8; c += 2) {
        a = _mm256_dpbusd_avx_epi32(a, w[c], bcast4(y->qs + 4 * c));
        b = _mm256_dpbusd_avx_epi32(b, w[c + 1], bcast4(y->qs + 4 * c + 4));
      }
      const __m256 d = _mm256_mul_ps(dx, _mm256_set1_ps(ya->d));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(a, b)), d, acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) _mm256_storeu_ps(out + static_cast<size_t>(t) * out_stride, acc[t]);
}

void q8_kernel_vnni(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const Q8BlockAux* aux,
                    size_t aux_row, int n_act, float* out, size_t out_stride) {
  for (int t = 0; t < n_act; t += 4) {
    const uint8_t* a = act + static_cast<size_t>(t) * act_row;
    const Q8BlockAux* ax = aux + static_cast<size_t>(t) * aux_row;
    float* o = out + static_cast<size_t>(t) * out_stride;
    switch (std::min(4, n_act - t)) {
      case 4: q8_group<4>(nb, group, a, act_row, ax, aux_row, o, out_stride); break;
      case 3: q8_group<3>(nb, group, a, act_row, ax, aux_row, o, out_stride); break;
      case 2: q8_group<2>(nb, group, a, act_row, ax, aux_row, o, out_stride); break;
      default: q8_group<1>(nb, group, a, act_row, ax, aux_row, o, out_stride); break;
    }
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
