// AVX2+FMA+F16C dot products and activation quantizers. Each quantized kernel computes the same
// integer block sums as its scalar twin in vec_dot_scalar.cpp, then applies the same float
// operations per block in the same order (block_combine.h), so it returns the bit-identical
// result; the float-type kernels (F32/F16/BF16) sum in eight-lane order and differ from the
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

#include "engine/kernels/block_combine.h"
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

// Signed int8 x signed int8, 32 pairs -> 8 int32 partial sums. Valid while y has no -128 (true
// of every activation quantizer: they produce -127..127).
inline __m256i dot_i8(__m256i x, __m256i y) {
  const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
  return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

// Unsigned x (< 128) times signed y, 32 pairs -> 16 int16 sums of adjacent pairs.
inline __m256i dot_u8_i16(__m256i x, __m256i y) { return _mm256_maddubs_epi16(x, y); }

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

// Eight int32x8 vectors -> one vector whose lane k is the sum of all lanes of p[k] (exact).
inline __m256i hsum8_i32(const __m256i* p) {
  const __m256i a = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
  const __m256i b = _mm256_hadd_epi32(_mm256_hadd_epi32(p[4], p[5]), _mm256_hadd_epi32(p[6], p[7]));
  // a = [sums of p0..p3 over lanes 0-3 | over lanes 4-7], b likewise for p4..p7.
  return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31));
}

// sum + t[0] + t[1] + ... + t[7], added one lane after the other (the scalar block order).
inline float add_in_order(float sum, __m256 t) {
  alignas(32) float v[8];
  _mm256_store_ps(v, t);
  for (int k = 0; k < 8; ++k) sum += v[k];
  return sum;
}

// Eight f16 values, each `stride` bytes after the previous, as floats.
inline __m256 load8_fp16(const void* first, size_t stride) {
  alignas(16) uint16_t h[8];
  const auto* p = static_cast<const uint8_t*>(first);
  for (int k = 0; k < 8; ++k) std::memcpy(&h[k], p + k * stride, 2);
  return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(h)));
}

// Blocks of 32 against Q8_0: the scalar twin's sum of combine_q_0 over blocks, with the integer
// dots (`dot(x_block, y_block)` -> int32x8 partial sums) and the products of eight blocks at a time
// in vector registers.
template <class XB, class Dot>
inline float dot_blocks_q_0(int64_t nb, const XB* x, const BlockQ8_0* y, Dot dot) {
  float sum = 0.0f;
  int64_t i = 0;
  for (; i + 8 <= nb; i += 8) {
    __m256i p[8];
    for (int k = 0; k < 8; ++k) p[k] = dot(x[i + k], y[i + k]);
    const __m256 si = _mm256_cvtepi32_ps(hsum8_i32(p));
    const __m256 dx = load8_fp16(&x[i].d, sizeof(XB));
    const __m256 dy = load8_fp16(&y[i].d, sizeof(BlockQ8_0));
    sum = add_in_order(sum, _mm256_mul_ps(_mm256_mul_ps(si, dx), dy));
  }
  for (; i < nb; ++i)
    sum = combine_q_0(sum, hsum_i32(dot(x[i], y[i])), fp16_to_fp32(x[i].d), fp16_to_fp32(y[i].d));
  return sum;
}

// Blocks of 32 with a min against Q8_1: the scalar twin's sum of combine_q_1 over blocks.
template <class XB, class Dot>
inline float dot_blocks_q_1(int64_t nb, const XB* x, const BlockQ8_1* y, Dot dot) {
  float sum = 0.0f;
  int64_t i = 0;
  for (; i + 8 <= nb; i += 8) {
    __m256i p[8];
    for (int k = 0; k < 8; ++k) p[k] = dot(x[i + k], y[i + k]);
    const __m256 si = _mm256_cvtepi32_ps(hsum8_i32(p));
    const __m256 dx = load8_fp16(&x[i].d, sizeof(XB));
    const __m256 dy = load8_fp16(&y[i].d, sizeof(BlockQ8_1));
    const __m256 mx = load8_fp16(&x[i].m, sizeof(XB));
    const __m256 sy = load8_fp16(&y[i].s, sizeof(BlockQ8_1));
    const __m256 t = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(si, dx), dy), _mm256_mul_ps(mx, sy));
    sum = add_in_order(sum, t);
  }
  for (; i < nb; ++i)
    sum = combine_q_1(sum, hsum_i32(dot(x[i], y[i])), fp16_to_fp32(x[i].d), fp16_to_fp32(y[i].d),
                      fp16_to_fp32(x[i].m), fp16_to_fp32(y[i].s));
  return sum;
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

