// AVX2+FMA+F16C dot products and activation quantizers. Each quantized kernel computes the same
// exact integer lane sums as its scalar twin in vec_dot_scalar.cpp, then applies the same float
// operations (block_combine.h: eight lanes, one fused multiply-add per lane and block, a fixed
// horizontal sum), so it returns the bit-identical result; the float-type kernels (F32/F16/BF16) sum in eight-lane order and differ from the
// double-precision scalar sum by rounding only. Activation quantizers are byte-identical to the
// scalar reference.
//
// Compiled only when the build targets AVX2 (type_ops.cpp selects these at run time).

// No fused multiply-add unless written as one (see block_combine.h).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#if !defined(AGORA_PORTABLE) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)

#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "engine/kernels/vec_dot.h"
#include "engine/tensor/fp16.h"
#include "engine/tensor/quant_blocks.h"
#include "engine/tensor/quant_unpack.h"

namespace agora {
namespace {

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline int hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

// 16 bytes of packed nibbles -> 32 bytes: low nibbles first, then high nibbles (the value order
// of every 32-value block format).
inline __m256i unpack_nibbles(const uint8_t* p) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// Byte i of the result is 0xFF when bit i of the 32-bit word at p is set, else 0.
inline __m256i expand_bits(const uint8_t* p) {
  uint32_t w;
  std::memcpy(&w, p, 4);
  const __m256i bytes = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(w)),
      _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101, 0x0202020202020202,
                         0x0303030303030303));
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  return _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
}

inline __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// Exact roundf (halves away from zero) of 8 floats; trunc and the difference are exact.
inline __m256 round_half_away(__m256 v) {
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  const __m256 frac = _mm256_andnot_ps(sign_mask, _mm256_sub_ps(v, t));
  const __m256 ge_half = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  const __m256 one = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(sign_mask, v));
  return _mm256_add_ps(t, _mm256_and_ps(ge_half, one));
}

// 32 int32 (four vectors) -> 32 int8 in order (values must be within int8).
inline __m256i pack_i32_to_i8(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_packs_epi32(a, b);
  const __m256i cd = _mm256_packs_epi32(c, d);
  const __m256i all = _mm256_packs_epi16(ab, cd);
  return _mm256_permutevar8x32_epi32(all, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

inline float absmax8(__m256 m) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Quantizes 32 floats with scale multiplier id into 32 int8 (roundf rounding).
inline __m256i quantize32_roundf(const float* x, float id) {
  const __m256 m = _mm256_set1_ps(id);
  __m256i v[4];
  for (int k = 0; k < 4; ++k)
    v[k] = _mm256_cvtps_epi32(round_half_away(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), m)));
  return pack_i32_to_i8(v[0], v[1], v[2], v[3]);
}

inline float block_absmax32(const float* x) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 m = _mm256_andnot_ps(sign, _mm256_loadu_ps(x));
  for (int k = 1; k < 4; ++k) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + 8 * k)));
  return absmax8(m);
}

}  // namespace

// ---- float types -----------------------------------------------------------------------------

