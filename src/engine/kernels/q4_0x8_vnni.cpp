// The AVX-VNNI kernel for repacked Q4_0 (q4_0x8.h). This file alone is compiled with -mavxvnni
// (CMakeLists.txt); q4_0x8.cpp calls it only when CPUID reports AVX-VNNI.

// No fused multiply-add unless written as one (see block_combine.h).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "engine/kernels/q4_0x8.h"

#if !defined(AGORA_PORTABLE) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__) && defined(__AVXVNNI__)

#include "engine/kernels/q4_0x8_x86.h"

namespace agora {
namespace {

// vpdpbusd: u8 x s8 products, four-way sums added into int32 lanes; two chains (low and high
// nibbles) so the adds do not wait on each other.
struct DotsVnni {
  __m256i operator()(const __m256i* lo, const __m256i* hi, const int8_t* y) const {
    __m256i a = _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), lo[0], bcast4(y));
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
    case 4: run_group<4>(nb, group, act, act_row, aux, aux_row, out, out_stride, DotsVnni{}); break;
    case 3: run_group<3>(nb, group, act, act_row, aux, aux_row, out, out_stride, DotsVnni{}); break;
    case 2: run_group<2>(nb, group, act, act_row, aux, aux_row, out, out_stride, DotsVnni{}); break;
    default: run_group<1>(nb, group, act, act_row, aux, aux_row, out, out_stride, DotsVnni{}); break;
  }
}

}  // namespace

const Q4_0x8Kernel q4_0x8_kernel_vnni = kernel_vnni;

}  // namespace agora

#elif !defined(AGORA_PORTABLE) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)

namespace agora {
extern const Q4_0x8Kernel q4_0x8_kernel_vnni;
const Q4_0x8Kernel q4_0x8_kernel_vnni = nullptr;
}  // namespace agora

#endif