float vec_dot_f16_f16_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const uint16_t*>(a);
  auto ld = [](const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
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
  for (; i < n; ++i) sum += fp16_to_fp32(x[i]) * fp16_to_fp32(y[i]);
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

// ---- 32-value block types ----------------------------------------------------------------------

float vec_dot_q4_0_q8_0_avx2(int64_t n, const void* w, const void* a) {
  const __m256i eight = _mm256_set1_epi8(8);
  return dot_blocks_q_0(n / QK4_0, static_cast<const BlockQ4_0*>(w), static_cast<const BlockQ8_0*>(a),
                        [&](const BlockQ4_0& x, const BlockQ8_0& y) {
                          return dot_i8(_mm256_sub_epi8(unpack_nibbles(x.qs), eight), load32(y.qs));
                        });
}

float vec_dot_q4_1_q8_1_avx2(int64_t n, const void* w, const void* a) {
  const __m256i ones = _mm256_set1_epi16(1);
  return dot_blocks_q_1(n / QK4_1, static_cast<const BlockQ4_1*>(w), static_cast<const BlockQ8_1*>(a),
                        [&](const BlockQ4_1& x, const BlockQ8_1& y) {
                          return _mm256_madd_epi16(dot_u8_i16(unpack_nibbles(x.qs), load32(y.qs)), ones);
                        });
}

float vec_dot_q5_0_q8_0_avx2(int64_t n, const void* w, const void* a) {
  const __m256i sixteen = _mm256_set1_epi8(16);
  return dot_blocks_q_0(n / QK5_0, static_cast<const BlockQ5_0*>(w), static_cast<const BlockQ8_0*>(a),
                        [&](const BlockQ5_0& x, const BlockQ8_0& y) {
                          // q - 16 = nibble - 16 where the fifth bit is clear, nibble where it is set.
                          const __m256i q = _mm256_sub_epi8(
                              unpack_nibbles(x.qs), _mm256_andnot_si256(expand_bits(x.qh), sixteen));
                          return dot_i8(q, load32(y.qs));
                        });
}

float vec_dot_q5_1_q8_1_avx2(int64_t n, const void* w, const void* a) {
  const __m256i ones = _mm256_set1_epi16(1), sixteen = _mm256_set1_epi8(16);
  return dot_blocks_q_1(n / QK5_1, static_cast<const BlockQ5_1*>(w), static_cast<const BlockQ8_1*>(a),
                        [&](const BlockQ5_1& x, const BlockQ8_1& y) {
                          const __m256i q = _mm256_or_si256(
                              unpack_nibbles(x.qs), _mm256_and_si256(expand_bits(x.qh), sixteen));
                          return _mm256_madd_epi16(dot_u8_i16(q, load32(y.qs)), ones);
                        });
}

float vec_dot_q8_0_q8_0_avx2(int64_t n, const void* w, const void* a) {
  return dot_blocks_q_0(n / QK8_0, static_cast<const BlockQ8_0*>(w), static_cast<const BlockQ8_0*>(a),
                        [](const BlockQ8_0& x, const BlockQ8_0& y) {
                          return dot_i8(load32(x.qs), load32(y.qs));
                        });
}

float vec_dot_iq4_nl_q8_0_avx2(int64_t n, const void* w, const void* a) {
  const __m256i table = _mm256_broadcastsi128_si256(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues)));
  return dot_blocks_q_0(n / QK4_NL, static_cast<const BlockIQ4_NL*>(w), static_cast<const BlockQ8_0*>(a),
                        [&](const BlockIQ4_NL& x, const BlockQ8_0& y) {
                          return dot_i8(_mm256_shuffle_epi8(table, unpack_nibbles(x.qs)), load32(y.qs));
                        });
}

// ---- K-quants (256-value super-blocks) against Q8_K ----------------------------------------------