float vec_dot_f32_f32_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const float*>(w);
  const auto* y = static_cast<const float*>(a);
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), s0);
  float sum = hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  for (; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

float vec_dot_bf16_bf16_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const uint16_t*>(a);
  auto ld = [](const uint16_t* p) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
  };
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(ld(x + i), ld(y + i), s0);
    s1 = _mm256_fmadd_ps(ld(x + i + 8), ld(y + i + 8), s1);
    s2 = _mm256_fmadd_ps(ld(x + i + 16), ld(y + i + 16), s2);
    s3 = _mm256_fmadd_ps(ld(x + i + 24), ld(y + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(ld(x + i), ld(y + i), s0);
  float sum = hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  for (; i < n; ++i) sum += bf16_to_fp32(x[i]) * bf16_to_fp32(y[i]);
  return sum;
}

// ---- quantized kernels: templates over the number of tokens NT ---------------------------------
//
// Each kernel dots one weight row with NT activation rows (each `stride` bytes after the previous)
// and writes NT floats. The weight block is unpacked once and used for every token; per token the
// operations are exactly those of NT = 1, which is what vec_dot returns, so a token's result never
// depends on the other tokens of the tile.

namespace {

inline const uint8_t* act_row(const void* act, size_t stride, int t) {
  return static_cast<const uint8_t*>(act) + static_cast<size_t>(t) * stride;
}

// Runs kernel<NT> over n_act tokens in tiles of at most MaxNT.
template <int MaxNT, template <int> class K>
inline void run_tiles(int64_t n, const void* w, const void* act, size_t stride, int n_act, float* out) {
  int t = 0;
  for (; t + MaxNT <= n_act; t += MaxNT) K<MaxNT>::run(n, w, act_row(act, stride, t), stride, out + t);
  const int rem = n_act - t;
  const void* a = act_row(act, stride, t);
  if constexpr (MaxNT > 4) {
    if (rem >= 4) {
      K<4>::run(n, w, a, stride, out + t);
      t += 4;
      a = act_row(act, stride, t);
    }
    switch (n_act - t) {
      case 3: K<3>::run(n, w, a, stride, out + t); break;
      case 2: K<2>::run(n, w, a, stride, out + t); break;
      case 1: K<1>::run(n, w, a, stride, out + t); break;
      default: break;
    }
  } else {
    switch (rem) {
      case 3: if constexpr (MaxNT > 3) K<3>::run(n, w, a, stride, out + t); break;
      case 2: if constexpr (MaxNT > 2) K<2>::run(n, w, a, stride, out + t); break;
      case 1: if constexpr (MaxNT > 1) K<1>::run(n, w, a, stride, out + t); break;
      default: break;
    }
  }
}

// Blocks of 32 with signed quants against Q8_0. `quants(block)` returns the 32 signed quants in
// value order; lane l of madd(maddubs(|x|, sign(y, x)), 1) is the sum of values 4l..4l+3.
template <int NT, class XB, class Quants>
inline void dot_q_0(int64_t nb, const XB* x, const void* act, size_t stride, float* out, Quants quants) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[NT];
  const BlockQ8_0* y[NT];
  for (int t = 0; t < NT; ++t) {
    acc[t] = _mm256_setzero_ps();
    y[t] = reinterpret_cast<const BlockQ8_0*>(act_row(act, stride, t));
  }
  for (int64_t i = 0; i < nb; ++i) {
    const __m256i xs = quants(x[i]);
    const __m256i ax = _mm256_sign_epi8(xs, xs);
    const float dx = fp16_to_fp32(x[i].d);
    for (int t = 0; t < NT; ++t) {
      const __m256i sy = _mm256_sign_epi8(load32(y[t][i].qs), xs);
      const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), ones);
      const float d = dx * fp16_to_fp32(y[t][i].d);
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(p), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = hsum(acc[t]);
}

// Blocks of 32 with unsigned quants and a min against Q8_1.
template <int NT, class XB, class Quants>
inline void dot_q_1(int64_t nb, const XB* x, const void* act, size_t stride, float* out, Quants quants) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[NT];
  float summs[NT];
  const BlockQ8_1* y[NT];
  for (int t = 0; t < NT; ++t) {
    acc[t] = _mm256_setzero_ps();
    summs[t] = 0.0f;
    y[t] = reinterpret_cast<const BlockQ8_1*>(act_row(act, stride, t));
  }
  for (int64_t i = 0; i < nb; ++i) {
    const __m256i xu = quants(x[i]);
    const float dx = fp16_to_fp32(x[i].d), mx = fp16_to_fp32(x[i].m);
    for (int t = 0; t < NT; ++t) {
      const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(xu, load32(y[t][i].qs)), ones);
      const float ms = mx * fp16_to_fp32(y[t][i].s);
      summs[t] = summs[t] + ms;
      const float d = dx * fp16_to_fp32(y[t][i].d);
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(p), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = hsum(acc[t]) + summs[t];
}

template <int NT>
struct KQ5_0 {
  static void run(int64_t n, const void* w, const void* act, size_t stride, float* out) {
    const __m256i sixteen = _mm256_set1_epi8(16);
    dot_q_0<NT>(n / QK5_0, static_cast<const BlockQ5_0*>(w), act, stride, out, [&](const BlockQ5_0& b) {
      // q - 16 = nibble - 16 where the fifth bit is clear, nibble where it is set.
      return _mm256_sub_epi8(unpack_nibbles(b.qs), _mm256_andnot_si256(expand_bits(b.qh), sixteen));
    });
  }
};


template <int NT>
struct KIQ4_NL {
  static void run(int64_t n, const void* w, const void* act, size_t stride, float* out) {
    const __m256i table =
        _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues)));
    dot_q_0<NT>(n / QK4_NL, static_cast<const BlockIQ4_NL*>(w), act, stride, out,
                [&](const BlockIQ4_NL& b) { return _mm256_shuffle_epi8(table, unpack_nibbles(b.qs)); });
  }
};

template <int NT>
struct KQ4_1 {
  static void run(int64_t n, const void* w, const void* act, size_t stride, float* out) {
    dot_q_1<NT>(n / QK4_1, static_cast<const BlockQ4_1*>(w), act, stride, out,
                [](const BlockQ4_1& b) { return unpack_nibbles(b.qs); });
  }
};

