// Repacked Q4_0 ("Q4_0x8", see q4_0x8.h): repacking, the scalar reference kernel, and the AVX2 and
// AVX-VNNI kernels, chosen at run time. Every kernel computes each block's exact integer dot and
// then the same float operations in the same order, so all of them return the same bits.

// No fused multiply-add unless written as one (see block_combine.h).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "engine/kernels/q4_0x8.h"

#include <cmath>
#include <cstring>

#include "engine/kernels/matmul.h"
#include "engine/tensor/fp16.h"
#include "engine/tensor/quant_blocks.h"
#include "engine/util/cpu_features.h"

#if !defined(AGORA_PORTABLE) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define AGORA_Q4_0X8_AVX2 1
#include <immintrin.h>
#endif

namespace agora {
namespace {

// Slot of row r inside a record: rows r and r + 4 share one 32-byte load.
constexpr int slot_of(int r) { return r < 4 ? 2 * r : 2 * (r - 4) + 1; }

const BlockQ8_0* act_block(const uint8_t* act, size_t act_row, int t, int64_t i) {
  return reinterpret_cast<const BlockQ8_0*>(act + static_cast<size_t>(t) * act_row) + i;
}

void kernel_scalar(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const int16_t* ysum,
                   size_t ysum_row, int n_act, float* out, size_t out_stride) {
  float acc[4][8] = {};
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* rec = group + static_cast<size_t>(i) * kQ4_0x8RecordBytes;
    for (int r = 0; r < 8; ++r) {
      uint16_t dh;
      std::memcpy(&dh, rec + 2 * r, 2);
      const float dx = fp16_to_fp32(dh);
      const uint8_t* qs = rec + 16 + 16 * slot_of(r);
      for (int t = 0; t < n_act; ++t) {
        const BlockQ8_0* y = act_block(act, act_row, t, i);
        int32_t sumi = 0;
        for (int j = 0; j < 16; ++j) sumi += (qs[j] & 0x0F) * y->qs[j] + (qs[j] >> 4) * y->qs[j + 16];
        sumi -= 8 * ysum[static_cast<size_t>(t) * ysum_row + static_cast<size_t>(i)];
        acc[t][r] = std::fma(static_cast<float>(sumi), dx * fp16_to_fp32(y->d), acc[t][r]);
      }
    }
  }
  for (int t = 0; t < n_act; ++t)
    for (int r = 0; r < 8; ++r) out[static_cast<size_t>(t) * out_stride + static_cast<size_t>(r)] = acc[t][r];
}

#ifdef AGORA_Q4_0X8_AVX2

// One core keeps too few cache misses in flight to stream weights at full speed, and the
// hardware prefetchers stop at page boundaries: request the record kAheadBytes ahead (the group
// is one sequential stream, and the next group follows it in memory).
constexpr size_t kAheadBytes = 8 * kQ4_0x8RecordBytes;
inline void prefetch_ahead(const uint8_t* rec) {
  _mm_prefetch(reinterpret_cast<const char*>(rec + kAheadBytes), _MM_HINT_T0);
  _mm_prefetch(reinterpret_cast<const char*>(rec + kAheadBytes + 64), _MM_HINT_T0);
  _mm_prefetch(reinterpret_cast<const char*>(rec + kAheadBytes + 128), _MM_HINT_T0);
}

// The eight rows' integer dots of one block against one activation block, from the unpacked
// nibble pairs lo[p]/hi[p] (rows p and p + 4): lane r = row r.
template <bool kVnni>
inline __m256i block_dots(const __m256i* lo, const __m256i* hi, __m256i ylo, __m256i yhi);

template <>
inline __m256i block_dots<false>(const __m256i* lo, const __m256i* hi, __m256i ylo, __m256i yhi) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i s[4];
  for (int p = 0; p < 4; ++p) {
    // u4 x s8 pairs stay within int16: |2 * 2 * 15 * 128| < 2^15.
    const __m256i pairs = _mm256_add_epi16(_mm256_maddubs_epi16(lo[p], ylo), _mm256_maddubs_epi16(hi[p], yhi));
    s[p] = _mm256_madd_epi16(pairs, ones);
  }
  // s[p]: lanes 0-3 row p, lanes 4-7 row p + 4 -> lanes 0-3 rows 0-3, lanes 4-7 rows 4-7.
  return _mm256_hadd_epi32(_mm256_hadd_epi32(s[0], s[1]), _mm256_hadd_epi32(s[2], s[3]));
}

