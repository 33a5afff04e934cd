// ctest-labels: unit
// Dequantization of hand-built blocks whose values are known by construction. Each test packs
// chosen small integers into a block with its own (test-side) encoder, written from the format's
// description, then checks every dequantized value.
#include "engine/tensor/dequantize.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "engine/tensor/fp16.h"
#include "engine/tensor/quant_blocks.h"

namespace agora {
namespace {

constexpr int8_t kNl[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

TEST(Dequantize, F32F16BF16) {
  const float v[4] = {1.5f, -2.25f, 0.0f, 65504.0f};
  float out[4];
  dequantize_row_f32(v, out, 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(out[i], v[i]);
  const uint16_t h[4] = {0x3E00, 0xC080, 0x0000, 0x7BFF};  // 1.5, -2.25, 0, 65504
  dequantize_row_f16(h, out, 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(out[i], v[i]);
  const uint16_t b[3] = {0x3FC0, 0xC010, 0x0000};  // 1.5, -2.25, 0
  dequantize_row_bf16(b, out, 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(out[i], v[i]);
}

TEST(Dequantize, Q4_0) {
  BlockQ4_0 b[2];
  b[0].d = fp32_to_fp16(0.5f);
  b[1].d = fp32_to_fp16(-2.0f);
  for (int j = 0; j < 16; ++j) {
    b[0].qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    b[1].qs[j] = static_cast<uint8_t>(3 | (12 << 4));
  }
  float out[64];
  dequantize_row_q4_0(b, out, 64);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], (j - 8) * 0.5f);
    EXPECT_EQ(out[16 + j], (7 - j) * 0.5f);
    EXPECT_EQ(out[32 + j], 10.0f);   // (3-8) * -2
    EXPECT_EQ(out[48 + j], -8.0f);   // (12-8) * -2
  }
}

TEST(Dequantize, Q4_1) {
  BlockQ4_1 b;
  b.d = fp32_to_fp16(0.25f);
  b.m = fp32_to_fp16(-1.0f);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float out[32];
  dequantize_row_q4_1(&b, out, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], j * 0.25f - 1.0f);
    EXPECT_EQ(out[16 + j], (15 - j) * 0.25f - 1.0f);
  }
}

// Q5: value i has low nibble in qs[i % 16] (low half for i < 16) and fifth bit at bit i of qh.
template <typename Block>
void put_q5(Block& b, int i, int q) {
  uint8_t& byte = b.qs[i % 16];
  if (i < 16) byte = static_cast<uint8_t>((byte & 0xF0) | (q & 0xF));
  else byte = static_cast<uint8_t>((byte & 0x0F) | ((q & 0xF) << 4));
  if (q & 16) b.qh[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
  else b.qh[i / 8] &= static_cast<uint8_t>(~(1u << (i % 8)));
}

TEST(Dequantize, Q5_0) {
  BlockQ5_0 b{};
  b.d = fp32_to_fp16(0.5f);
  for (int i = 0; i < 32; ++i) put_q5(b, i, (i * 7 + 3) % 32);
  float out[32];
  dequantize_row_q5_0(&b, out, 32);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(out[i], ((i * 7 + 3) % 32 - 16) * 0.5f) << i;
}

TEST(Dequantize, Q5_1) {
  BlockQ5_1 b{};
  b.d = fp32_to_fp16(0.125f);
  b.m = fp32_to_fp16(2.0f);
  for (int i = 0; i < 32; ++i) put_q5(b, i, (i * 11 + 5) % 32);
  float out[32];
  dequantize_row_q5_1(&b, out, 32);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(out[i], ((i * 11 + 5) % 32) * 0.125f + 2.0f) << i;
}

TEST(Dequantize, Q8_0AndQ8_1) {
  BlockQ8_0 b;
  b.d = fp32_to_fp16(0.5f);
  for (int i = 0; i < 32; ++i) b.qs[i] = static_cast<int8_t>(i * 8 - 128);
  float out[32];
  dequantize_row_q8_0(&b, out, 32);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(out[i], (i * 8 - 128) * 0.5f);
  BlockQ8_1 c;
  c.d = fp32_to_fp16(0.25f);
  c.s = 0;
  for (int i = 0; i < 32; ++i) c.qs[i] = static_cast<int8_t>(127 - i);
  dequantize_row_q8_1(&c, out, 32);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(out[i], (127 - i) * 0.25f);
}

TEST(Dequantize, Q8_K) {
  BlockQ8_K b{};
  b.d = 0.03125f;
  for (int i = 0; i < 256; ++i) b.qs[i] = static_cast<int8_t>((i * 37) % 255 - 127);
  float out[256];
  dequantize_row_q8_k(&b, out, 256);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(out[i], ((i * 37) % 255 - 127) * 0.03125f);
}

// 2-bit fields shared by Q2_K and Q3_K: value k (half h = k/128, r = k%128) lives in bits
// 2*(r/32) of qs[32*h + r%32].
void put_2bit(uint8_t* qs, int k, int v) {
  const int h = k / 128, r = k % 128, shift = 2 * (r / 32);
  uint8_t& byte = qs[32 * h + r % 32];
  byte = static_cast<uint8_t>((byte & ~(3 << shift)) | ((v & 3) << shift));
}

TEST(Dequantize, Q2_K) {
  BlockQ2_K b{};
  b.d = fp32_to_fp16(0.5f);
  b.dmin = fp32_to_fp16(0.25f);
  for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<uint8_t>((s % 16) | (((s * 5) % 16) << 4));
  for (int k = 0; k < 256; ++k) put_2bit(b.qs, k, (k * 3 + k / 7) % 4);
  float out[256];
  dequantize_row_q2_k(&b, out, 256);
  for (int k = 0; k < 256; ++k) {
    const int s = k / 16;
    const float expect = 0.5f * (s % 16) * ((k * 3 + k / 7) % 4) - 0.25f * ((s * 5) % 16);
    EXPECT_EQ(out[k], expect) << k;
  }
}

TEST(Dequantize, Q3_K) {
  BlockQ3_K b{};
  b.d = fp32_to_fp16(0.25f);
  auto q_of = [](int k) { return (k * 5 + k / 9) % 8 - 4; };  // -4..3
  for (int k = 0; k < 256; ++k) {
    const int stored = q_of(k) + 4;  // 0..7: low 2 bits in qs, bit 2 in hmask
    put_2bit(b.qs, k, stored & 3);
    if (stored & 4) b.hmask[k % 32] |= static_cast<uint8_t>(1u << (k / 32));
  }
  // Scale s (6 bits, biased by 32): low nibble in byte s (s < 8) or high nibble of byte s-8;
  // high 2 bits at bit 2*(s/4) of byte 8 + s%4.
  auto sc_of = [](int s) { return (s * 13) % 64 - 32; };
  for (int s = 0; s < 16; ++s) {
    const int v = sc_of(s) + 32;
    if (s < 8) b.scales[s] |= static_cast<uint8_t>(v & 0xF);
    else b.scales[s - 8] |= static_cast<uint8_t>((v & 0xF) << 4);
    b.scales[8 + s % 4] |= static_cast<uint8_t>((v >> 4) << (2 * (s / 4)));
  }
  float out[256];
  dequantize_row_q3_k(&b, out, 256);
  for (int k = 0; k < 256; ++k) EXPECT_EQ(out[k], 0.25f * sc_of(k / 16) * q_of(k)) << k;
}

// Q4_K/Q5_K scale/min packing of sub-block j (6 bits each).
void put_k4_scale_min(uint8_t* s, int j, int sc, int m) {
  if (j < 4) {
    s[j] = static_cast<uint8_t>((s[j] & 0xC0) | sc);
    s[j + 4] = static_cast<uint8_t>((s[j + 4] & 0xC0) | m);
  } else {
    s[j + 4] = static_cast<uint8_t>((sc & 0xF) | ((m & 0xF) << 4));
    s[j - 4] |= static_cast<uint8_t>((sc >> 4) << 6);
    s[j] |= static_cast<uint8_t>((m >> 4) << 6);
  }
}

TEST(Dequantize, Q4_K) {
  BlockQ4_K b{};
  b.d = fp32_to_fp16(0.5f);
  b.dmin = fp32_to_fp16(0.125f);
  auto sc_of = [](int j) { return (j * 23 + 7) % 64; };
  auto m_of = [](int j) { return (j * 41 + 60) % 64; };
  for (int j = 0; j < 8; ++j) put_k4_scale_min(b.scales, j, sc_of(j), m_of(j));
  auto q_of = [](int k) { return (k * 7 + k / 5) % 16; };
  for (int k = 0; k < 256; ++k) {  // value k: chunk k/64, low nibble for the first 32
    uint8_t& byte = b.qs[32 * (k / 64) + k % 32];
    byte |= static_cast<uint8_t>((k % 64) < 32 ? q_of(k) : q_of(k) << 4);
  }
  float out[256];
  dequantize_row_q4_k(&b, out, 256);
  for (int k = 0; k < 256; ++k) {
    const int j = k / 32;
    const float dl = 0.5f * sc_of(j), ml = 0.125f * m_of(j);
    EXPECT_EQ(out[k], dl * q_of(k) - ml) << k;
  }
}

TEST(Dequantize, Q5_K) {
  BlockQ5_K b{};
  b.d = fp32_to_fp16(0.25f);
  b.dmin = fp32_to_fp16(0.5f);
  auto sc_of = [](int j) { return (j * 29 + 3) % 64; };
  auto m_of = [](int j) { return (j * 17 + 33) % 64; };
  for (int j = 0; j < 8; ++j) put_k4_scale_min(b.scales, j, sc_of(j), m_of(j));
  auto q_of = [](int k) { return (k * 13 + k / 3) % 32; };
  for (int k = 0; k < 256; ++k) {
    const int q = q_of(k);
    uint8_t& byte = b.qs[32 * (k / 64) + k % 32];
    byte |= static_cast<uint8_t>((k % 64) < 32 ? (q & 0xF) : (q & 0xF) << 4);
    // fifth bit: bit (k/32) of qh[k % 32]
    if (q & 16) b.qh[k % 32] |= static_cast<uint8_t>(1u << (k / 32));
  }
  float out[256];
  dequantize_row_q5_k(&b, out, 256);
  for (int k = 0; k < 256; ++k) {
    const int j = k / 32;
    const float dl = 0.25f * sc_of(j), ml = 0.5f * m_of(j);
    EXPECT_EQ(out[k], dl * q_of(k) - ml) << k;
  }
}

TEST(Dequantize, Q6_K) {
  BlockQ6_K b{};
  b.d = fp32_to_fp16(0.0625f);
  for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<int8_t>(s * 17 - 128);
  auto q_of = [](int k) { return (k * 19 + k / 11) % 64 - 32; };
  for (int k = 0; k < 256; ++k) {
    // half h = k/128; r = k%128; quarter g = r/32; l = r%32.
    const int h = k / 128, r = k % 128, g = r / 32, l = r % 32;
    const int v = q_of(k) + 32;
    uint8_t& lo = b.ql[64 * h + l + 32 * (g % 2)];
    lo |= static_cast<uint8_t>(g < 2 ? (v & 0xF) : (v & 0xF) << 4);
    b.qh[32 * h + l] |= static_cast<uint8_t>((v >> 4) << (2 * g));
  }
  float out[256];
  dequantize_row_q6_k(&b, out, 256);
  for (int k = 0; k < 256; ++k) {
    const float dl = 0.0625f * static_cast<float>(b.scales[k / 16]);
    EXPECT_EQ(out[k], dl * q_of(k)) << k;
  }
}

TEST(Dequantize, IQ4_NL) {
  BlockIQ4_NL b;
  b.d = fp32_to_fp16(0.5f);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float out[32];
  dequantize_row_iq4_nl(&b, out, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], 0.5f * kNl[j]);
    EXPECT_EQ(out[16 + j], 0.5f * kNl[15 - j]);
  }
}