template <int NT>
struct KQ5_1 {
  static void run(int64_t n, const void* w, const void* act, size_t stride, float* out) {
    const __m256i sixteen = _mm256_set1_epi8(16);
    dot_q_1<NT>(n / QK5_1, static_cast<const BlockQ5_1*>(w), act, stride, out, [&](const BlockQ5_1& b) {
      return _mm256_or_si256(unpack_nibbles(b.qs), _mm256_and_si256(expand_bits(b.qh), sixteen));
    });
  }
};

// ---- K-quants ----

// Two scales for the two 16-value halves of a 32-value chunk: int16 lanes 0-7 take s0, 8-15 s1
// (maddubs leaves the sums of bytes 0-15 in lanes 0-7).
inline __m256i scale_pair(int s0, int s1) {
  return _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(s1)), _mm_set1_epi16(static_cast<int16_t>(s0)));
}

// Signed chunk quants q (|q| <= 127, not -128) against activations y, scaled per 16-value half:
// lanes of sc * (sums of four products).
inline __m256i signed_chunk(__m256i aq, __m256i q, __m256i y, __m256i sc16) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(aq, _mm256_sign_epi8(y, q)), sc16);
}

template <int NT>
inline void q8k_rows(const void* act, size_t stride, const BlockQ8_K** y) {
  for (int t = 0; t < NT; ++t) y[t] = reinterpret_cast<const BlockQ8_K*>(act_row(act, stride, t));
}

// Q4_K / Q5_K scale bytes: 8 scales then 8 mins, 6 bits each.
inline void k4_unpack_scales(const uint8_t* s, uint8_t* out16) {
  uint32_t u[3];
  std::memcpy(u, s, 12);
  const uint32_t sc03 = u[0] & 0x3F3F3F3Fu;
  const uint32_t mn03 = u[1] & 0x3F3F3F3Fu;
  const uint32_t sc47 = (u[2] & 0x0F0F0F0Fu) | (((u[0] >> 6) & 0x03030303u) << 4);
  const uint32_t mn47 = ((u[2] >> 4) & 0x0F0F0F0Fu) | (((u[1] >> 6) & 0x03030303u) << 4);
  const uint32_t v[4] = {sc03, sc47, mn03, mn47};
  std::memcpy(out16, v, 16);
}

template <int NT>
struct KQ2_K {
  static void run(int64_t n, const void* w, const void* act, size_t stride, float* out) {
    const auto* x = static_cast<const BlockQ2_K*>(w);
    const BlockQ8_K* y[NT];
    q8k_rows<NT>(act, stride, y);
    const __m256i three = _mm256_set1_epi8(3);
    __m256 acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; ++i) {
      const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales));
      const __m256i mins16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc8, 4), _mm_set1_epi8(0x0F)));
      const float dx = fp16_to_fp32(x[i].d), dminx = fp16_to_fp32(x[i].dmin);
      __m256i sumi[NT];
      for (int t = 0; t < NT; ++t) {
        const __m256i prod = _mm256_madd_epi16(mins16, load32(y[t][i].bsums));
        const float dmin = -y[t][i].d * dminx;
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dmin), _mm256_cvtepi32_ps(prod), acc[t]);
        sumi[t] = _mm256_setzero_si256();
      }
      for (int h = 0; h < 2; ++h) {
        const __m256i qs = load32(x[i].qs + 32 * h);
        for (int j = 0; j < 4; ++j) {
          const __m256i q = _mm256_and_si256(_mm256_srli_epi16(qs, 2 * j), three);
          const int s = 8 * h + 2 * j;
          const __m256i sp = scale_pair(x[i].scales[s] & 0xF, x[i].scales[s + 1] & 0xF);
          for (int t = 0; t < NT; ++t) {
            const __m256i p = _mm256_maddubs_epi16(q, load32(y[t][i].qs + 128 * h + 32 * j));
            sumi[t] = _mm256_add_epi32(sumi[t], _mm256_madd_epi16(p, sp));
          }
        }
      }
      for (int t = 0; t < NT; ++t) {
        const float d = y[t][i].d * dx;
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi[t]), acc[t]);
      }
    }
    for (int t = 0; t < NT; ++t) out[t] = hsum(acc[t]);
  }
};