template <bool kVnni, int NT>
inline void run(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const int16_t* ysum,
                size_t ysum_row, float* out, size_t out_stride) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* rec = group + static_cast<size_t>(i) * kQ4_0x8RecordBytes;
    prefetch_ahead(rec);
    const __m256 dx = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rec)));
    __m256i lo[4], hi[4];
    for (int p = 0; p < 4; ++p) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rec + 16 + 32 * p));
      lo[p] = _mm256_and_si256(v, m4);
      hi[p] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    }
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_0* y = act_block(act, act_row, t, i);
      const __m256i ylo = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y->qs)));
      const __m256i yhi = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y->qs + 16)));
      const __m256i dots = block_dots<kVnni>(lo, hi, ylo, yhi);
      const __m256i sumi = _mm256_sub_epi32(
          dots, _mm256_set1_epi32(8 * ysum[static_cast<size_t>(t) * ysum_row + static_cast<size_t>(i)]));
      const __m256 d = _mm256_mul_ps(dx, _mm256_set1_ps(fp16_to_fp32(y->d)));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), d, acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) _mm256_storeu_ps(out + static_cast<size_t>(t) * out_stride, acc[t]);
}

template <bool kVnni>
void kernel_x86(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const int16_t* ysum,
                size_t ysum_row, int n_act, float* out, size_t out_stride) {
  switch (n_act) {
    case 4: run<kVnni, 4>(nb, group, act, act_row, ysum, ysum_row, out, out_stride); break;
    case 3: run<kVnni, 3>(nb, group, act, act_row, ysum, ysum_row, out, out_stride); break;
    case 2: run<kVnni, 2>(nb, group, act, act_row, ysum, ysum_row, out, out_stride); break;
    default: run<kVnni, 1>(nb, group, act, act_row, ysum, ysum_row, out, out_stride); break;
  }
}

void kernel_avx2(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const int16_t* ysum,
                 size_t ysum_row, int n_act, float* out, size_t out_stride) {
  kernel_x86<false>(nb, group, act, act_row, ysum, ysum_row, n_act, out, out_stride);
}

// AVX-VNNI: vpdpbusd does the u8 x s8 products and their four-way sums into int32 in one step.
// Compiled for that instruction set alone (the rest of the build is x86-64-v3) and only called
// when CPUID reports it.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#define AGORA_Q4_0X8_VNNI 1
#pragma GCC push_options
#pragma GCC target("avxvnni")

template <int NT>
__attribute__((target("avxvnni"))) void run_vnni(int64_t nb, const uint8_t* group, const uint8_t* act,
                                                  size_t act_row, const int16_t* ysum, size_t ysum_row, float* out,
                                                  size_t out_stride) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* rec = group + static_cast<size_t>(i) * kQ4_0x8RecordBytes;
    prefetch_ahead(rec);
    const __m256 dx = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rec)));
    __m256i lo[4], hi[4];
    for (int p = 0; p < 4; ++p) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rec + 16 + 32 * p));
      lo[p] = _mm256_and_si256(v, m4);
      hi[p] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    }
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_0* y = act_block(act, act_row, t, i);
      const __m256i ylo = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y->qs)));
      const __m256i yhi = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y->qs + 16)));
      __m256i s[4];
      for (int p = 0; p < 4; ++p)
        s[p] = _mm256_dpbusd_avx_epi32(_mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), lo[p], ylo), hi[p], yhi);
      const __m256i dots = _mm256_hadd_epi32(_mm256_hadd_epi32(s[0], s[1]), _mm256_hadd_epi32(s[2], s[3]));
      const __m256i sumi = _mm256_sub_epi32(
          dots, _mm256_set1_epi32(8 * ysum[static_cast<size_t>(t) * ysum_row + static_cast<size_t>(i)]));
      const __m256 d = _mm256_mul_ps(dx, _mm256_set1_ps(fp16_to_fp32(y->d)));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), d, acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) _mm256_storeu_ps(out + static_cast<size_t>(t) * out_stride, acc[t]);
}