namespace {

// Two scales for the two 16-value halves of a 32-value vector: int16 lanes 0-7 take s0, 8-15 s1
// (maddubs leaves the sums of bytes 0-15 in lanes 0-7).
inline __m256i scale_pair(int s0, int s1) {
  return _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(s1)), _mm_set1_epi16(static_cast<int16_t>(s0)));
}

// sum_s sc[s] * bsums[s] over 16 int16 scales (as int16 lanes) and the block's 16 bsums.
inline int scaled_bsums(const BlockQ8_K& y, __m256i sc16) {
  return hsum_i32(_mm256_madd_epi16(load32(y.bsums), sc16));
}

}  // namespace

float vec_dot_q2_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  const __m256i three = _mm256_set1_epi8(3);
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales));
    const __m256i mins16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc8, 4), _mm_set1_epi8(0x0F)));
    const int summs = scaled_bsums(y[i], mins16);
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i qs = load32(x[i].qs + 32 * h);
      for (int j = 0; j < 4; ++j) {
        const __m256i q = _mm256_and_si256(_mm256_srl_epi16(qs, _mm_cvtsi32_si128(2 * j)), three);
        const __m256i p = dot_u8_i16(q, load32(y[i].qs + 128 * h + 32 * j));
        const int s = 8 * h + 2 * j;
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, scale_pair(x[i].scales[s] & 0xF, x[i].scales[s + 1] & 0xF)));
      }
    }
    sum = combine_q2_k(sum, hsum_i32(sumi), summs, fp16_to_fp32(x[i].d), fp16_to_fp32(x[i].dmin), y[i].d);
  }
  return sum;
}

float vec_dot_q3_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  const __m256i three = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
  for (int64_t i = 0; i < n / QK_K; ++i) {
    int8_t sc[16];
    for (int j = 0; j < 16; ++j) {
      const int lo = j < 8 ? (x[i].scales[j] & 0xF) : (x[i].scales[j - 8] >> 4);
      const int hi = (x[i].scales[8 + j % 4] >> (2 * (j / 4))) & 3;
      sc[j] = static_cast<int8_t>((lo | (hi << 4)) - 32);
    }
    // Values are stored as u = q + 4 in 0..7 (2 low bits + high bit * 4); the dot is then
    // sum sc * (u . y) - 4 * sum sc * bsums.
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc)));
    const int offset = 4 * scaled_bsums(y[i], sc16);
    const __m256i hm = load32(x[i].hmask);
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i qs = load32(x[i].qs + 32 * h);
      for (int j = 0; j < 4; ++j) {
        const __m128i shift = _mm_cvtsi32_si128(2 * j);
        const __m256i lo = _mm256_and_si256(_mm256_srl_epi16(qs, shift), three);
        const __m256i hb = _mm256_and_si256(_mm256_srl_epi16(hm, _mm_cvtsi32_si128(4 * h + j)), one);
        const __m256i u = _mm256_or_si256(lo, _mm256_slli_epi16(hb, 2));
        const __m256i p = dot_u8_i16(u, load32(y[i].qs + 128 * h + 32 * j));
        const int s = 8 * h + 2 * j;
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, scale_pair(sc[s], sc[s + 1])));
      }
    }
    sum = combine_k(sum, hsum_i32(sumi) - offset, fp16_to_fp32(x[i].d), y[i].d);
  }
  return sum;
}

namespace {

// Q4_K/Q5_K scales and mins of a super-block as int16 lanes: sc in lanes 0-7, and mins
// duplicated per pair of bsums (lane 2j and 2j+1 hold m_j).
inline void k4_scales(const uint8_t* s, int16_t* sc, __m256i* mins16) {
  alignas(32) int16_t m[16];
  for (int j = 0; j < 8; ++j) {
    uint8_t d, mn;
    k4_scale_min(j, s, &d, &mn);
    sc[j] = d;
    m[2 * j] = m[2 * j + 1] = mn;
  }
  *mins16 = _mm256_load_si256(reinterpret_cast<const __m256i*>(m));
}

}  // namespace