template <int NT>
struct KQ3_K {
  static void run(int64_t n, const void* w, const void* act, size_t stride, float* out) {
    const auto* x = static_cast<const BlockQ3_K*>(w);
    const BlockQ8_K* y[NT];
    q8k_rows<NT>(act, stride, y);
    const __m256i three = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
    __m256 acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; ++i) {
      int8_t sc[16];
      for (int j = 0; j < 16; ++j) {
        const int lo = j < 8 ? (x[i].scales[j] & 0xF) : (x[i].scales[j - 8] >> 4);
        const int hi = (x[i].scales[8 + j % 4] >> (2 * (j / 4))) & 3;
        sc[j] = static_cast<int8_t>((lo | (hi << 4)) - 32);
      }
      const __m256i hm = load32(x[i].hmask);
      const float dx = fp16_to_fp32(x[i].d);
      __m256i sumi[NT];
      for (int t = 0; t < NT; ++t) sumi[t] = _mm256_setzero_si256();
      for (int h = 0; h < 2; ++h) {
        const __m256i qs = load32(x[i].qs + 32 * h);
        for (int j = 0; j < 4; ++j) {
          const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(qs, 2 * j), three);
          const __m256i bit = _mm256_set1_epi8(static_cast<char>(1u << (4 * h + j)));
          const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(hm, bit), bit);
          const __m256i q = _mm256_sub_epi8(lo, _mm256_andnot_si256(set, four));  // -4..3
          const __m256i aq = _mm256_sign_epi8(q, q);
          const int s = 8 * h + 2 * j;
          const __m256i sp = scale_pair(sc[s], sc[s + 1]);
          for (int t = 0; t < NT; ++t)
            sumi[t] = _mm256_add_epi32(sumi[t], signed_chunk(aq, q, load32(y[t][i].qs + 128 * h + 32 * j), sp));
        }
      }
      for (int t = 0; t < NT; ++t) {
        const float d = y[t][i].d * dx;
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi[t]), acc[t]);
      }
    }
    for (int t = 0; t < NT; ++t) out[t] = hsum(acc[t]);
  }
};

// Shared by Q4_K and Q5_K: `chunks(c, &lo, &hi)` gives the unsigned quants of values 64c..64c+31
// and 64c+32..64c+63. WholeSums: Q4_K's order (block_combine.h), the super-block's quant and min
// integers summed whole and one f32 chain per row; otherwise Q5_K's eight lanes and scalar summs.
template <int NT, bool WholeSums, class XB, class Chunks>
inline void dot_k4(int64_t nb, const XB* x, const void* act, size_t stride, float* out, Chunks chunks) {
  const BlockQ8_K* y[NT];
  q8k_rows<NT>(act, stride, y);
  __m256 acc[NT];
  float summs[NT], acc1[NT];
  int32_t summ[NT];
  for (int t = 0; t < NT; ++t) {
    acc[t] = _mm256_setzero_ps();
    summs[t] = 0.0f;
    acc1[t] = 0.0f;
  }
  for (int64_t i = 0; i < nb; ++i) {
    alignas(16) uint8_t sm[16];
    k4_unpack_scales(x[i].scales, sm);
    const __m128i mins16 = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sm + 8)));
    const float dx = fp16_to_fp32(x[i].d), dminx = fp16_to_fp32(x[i].dmin);
    __m256i sumi[NT];
    for (int t = 0; t < NT; ++t) {
      const __m128i q8s = _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y[t][i].bsums)),
                                         _mm_loadu_si128(reinterpret_cast<const __m128i*>(y[t][i].bsums + 8)));
      const __m128i prod = _mm_madd_epi16(mins16, q8s);
      const __m128i h = _mm_hadd_epi32(_mm_hadd_epi32(prod, prod), prod);
      if constexpr (WholeSums) {
        summ[t] = _mm_cvtsi128_si32(h);
      } else {
        const float dmin = -y[t][i].d * dminx;
        const float m = dmin * static_cast<float>(_mm_cvtsi128_si32(h));
        summs[t] = summs[t] + m;
      }
      sumi[t] = _mm256_setzero_si256();
    }
    for (int c = 0; c < 4; ++c) {
      __m256i lo, hi;
      chunks(x[i], c, &lo, &hi);
      const __m256i sl = _mm256_set1_epi16(sm[2 * c]), sh = _mm256_set1_epi16(sm[2 * c + 1]);
      for (int t = 0; t < NT; ++t) {
        const __m256i pl = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, load32(y[t][i].qs + 64 * c)), sl);
        const __m256i ph = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, load32(y[t][i].qs + 64 * c + 32)), sh);
        sumi[t] = _mm256_add_epi32(sumi[t], _mm256_add_epi32(pl, ph));
      }
    }
    for (int t = 0; t < NT; ++t) {
      const float d = y[t][i].d * dx;
      if constexpr (WholeSums) {
        const float dmin = -y[t][i].d * dminx;
        acc1[t] = std::fma(d, static_cast<float>(hsum_i32(sumi[t])), acc1[t]);
        acc1[t] = std::fma(dmin, static_cast<float>(summ[t]), acc1[t]);
      } else {
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi[t]), acc[t]);
      }
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = WholeSums ? acc1[t] : hsum(acc[t]) + summs[t];
}