__attribute__((target("avxvnni"))) void kernel_vnni(int64_t nb, const uint8_t* group, const uint8_t* act,
                                                    size_t act_row, const int16_t* ysum, size_t ysum_row, int n_act,
                                                    float* out, size_t out_stride) {
  switch (n_act) {
    case 4: run_vnni<4>(nb, group, act, act_row, ysum, ysum_row, out, out_stride); break;
    case 3: run_vnni<3>(nb, group, act, act_row, ysum, ysum_row, out, out_stride); break;
    case 2: run_vnni<2>(nb, group, act, act_row, ysum, ysum_row, out, out_stride); break;
    default: run_vnni<1>(nb, group, act, act_row, ysum, ysum_row, out, out_stride); break;
  }
}

#pragma GCC pop_options

bool cpu_has_avx_vnni() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_max(0, nullptr) < 7) return false;
  __cpuid_count(7, 1, a, b, c, d);
  return a & (1u << 4);
}
#endif  // VNNI

#endif  // AGORA_Q4_0X8_AVX2

struct Choice {
  const char* name;
  Q4_0x8Kernel fn;
};

Choice choose() {
#ifdef AGORA_Q4_0X8_AVX2
  if (cpu_has_avx2_fma_f16c()) {
#ifdef AGORA_Q4_0X8_VNNI
    if (cpu_has_avx_vnni()) return {"avx-vnni", kernel_vnni};
#endif
    return {"avx2", kernel_avx2};
  }
#endif
  return {"scalar", kernel_scalar};
}

const Choice& chosen() {
  static const Choice c = choose();
  return c;
}

}  // namespace

bool q4_0x8_eligible(const WeightView& w) {
  return w.type == GgmlType::Q4_0 && w.layout == WeightLayout::rows && w.n_out > 0 && w.n_out % 8 == 0 &&
         w.n_in % QK4_0 == 0 && w.row_bytes == static_cast<size_t>(w.n_in / QK4_0) * sizeof(BlockQ4_0);
}

size_t q4_0x8_bytes(int64_t n_in, int64_t n_out) {
  return static_cast<size_t>(n_out / 8) * static_cast<size_t>(n_in / QK4_0) * kQ4_0x8RecordBytes;
}

void repack_q4_0x8(const WeightView& w, uint8_t* dst, int64_t g0, int64_t g1) {
  const int64_t nb = w.n_in / QK4_0;
  const auto* src = static_cast<const uint8_t*>(w.data);
  for (int64_t g = g0; g < g1; ++g) {
    uint8_t* rec = dst + static_cast<size_t>(g * nb) * kQ4_0x8RecordBytes;
    for (int64_t i = 0; i < nb; ++i, rec += kQ4_0x8RecordBytes) {
      for (int r = 0; r < 8; ++r) {
        const auto* b = reinterpret_cast<const BlockQ4_0*>(src + static_cast<size_t>(g * 8 + r) * w.row_bytes) + i;
        std::memcpy(rec + 2 * r, &b->d, 2);
        std::memcpy(rec + 16 + 16 * slot_of(r), b->qs, 16);
      }
    }
  }
}

void q8_0_block_sums(const void* act_row, int64_t nb, int16_t* out) {
  const auto* y = static_cast<const BlockQ8_0*>(act_row);
  for (int64_t i = 0; i < nb; ++i) {
    int s = 0;
    for (int j = 0; j < QK8_0; ++j) s += y[i].qs[j];
    out[i] = static_cast<int16_t>(s);  // |s| <= 32 * 128
  }
}

Q4_0x8Kernel q4_0x8_kernel() { return chosen().fn; }
const char* q4_0x8_kernel_name() { return chosen().name; }
Q4_0x8Kernel q4_0x8_kernel_scalar() { return kernel_scalar; }

int q4_0x8_kernels_available(Q4_0x8KernelEntry* out, int max) {
  int n = 0;
  auto add = [&](const char* name, Q4_0x8Kernel fn) {
    if (n < max) out[n++] = {name, fn};
  };
  add("scalar", kernel_scalar);
#ifdef AGORA_Q4_0X8_AVX2
  if (cpu_has_avx2_fma_f16c()) {
    add("avx2", kernel_avx2);
#ifdef AGORA_Q4_0X8_VNNI
    if (cpu_has_avx_vnni()) add("avx-vnni", kernel_vnni);
#endif
  }
#endif
  return n;
}

}  // namespace agora