float vec_dot_q4_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  const __m256i low = _mm256_set1_epi8(0x0F);
  for (int64_t i = 0; i < n / QK_K; ++i) {
    int16_t sc[8];
    __m256i mins16;
    k4_scales(x[i].scales, sc, &mins16);
    const int summs = scaled_bsums(y[i], mins16);
    __m256i sumi = _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
      const __m256i q = load32(x[i].qs + 32 * c);
      const __m256i lo = _mm256_and_si256(q, low);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
      const __m256i plo = dot_u8_i16(lo, load32(y[i].qs + 64 * c));
      const __m256i phi = dot_u8_i16(hi, load32(y[i].qs + 64 * c + 32));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(plo, _mm256_set1_epi16(sc[2 * c])));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(phi, _mm256_set1_epi16(sc[2 * c + 1])));
    }
    sum = combine_k4(sum, hsum_i32(sumi), summs, fp16_to_fp32(x[i].d), fp16_to_fp32(x[i].dmin), y[i].d);
  }
  return sum;
}

float vec_dot_q5_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  const __m256i low = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
  for (int64_t i = 0; i < n / QK_K; ++i) {
    int16_t sc[8];
    __m256i mins16;
    k4_scales(x[i].scales, sc, &mins16);
    const int summs = scaled_bsums(y[i], mins16);
    const __m256i qh = load32(x[i].qh);
    __m256i sumi = _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
      const __m256i q = load32(x[i].qs + 32 * c);
      const __m256i hlo = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * c)), one);
      const __m256i hhi = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * c + 1)), one);
      const __m256i lo = _mm256_or_si256(_mm256_and_si256(q, low), _mm256_slli_epi16(hlo, 4));
      const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low), _mm256_slli_epi16(hhi, 4));
      const __m256i plo = dot_u8_i16(lo, load32(y[i].qs + 64 * c));
      const __m256i phi = dot_u8_i16(hi, load32(y[i].qs + 64 * c + 32));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(plo, _mm256_set1_epi16(sc[2 * c])));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(phi, _mm256_set1_epi16(sc[2 * c + 1])));
    }
    sum = combine_k4(sum, hsum_i32(sumi), summs, fp16_to_fp32(x[i].d), fp16_to_fp32(x[i].dmin), y[i].d);
  }
  return sum;
}

float vec_dot_q6_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  const __m256i low = _mm256_set1_epi8(0x0F), three = _mm256_set1_epi8(3);
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const int8_t* sc = x[i].scales;
    // Values are stored as u = q + 32 in 0..63: dot = sum sc * (u . y) - 32 * sum sc * bsums.
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc)));
    const int offset = 32 * scaled_bsums(y[i], sc16);
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = load32(x[i].ql + 64 * h);
      const __m256i ql1 = load32(x[i].ql + 64 * h + 32);
      const __m256i qh = load32(x[i].qh + 32 * h);
      const __m256i u[4] = {
          _mm256_or_si256(_mm256_and_si256(ql0, low), _mm256_slli_epi16(_mm256_and_si256(qh, three), 4)),
          _mm256_or_si256(_mm256_and_si256(ql1, low),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), three), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), three), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), three), 4)),
      };
      for (int g = 0; g < 4; ++g) {
        const __m256i p = dot_u8_i16(u[g], load32(y[i].qs + 128 * h + 32 * g));
        const int s = 8 * h + 2 * g;
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, scale_pair(sc[s], sc[s + 1])));
      }
    }
    sum = combine_k(sum, hsum_i32(sumi) - offset, fp16_to_fp32(x[i].d), y[i].d);
  }
  return sum;
}

float vec_dot_iq4_xs_q8_k_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ4_XS*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i table = _mm256_broadcastsi128_si256(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues)));
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    __m256i sumi = _mm256_setzero_si256();
    for (int ib = 0; ib < QK_K / 32; ++ib) {
      const __m256i q = _mm256_shuffle_epi8(table, unpack_nibbles(x[i].qs + 16 * ib));
      const __m256i yv = load32(y[i].qs + 32 * ib);
      const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(yv, q));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p16, _mm256_set1_epi16(static_cast<int16_t>(iq4_xs_scale(x[i], ib)))));
    }
    sum = combine_k(sum, hsum_i32(sumi), fp16_to_fp32(x[i].d), y[i].d);
  }
  return sum;
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