template <int NT>
struct KQ4_K {
  static void run(int64_t n, const void* w, const void* act, size_t stride, float* out) {
    const __m256i low = _mm256_set1_epi8(0x0F);
    dot_k4<NT, true>(n / QK_K, static_cast<const BlockQ4_K*>(w), act, stride, out,
                     [&](const BlockQ4_K& b, int c, __m256i* lo, __m256i* hi) {
                       const __m256i q = load32(b.qs + 32 * c);
                       *lo = _mm256_and_si256(q, low);
                       *hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
                     });
  }
};

template <int NT>
struct KQ5_K {
  static void run(int64_t n, const void* w, const void* act, size_t stride, float* out) {
    const __m256i low = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    dot_k4<NT, false>(n / QK_K, static_cast<const BlockQ5_K*>(w), act, stride, out,
                      [&](const BlockQ5_K& b, int c, __m256i* lo, __m256i* hi) {
                        const __m256i q = load32(b.qs + 32 * c);
                        const __m256i qh = load32(b.qh);
                        const __m256i hlo = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one);
                        const __m256i hhi = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one);
                        *lo = _mm256_or_si256(_mm256_and_si256(q, low), _mm256_slli_epi16(hlo, 4));
                        *hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low),
                                              _mm256_slli_epi16(hhi, 4));
                      });
  }
};

template <int NT>
struct KQ6_K {
  static void run(int64_t n, const void* w, const void* act, size_t stride, float* out) {
    const auto* x = static_cast<const BlockQ6_K*>(w);
    const BlockQ8_K* y[NT];
    q8k_rows<NT>(act, stride, y);
    const __m256i low = _mm256_set1_epi8(0x0F), three = _mm256_set1_epi8(3), m32 = _mm256_set1_epi8(32);
    float acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = 0.0f;
    for (int64_t i = 0; i < n / QK_K; ++i) {
      const int8_t* sc = x[i].scales;
      const float dx = fp16_to_fp32(x[i].d);
      __m256i sumi[NT];
      for (int t = 0; t < NT; ++t) sumi[t] = _mm256_setzero_si256();
      for (int h = 0; h < 2; ++h) {
        const __m256i ql0 = load32(x[i].ql + 64 * h);
        const __m256i ql1 = load32(x[i].ql + 64 * h + 32);
        const __m256i qh = load32(x[i].qh + 32 * h);
        for (int g = 0; g < 4; ++g) {
          const __m256i l4 = g == 0 ? _mm256_and_si256(ql0, low)
                             : g == 1 ? _mm256_and_si256(ql1, low)
                             : g == 2 ? _mm256_and_si256(_mm256_srli_epi16(ql0, 4), low)
                                      : _mm256_and_si256(_mm256_srli_epi16(ql1, 4), low);
          const __m256i h2 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * g), three), 4);
          const __m256i q = _mm256_sub_epi8(_mm256_or_si256(l4, h2), m32);  // -32..31
          const __m256i aq = _mm256_sign_epi8(q, q);
          const int s = 8 * h + 2 * g;
          const __m256i sp = scale_pair(sc[s], sc[s + 1]);
          for (int t = 0; t < NT; ++t)
            sumi[t] = _mm256_add_epi32(sumi[t], signed_chunk(aq, q, load32(y[t][i].qs + 128 * h + 32 * g), sp));
        }
      }
      // Q6_K's order (block_combine.h): the super-block's integer summed whole, one f32 chain.
      for (int t = 0; t < NT; ++t) {
        const float d = y[t][i].d * dx;
        acc[t] = std::fma(d, static_cast<float>(hsum_i32(sumi[t])), acc[t]);
      }
    }
    for (int t = 0; t < NT; ++t) out[t] = acc[t];
  }
};

template <int NT>
struct KIQ4_XS {
  static void run(int64_t n, const void* w, const void* act, size_t stride, float* out) {
    const auto* x = static_cast<const BlockIQ4_XS*>(w);
    const BlockQ8_K* y[NT];
    q8k_rows<NT>(act, stride, y);
    const __m256i table =
        _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues)));
    __m256 acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; ++i) {
      const float dx = fp16_to_fp32(x[i].d);
      __m256i sumi[NT];
      for (int t = 0; t < NT; ++t) sumi[t] = _mm256_setzero_si256();
      for (int ib = 0; ib < QK_K / 32; ++ib) {
        const __m256i q = _mm256_shuffle_epi8(table, unpack_nibbles(x[i].qs + 16 * ib));
        const __m256i aq = _mm256_sign_epi8(q, q);
        const __m256i s16 = _mm256_set1_epi16(static_cast<int16_t>(iq4_xs_scale(x[i], ib)));
        for (int t = 0; t < NT; ++t)
          sumi[t] = _mm256_add_epi32(sumi[t], signed_chunk(aq, q, load32(y[t][i].qs + 32 * ib), s16));
      }
      for (int t = 0; t < NT; ++t) {
        const float d = dx * y[t][i].d;
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi[t]), acc[t]);
      }
    }
    for (int t = 0; t < NT; ++t) out[t] = hsum(acc[t]);
  }
};