TEST(Dequantize, IQ4_XS) {
  BlockIQ4_XS b{};
  b.d = fp32_to_fp16(0.25f);
  auto ls_of = [](int ib) { return (ib * 19 + 5) % 64; };  // stored 6-bit, scale = ls - 32
  for (int ib = 0; ib < 8; ++ib) {
    b.scales_l[ib / 2] |= static_cast<uint8_t>((ls_of(ib) & 0xF) << (4 * (ib % 2)));
    b.scales_h |= static_cast<uint16_t>((ls_of(ib) >> 4) << (2 * ib));
  }
  auto idx_of = [](int k) { return (k * 7 + k / 13) % 16; };
  for (int k = 0; k < 256; ++k) {
    const int ib = k / 32, r = k % 32;
    b.qs[16 * ib + r % 16] |= static_cast<uint8_t>(r < 16 ? idx_of(k) : idx_of(k) << 4);
  }
  float out[256];
  dequantize_row_iq4_xs(&b, out, 256);
  for (int k = 0; k < 256; ++k) {
    const float dl = 0.25f * static_cast<float>(ls_of(k / 32) - 32);
    EXPECT_EQ(out[k], dl * kNl[idx_of(k)]) << k;
  }
}

TEST(Dequantize, DispatchCoversEveryType) {
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1,
                     GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q8_1, GgmlType::Q2_K,
                     GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q8_K,
                     GgmlType::IQ4_NL, GgmlType::IQ4_XS}) {
    std::vector<uint8_t> zeros(row_size(t, 512), 0);
    std::vector<float> out(512, 1.0f);
    dequantize_row(t, zeros.data(), out.data(), 512);
    for (float v : out) ASSERT_EQ(v, 0.0f) << type_name(t);  // d = 0 (and f16 0) everywhere
  }
}

}  // namespace
}  // namespace agora
