// Unpacking of super-block (K-quant) layouts into plain small integers.
//
// These helpers are the single statement of where each bit of a K-quant block lives; both the
// scalar dequantizers (tensor/dequantize.cpp) and the scalar dot products (kernels/) use them, so
// the two can never disagree about the format. Index k below is the position 0..255 of a value
// inside its 256-value super-block.
#pragma once

#include <cstdint>
#include <cstring>

#include "engine/tensor/quant_blocks.h"

namespace agora {

// IQ4_NL / IQ4_XS codebook: a 4-bit index selects one of 16 non-uniform int8 levels.
inline constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

// Q2_K: q[k] in 0..3; sub-block k/16 has scale (scales[k/16] & 15) and min (scales[k/16] >> 4).
// Layout: the 256 values are two halves of 128; in half h, value 32*j + l (j 0..3, l 0..31) is
// bits 2j..2j+1 of qs[32*h + l].
inline void unpack_q2_k(const BlockQ2_K& b, int8_t* q) {
  for (int h = 0; h < 2; ++h)
    for (int j = 0; j < 4; ++j)
      for (int l = 0; l < 32; ++l) q[128 * h + 32 * j + l] = (b.qs[32 * h + l] >> (2 * j)) & 3;
}

// Q3_K: q[k] in -4..3 (2 low bits as in Q2_K, plus a high bit in hmask: value 32*j + l of half h
// has its high bit at bit 4h+j of hmask[l]; a clear high bit means subtract 4).
// sc[16] receives the signed 6-bit sub-block scales (stored biased by 32).
inline void unpack_q3_k(const BlockQ3_K& b, int8_t* q, int8_t* sc) {
  for (int h = 0; h < 2; ++h)
    for (int j = 0; j < 4; ++j) {
      const uint8_t mask = static_cast<uint8_t>(1u << (4 * h + j));
      for (int l = 0; l < 32; ++l) {
        const int lo = (b.qs[32 * h + l] >> (2 * j)) & 3;
        q[128 * h + 32 * j + l] = static_cast<int8_t>(lo - ((b.hmask[l] & mask) ? 0 : 4));
      }
    }
  // Scale j: low 4 bits in scales[j] (j < 8) or scales[j-8] >> 4; high 2 bits in scales[8 + j%4]
  // at bit 2*(j/4).
  for (int j = 0; j < 16; ++j) {
    const int lo = j < 8 ? (b.scales[j] & 0xF) : (b.scales[j - 8] >> 4);
    const int hi = (b.scales[8 + j % 4] >> (2 * (j / 4))) & 3;
    sc[j] = static_cast<int8_t>((lo | (hi << 4)) - 32);
  }
}

// Q4_K / Q5_K: eight 6-bit (scale, min) pairs packed in 12 bytes. For j < 4 the low 6 bits of
// bytes j and j+4; for j >= 4 the low/high nibbles of byte j+4 plus the top 2 bits of bytes j-4
// and j.
inline void k4_scale_min(int j, const uint8_t* s, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

// Q4_K: q[k] in 0..15; sub-block k/32. Each 64 values c use 32 bytes qs[32c..]: low nibbles are
// values 64c..64c+31, high nibbles 64c+32..64c+63.
inline void unpack_q4_k(const BlockQ4_K& b, uint8_t* q) {
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      q[64 * c + l] = b.qs[32 * c + l] & 0xF;
      q[64 * c + 32 + l] = b.qs[32 * c + l] >> 4;
    }
}

// Q5_K: as Q4_K plus a fifth bit: value 64c + l has it at bit 2c of qh[l], value 64c + 32 + l at
// bit 2c+1.
inline void unpack_q5_k(const BlockQ5_K& b, uint8_t* q) {
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      const uint8_t qs = b.qs[32 * c + l], qh = b.qh[l];
      q[64 * c + l] = static_cast<uint8_t>((qs & 0xF) | (((qh >> (2 * c)) & 1) << 4));
      q[64 * c + 32 + l] = static_cast<uint8_t>((qs >> 4) | (((qh >> (2 * c + 1)) & 1) << 4));
    }
}

// Q6_K: q[k] in -32..31 with scale scales[k/16]. In half h (ql[64h..], qh[32h..]), for l 0..31:
// value l = low nibble of ql[l], 32+l = low nibble of ql[32+l], 64+l = high nibble of ql[l],
// 96+l = high nibble of ql[32+l]; their 2 high bits are bits 0-1, 2-3, 4-5, 6-7 of qh[l].
inline void unpack_q6_k(const BlockQ6_K& b, int8_t* q) {
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = b.ql + 64 * h;
    const uint8_t* qh = b.qh + 32 * h;
    int8_t* o = q + 128 * h;
    for (int l = 0; l < 32; ++l) {
      o[l] = static_cast<int8_t>(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
      o[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
      o[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
      o[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
    }
  }
}

// IQ4_XS: the 6-bit scale of 32-value sub-block ib (0..7), unbiased (-32..31).
inline int iq4_xs_scale(const BlockIQ4_XS& b, int ib) {
  const int lo = (b.scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF;
  const int hi = (b.scales_h >> (2 * ib)) & 3;
  return (lo | (hi << 4)) - 32;
}

// Q5_0 / Q5_1: the 32 high bits of a block, bit j for value j.
inline uint32_t q5_high_bits(const uint8_t* qh) {
  uint32_t v;
  std::memcpy(&v, qh, 4);
  return v;
}

}  // namespace agora