// F16 x F16: per token four f32 accumulators over 32-value steps, one over the 8-value tail, then
// a scalar tail (the single-token order of vec_dot_f16_f16_avx2).
template <int NT>
struct KF16 {
  static void run(int64_t n, const void* w, const void* act, size_t stride, float* out) {
    const auto* x = static_cast<const uint16_t*>(w);
    const uint16_t* y[NT];
    for (int t = 0; t < NT; ++t) y[t] = reinterpret_cast<const uint16_t*>(act_row(act, stride, t));
    auto ld = [](const uint16_t* p) {
      return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    };
    __m256 s[NT][4];
    for (int t = 0; t < NT; ++t)
      for (int k = 0; k < 4; ++k) s[t][k] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
      const __m256 w0 = ld(x + i), w1 = ld(x + i + 8), w2 = ld(x + i + 16), w3 = ld(x + i + 24);
      for (int t = 0; t < NT; ++t) {
        s[t][0] = _mm256_fmadd_ps(w0, ld(y[t] + i), s[t][0]);
        s[t][1] = _mm256_fmadd_ps(w1, ld(y[t] + i + 8), s[t][1]);
        s[t][2] = _mm256_fmadd_ps(w2, ld(y[t] + i + 16), s[t][2]);
        s[t][3] = _mm256_fmadd_ps(w3, ld(y[t] + i + 24), s[t][3]);
      }
    }
    for (; i + 8 <= n; i += 8) {
      const __m256 w0 = ld(x + i);
      for (int t = 0; t < NT; ++t) s[t][0] = _mm256_fmadd_ps(w0, ld(y[t] + i), s[t][0]);
    }
    for (int t = 0; t < NT; ++t) {
      float sum = hsum(_mm256_add_ps(_mm256_add_ps(s[t][0], s[t][1]), _mm256_add_ps(s[t][2], s[t][3])));
      for (int64_t j = i; j < n; ++j) sum += fp16_to_fp32(x[j]) * fp16_to_fp32(y[t][j]);
      out[t] = sum;
    }
  }
};

template <template <int> class K>
float single(int64_t n, const void* w, const void* a) {
  float r;
  K<1>::run(n, w, a, 0, &r);
  return r;
}

}  // namespace

#define AGORA_QUANT_KERNEL(name, K, MaxNT)                                                       \
  float vec_dot_##name##_avx2(int64_t n, const void* w, const void* a) { return single<K>(n, w, a); } \
  void vec_dot_multi_##name##_avx2(int64_t n, const void* w, const void* act, size_t stride,       \
                                   int n_act, float* out) {                                        \
    run_tiles<MaxNT, K>(n, w, act, stride, n_act, out);                                            \
  }

AGORA_QUANT_KERNEL(q4_1_q8_1, KQ4_1, 8)
AGORA_QUANT_KERNEL(q5_0_q8_0, KQ5_0, 8)
AGORA_QUANT_KERNEL(q5_1_q8_1, KQ5_1, 8)
AGORA_QUANT_KERNEL(iq4_nl_q8_0, KIQ4_NL, 8)
AGORA_QUANT_KERNEL(q2_k_q8_k, KQ2_K, 4)
AGORA_QUANT_KERNEL(q3_k_q8_k, KQ3_K, 4)
AGORA_QUANT_KERNEL(q4_k_q8_k, KQ4_K, 4)
AGORA_QUANT_KERNEL(q5_k_q8_k, KQ5_K, 4)
AGORA_QUANT_KERNEL(q6_k_q8_k, KQ6_K, 4)
AGORA_QUANT_KERNEL(iq4_xs_q8_k, KIQ4_XS, 4)
#undef AGORA_QUANT_KERNEL

void vec_dot_multi_f16_f16_avx2(int64_t n, const void* w, const void* act, size_t stride, int n_act,
                                float* out) {
  run_tiles<2, KF16>(n, w, act, stride, n_act, out);
}

float vec_dot_f16_f16_avx2(int64_t n, const void* w, const void* a) { return single<KF16>(n, w, a); }

// ---- Q4_0: one f32 chain per row (block_combine.h) ---------------------------------------------

namespace {

// Eight int32x8 vectors -> one vector whose lane k is the sum of all lanes of p[k] (exact).
inline __m256i hsum8_i32(const __m256i* p) {
  const __m256i a = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
  const __m256i b = _mm256_hadd_epi32(_mm256_hadd_epi32(p[4], p[5]), _mm256_hadd_epi32(p[6], p[7]));
  // a = [sums of p0..p3 over lanes 0-3 | over lanes 4-7], b likewise for p4..p7.
  return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31));
}

// Eight f16 values, each `stride` bytes after the previous, as floats.
inline __m256 load8_fp16(const void* first, size_t stride) {
  alignas(16) uint16_t h[8];
  const auto* p = static_cast<const uint8_t*>(first);
  for (int k = 0; k < 8; ++k) std::memcpy(&h[k], p + k * stride, 2);
  return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(h)));
}

inline __m256i q4_0_quants(const BlockQ4_0& b) {
  return _mm256_sub_epi8(unpack_nibbles(b.qs), _mm256_set1_epi8(8));
}
inline __m256i block_quants(const BlockQ4_0& b) { return q4_0_quants(b); }
inline __m256i block_quants(const BlockQ8_0& b) { return load32(b.qs); }

// Partial sums (8 x int32) of one block (signed quants xs, |xs| = ax <= 127) against y; the int16
// pair sums stay below 2 x 127 x 128.
inline __m256i q4_0_partial(__m256i ax, __m256i xs, __m256i y) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(y, xs)), _mm256_set1_epi16(1));
}

// Eight rows x NT tokens; lane r of acc[t] is row r's chain for token t. XB: BlockQ4_0 or BlockQ8_0.
template <class XB, int NT>
void rows8_chain(int64_t nb, const uint8_t* w, size_t ws, const uint8_t* act, size_t as, float* out, size_t os) {
  const XB* x[8];
  for (int r = 0; r < 8; ++r) x[r] = reinterpret_cast<const XB*>(w + r * ws);
  const BlockQ8_0* y[NT];
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) {
    y[t] = reinterpret_cast<const BlockQ8_0*>(act + t * as);
    acc[t] = _mm256_setzero_ps();
  }
  for (int64_t i = 0; i < nb; ++i) {
    __m256i xs[8], ax[8];
    for (int r = 0; r < 8; ++r) {
      xs[r] = block_quants(x[r][i]);
      ax[r] = _mm256_sign_epi8(xs[r], xs[r]);
    }
    const __m256 dx = load8_fp16(&x[0][i].d, ws);
    for (int t = 0; t < NT; ++t) {
      const __m256i yv = load32(y[t][i].qs);
      __m256i p[8];
      for (int r = 0; r < 8; ++r) p[r] = q4_0_partial(ax[r], xs[r], yv);
      const __m256 s = _mm256_cvtepi32_ps(hsum8_i32(p));
      const __m256 d = _mm256_mul_ps(dx, _mm256_set1_ps(fp16_to_fp32(y[t][i].d)));
      acc[t] = _mm256_fmadd_ps(s, d, acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) _mm256_storeu_ps(out + t * os, acc[t]);
}

template <class XB>
float dot_chain(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const XB*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  const int64_t nb = n / 32;
  float acc = 0.0f;
  int64_t i = 0;
  // Eight blocks' integer sums at once, then the chain one block after the other.
  for (; i + 8 <= nb; i += 8) {
    __m256i p[8];
    for (int k = 0; k < 8; ++k) {
      const __m256i xs = block_quants(x[i + k]);
      p[k] = q4_0_partial(_mm256_sign_epi8(xs, xs), xs, load32(y[i + k].qs));
    }
    alignas(32) float s[8], d[8];
    _mm256_store_ps(s, _mm256_cvtepi32_ps(hsum8_i32(p)));
    _mm256_store_ps(d, _mm256_mul_ps(load8_fp16(&x[i].d, sizeof(XB)), load8_fp16(&y[i].d, sizeof(BlockQ8_0))));
    for (int k = 0; k < 8; ++k) acc = std::fma(s[k], d[k], acc);
  }
  for (; i < nb; ++i) {
    const __m256i xs = block_quants(x[i]);
    const int sumi = hsum_i32(q4_0_partial(_mm256_sign_epi8(xs, xs), xs, load32(y[i].qs)));
    acc = std::fma(static_cast<float>(sumi), fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d), acc);
  }
  return acc;
}

template <class XB>
void rows8_chain_all(int64_t n, const void* w, size_t w_stride, const void* act, size_t act_stride, int n_act,
                     float* out, size_t out_stride) {
  const int64_t nb = n / 32;
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(act);
  int t = 0;
  for (; t + 4 <= n_act; t += 4)
    rows8_chain<XB, 4>(nb, wb, w_stride, ab + t * act_stride, act_stride, out + t * out_stride, out_stride);
  switch (n_act - t) {
    case 3: rows8_chain<XB, 3>(nb, wb, w_stride, ab + t * act_stride, act_stride, out + t * out_stride, out_stride); break;
    case 2: rows8_chain<XB, 2>(nb, wb, w_stride, ab + t * act_stride, act_stride, out + t * out_stride, out_stride); break;
    case 1: rows8_chain<XB, 1>(nb, wb, w_stride, ab + t * act_stride, act_stride, out + t * out_stride, out_stride); break;
    default: break;
  }
}

}  // namespace

// Q4_0 and Q8_0: one f32 chain per row (block_combine.h).
float vec_dot_q4_0_q8_0_avx2(int64_t n, const void* w, const void* a) { return dot_chain<BlockQ4_0>(n, w, a); }
float vec_dot_q8_0_q8_0_avx2(int64_t n, const void* w, const void* a) { return dot_chain<BlockQ8_0>(n, w, a); }

void vec_dot_rows8_q4_0_q8_0_avx2(int64_t n, const void* w, size_t w_stride, const void* act, size_t act_stride,
                                  int n_act, float* out, size_t out_stride) {
  rows8_chain_all<BlockQ4_0>(n, w, w_stride, act, act_stride, n_act, out, out_stride);
}
void vec_dot_rows8_q8_0_q8_0_avx2(int64_t n, const void* w, size_t w_stride, const void* act, size_t act_stride,
                                  int n_act, float* out, size_t out_stride) {
  rows8_chain_all<BlockQ8_0>(n, w, w_stride, act, act_stride, n_act, out, out_stride);
}

// ---- activation quantizers ---------------------------------------------------------------------

void quantize_row_q8_0_avx2(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / QK8_0; ++i, src += QK8_0) {
    const float amax = block_absmax32(src);
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs), quantize32_roundf(src, id));
  }
}

void quantize_row_q8_1_avx2(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / QK8_1; ++i, src += QK8_1) {
    const float amax = block_absmax32(src);
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    const __m256i q = quantize32_roundf(src, id);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs), q);
    const __m256i s32 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q), _mm256_set1_epi16(1));
    y[i].s = fp32_to_fp16(static_cast<float>(hsum_i32(s32)) * d);
  }
}

void quantize_row_q8_k_avx2(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_K*>(dst);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t i = 0; i < n / QK_K; ++i, src += QK_K) {
    __m256 m = _mm256_setzero_ps();
    for (int k = 0; k < QK_K; k += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(src + k)));
    const float amax = absmax8(m);
    if (amax == 0.0f) {
      std::memset(&y[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    // The signed extreme: the first value whose magnitude is amax (as the scalar search finds).
    float max = 0.0f;
    for (int k = 0; k < QK_K; ++k)
      if (std::fabs(src[k]) == amax) {
        max = src[k];
        break;
      }
    const float iscale = -127.f / max;
    const __m256 vs = _mm256_set1_ps(iscale);
    const __m256i cap = _mm256_set1_epi32(127);
    for (int k = 0; k < QK_K; k += 32) {
      __m256i v[4];
      for (int t = 0; t < 4; ++t) {
        const __m256 r = _mm256_round_ps(_mm256_mul_ps(vs, _mm256_loadu_ps(src + k + 8 * t)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        v[t] = _mm256_min_epi32(_mm256_cvtps_epi32(r), cap);
      }
      const __m256i q = pack_i32_to_i8(v[0], v[1], v[2], v[3]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs + k), q);
      // bsums of the two 16-value groups: sign-extend and add.
      const __m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q);  // pairs -> 16 x int16
      const __m256i s32 = _mm256_madd_epi16(s16, _mm256_set1_epi16(1));  // quads -> 8 x int32
      alignas(32) int32_t part[8];
      _mm256_store_si256(reinterpret_cast<__m256i*>(part), s32);
      y[i].bsums[k / 16] = static_cast<int16_t>(part[0] + part[1] + part[2] + part[3]);
      y[i].bsums[k / 16 + 1] = static_cast<int16_t>(part[4] + part[5] + part[6] + part[7]);
    }
    y[i].d = 1 / iscale;
  }
}

void quantize_row_f16_avx2(const float* src, void* dst, int64_t n) {
  auto* h = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) h[i] = fp32_to_fp16(src[i]);
}

}  // namespace agora

#endif  // AVX2
