// Repacked weights (repacked.h): Q4_0x8, Q8_0x8, Q4_Kx8 and Q6_Kx8 repacking, the scalar reference kernels, the
// AVX2 kernel and the selection of the AVX-VNNI ones (repacked_vnni.cpp) at run time. Every kernel computes each block's exact integer dot and
// then the same float operations in the same order, so all of them return the same bits.

// No fused multiply-add unless written as one (see block_combine.h).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "engine/kernels/repacked.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "engine/kernels/block_combine.h"
#include "engine/kernels/matmul.h"
#include "engine/kernels/token_count.h"
#include "engine/tensor/fp16.h"
#include "engine/tensor/quant_blocks.h"
#include "engine/tensor/quant_unpack.h"
#include "engine/util/cpu_features.h"

#if !defined(AGORA_PORTABLE) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define AGORA_Q4_0X8_AVX2 1
#include "engine/kernels/repacked_x86.h"
#endif

namespace agora {
namespace {

// Byte j of row r's packed quants inside a record (after the scales): chunk j / 4 holds bytes
// 4c..4c+3 of rows 0..7, row after row.
constexpr size_t quant_offset(int r, int j) { return 16 + 32 * static_cast<size_t>(j / 4) + 4 * r + j % 4; }

const BlockQ8_0* act_block(const uint8_t* act, size_t act_row, int t, int64_t i) {
  return reinterpret_cast<const BlockQ8_0*>(act + static_cast<size_t>(t) * act_row) + i;
}

void kernel_scalar(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const Q8BlockAux* aux,
                   size_t aux_row, int n_act, float* out, size_t out_stride) {
  float acc[8][8] = {};
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* rec = group + static_cast<size_t>(i) * kQ4_0x8RecordBytes;
    for (int r = 0; r < 8; ++r) {
      uint16_t dh;
      std::memcpy(&dh, rec + 2 * r, 2);
      const float dx = fp16_to_fp32(dh);
      for (int t = 0; t < n_act; ++t) {
        const BlockQ8_0* y = act_block(act, act_row, t, i);
        int32_t sumi = 0;
        for (int j = 0; j < 16; ++j) {
          const uint8_t q = rec[quant_offset(r, j)];
          sumi += (q & 0x0F) * y->qs[j] + (q >> 4) * y->qs[j + 16];
        }
        const Q8BlockAux& ya = aux[static_cast<size_t>(t) * aux_row + static_cast<size_t>(i)];
        sumi -= ya.sum8;
        acc[t][r] = std::fma(static_cast<float>(sumi), dx * ya.d, acc[t][r]);
      }
    }
  }
  for (int t = 0; t < n_act; ++t)
    for (int r = 0; r < 8; ++r) out[static_cast<size_t>(t) * out_stride + static_cast<size_t>(r)] = acc[t][r];
}

#ifdef AGORA_Q4_0X8_AVX2

void kernel_avx2(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const Q8BlockAux* aux,
                 size_t aux_row, int n_act, float* out, size_t out_stride) {
  with_token_count(n_act, [&](auto nt) {
    run_group<decltype(nt)::value>(nb, group, act, act_row, aux, aux_row, out, out_stride, DotsAvx2{});
  });
}

// AVX-VNNI (CPUID leaf 7, sub-leaf 1, EAX bit 4); its kernel lives in repacked_vnni.cpp.
bool cpu_has_avx_vnni() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_max(0, nullptr) < 7) return false;
  __cpuid_count(7, 1, a, b, c, d);
  return a & (1u << 4);
}

// AVX-512 F, BW and VNNI (CPUID leaf 7: EBX bits 16 and 30, ECX bit 11) with the opmask and ZMM
// state enabled by the OS (XCR0 bits 5-7); the pair kernel lives in repacked_avx512.cpp.
bool cpu_has_avx512_vnni() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!cpu_has_avx2_fma_f16c() || __get_cpuid_max(0, nullptr) < 7) return false;
  __cpuid_count(7, 0, a, b, c, d);
  if (!(b & (1u << 16)) || !(b & (1u << 30)) || !(c & (1u << 11))) return false;
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (lo & 0xE6u) == 0xE6u;
}

#endif  // AGORA_Q4_0X8_AVX2

struct Choice {
  const char* name;
  Q4_0x8Kernel fn;
};

Choice choose_fastest();

// AGORA_Q4_0X8_KERNEL=<name> picks one of the kernels this CPU runs (for A/B measurements).
Choice choose() {
  if (const char* want = std::getenv("AGORA_Q4_0X8_KERNEL"); want && *want) {
    Q4_0x8KernelEntry all[8];
    const int n = q4_0x8_kernels_available(all, 8);
    for (int k = 0; k < n; ++k)
      if (std::strcmp(all[k].name, want) == 0) return {all[k].name, all[k].fn};
  }
  return choose_fastest();
}

Choice choose_fastest() {
#ifdef AGORA_Q4_0X8_AVX2
  if (cpu_has_avx2_fma_f16c()) {
    if (cpu_has_avx_vnni() && q4_0x8_kernel_vnni) return {"avx-vnni", q4_0x8_kernel_vnni};
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

namespace {

// A row-major matrix of `Block`s (type t) whose rows come in whole groups of eight.
template <typename Block>
bool groups_eligible(const WeightView& w, GgmlType t, int64_t block_values) {
  return w.type == t && w.layout == WeightLayout::rows && w.n_out > 0 && w.n_out % 8 == 0 &&
         w.n_in % block_values == 0 && w.row_bytes == static_cast<size_t>(w.n_in / block_values) * sizeof(Block);
}

// Writes groups [g0, g1) of 8-row records: the eight f16 scales, then `put_quants(block, rec, r)`
// for each row r.
template <typename Block, typename PutQuants>
void repack_groups(const WeightView& w, int64_t block_values, size_t record_bytes, uint8_t* dst, int64_t g0,
                   int64_t g1, PutQuants put_quants) {
  const int64_t nb = w.n_in / block_values;
  const auto* src = static_cast<const uint8_t*>(w.data);
  for (int64_t g = g0; g < g1; ++g) {
    uint8_t* rec = dst + static_cast<size_t>(g * nb) * record_bytes;
    for (int64_t i = 0; i < nb; ++i, rec += record_bytes) {
      for (int r = 0; r < 8; ++r) {
        const auto* b = reinterpret_cast<const Block*>(src + static_cast<size_t>(g * 8 + r) * w.row_bytes) + i;
        std::memcpy(rec + 2 * r, &b->d, 2);
        put_quants(*b, rec, r);
      }
    }
  }
}

}  // namespace

bool q4_0x8_eligible(const WeightView& w) { return groups_eligible<BlockQ4_0>(w, GgmlType::Q4_0, QK4_0); }

size_t q4_0x8_bytes(int64_t n_in, int64_t n_out) {
  return static_cast<size_t>(n_out / 8) * static_cast<size_t>(n_in / QK4_0) * kQ4_0x8RecordBytes;
}

void repack_q4_0x8(const WeightView& w, uint8_t* dst, int64_t g0, int64_t g1) {
  repack_groups<BlockQ4_0>(w, QK4_0, kQ4_0x8RecordBytes, dst, g0, g1, [](const BlockQ4_0& b, uint8_t* rec, int r) {
    for (int j = 0; j < 16; ++j) rec[quant_offset(r, j)] = b.qs[j];
  });
}

void q8_0_block_aux(const void* act_row, int64_t nb, Q8BlockAux* out) {
  const auto* y = static_cast<const BlockQ8_0*>(act_row);
  for (int64_t i = 0; i < nb; ++i) {
    int32_t s = 0;
    for (int j = 0; j < QK8_0; ++j) s += y[i].qs[j];
    out[i] = {fp16_to_fp32(y[i].d), 8 * s};
  }
}

Q4_0x8Kernel q4_0x8_kernel() { return chosen().fn; }

Q4_0x8Kernel q4_0x8_pair_kernel() {
#ifdef AGORA_Q4_0X8_AVX2
  static const Q4_0x8Kernel k = [] () -> Q4_0x8Kernel {
    if (const char* want = std::getenv("AGORA_Q4_0X8_KERNEL"); want && *want && std::strcmp(want, "avx512-vnni") != 0)
      return nullptr;
    return cpu_has_avx512_vnni() ? q4_0x8_pair_kernel_avx512 : nullptr;
  }();
  return k;
#else
  return nullptr;
#endif
}
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
    if (cpu_has_avx_vnni() && q4_0x8_kernel_vnni) add("avx-vnni", q4_0x8_kernel_vnni);
  }
#endif
  return n;
}

// ---- Q8_0x8 -------------------------------------------------------------------------------------

namespace {

void q8_kernel_scalar(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const Q8BlockAux* aux,
                      size_t aux_row, int n_act, float* out, size_t out_stride) {
  for (int t = 0; t < n_act; ++t) {
    float acc[8] = {};
    for (int64_t i = 0; i < nb; ++i) {
      const uint8_t* rec = group + static_cast<size_t>(i) * kQ8_0x8RecordBytes;
      const auto* y = reinterpret_cast<const BlockQ8_0*>(act + static_cast<size_t>(t) * act_row) + i;
      const Q8BlockAux& ya = aux[static_cast<size_t>(t) * aux_row + static_cast<size_t>(i)];
      for (int r = 0; r < 8; ++r) {
        uint16_t dh;
        std::memcpy(&dh, rec + 2 * r, 2);
        int32_t sumi = -16 * ya.sum8;  // -128 x the activations' sum
        for (int c = 0; c < 8; ++c)
          for (int k = 0; k < 4; ++k) sumi += rec[16 + 32 * c + 4 * r + k] * y->qs[4 * c + k];
        acc[r] = std::fma(static_cast<float>(sumi), fp16_to_fp32(dh) * ya.d, acc[r]);
      }
    }
    for (int r = 0; r < 8; ++r) out[static_cast<size_t>(t) * out_stride + static_cast<size_t>(r)] = acc[r];
  }
}

}  // namespace

bool q8_0x8_eligible(const WeightView& w) { return groups_eligible<BlockQ8_0>(w, GgmlType::Q8_0, QK8_0); }

size_t q8_0x8_bytes(int64_t n_in, int64_t n_out) {
  return static_cast<size_t>(n_out / 8) * static_cast<size_t>(n_in / QK8_0) * kQ8_0x8RecordBytes;
}

void repack_q8_0x8(const WeightView& w, uint8_t* dst, int64_t g0, int64_t g1) {
  repack_groups<BlockQ8_0>(w, QK8_0, kQ8_0x8RecordBytes, dst, g0, g1, [](const BlockQ8_0& b, uint8_t* rec, int r) {
    for (int j = 0; j < 32; ++j)
      rec[16 + 32 * (j / 4) + 4 * r + j % 4] = static_cast<uint8_t>(static_cast<uint8_t>(b.qs[j]) ^ 0x80u);
  });
}

Q8_0x8Kernel q8_0x8_kernel() {
#ifdef AGORA_Q4_0X8_AVX2
  static const Q8_0x8Kernel k = (cpu_has_avx2_fma_f16c() && cpu_has_avx_vnni()) ? q8_0x8_kernel_vnni : nullptr;
  return k;
#else
  return nullptr;
#endif
}
Q8_0x8Kernel q8_0x8_kernel_scalar() { return q8_kernel_scalar; }

// ---- Q4_Kx8 -------------------------------------------------------------------------------------

namespace {

// Record offsets (repacked.h).
constexpr size_t kK4Dmin = 16, kK4Sc = 32, kK4Mn = 96, kK4Qs = 160;

void q4k_kernel_scalar(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const Q8KBlockAux* aux,
                       size_t aux_row, int n_act, float* out, size_t out_stride) {
  for (int t = 0; t < n_act; ++t) {
    const auto* y = reinterpret_cast<const BlockQ8_K*>(act + static_cast<size_t>(t) * act_row);
    float acc[8] = {};
    for (int64_t i = 0; i < nb; ++i) {
      const uint8_t* rec = group + static_cast<size_t>(i) * kQ4_Kx8RecordBytes;
      const Q8KBlockAux& a = aux[static_cast<size_t>(t) * aux_row + static_cast<size_t>(i)];
      for (int r = 0; r < 8; ++r) {
        int32_t sumi = 0, summ = 0;
        for (int j = 0; j < 8; ++j) {
          int32_t dot = 0;
          for (int k = 0; k < 8; ++k)
            for (int b = 0; b < 4; ++b) {
              const uint8_t q = rec[kK4Qs + 256 * (j / 2) + 32 * k + 4 * r + b];
              dot += ((j & 1) ? q >> 4 : q & 0x0F) * y[i].qs[32 * j + 4 * k + b];
            }
          sumi += rec[kK4Sc + 8 * j + r] * dot;
          summ += rec[kK4Mn + 16 * (j / 2) + 2 * r + (j & 1)] * a.bsum[j];
        }
        uint16_t dh, mh;
        std::memcpy(&dh, rec + 2 * r, 2);
        std::memcpy(&mh, rec + kK4Dmin + 2 * r, 2);
        const float d = a.d * fp16_to_fp32(dh);
        const float dmin = -a.d * fp16_to_fp32(mh);
        acc[r] = std::fma(d, static_cast<float>(sumi), acc[r]);
        acc[r] = std::fma(dmin, static_cast<float>(summ), acc[r]);
      }
    }
    for (int r = 0; r < 8; ++r) out[static_cast<size_t>(t) * out_stride + static_cast<size_t>(r)] = acc[r];
  }
}

#ifdef AGORA_Q4_0X8_AVX2
void q4k_kernel_avx2(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const Q8KBlockAux* aux,
                     size_t aux_row, int n_act, float* out, size_t out_stride) {
  q4k_group<SubAvx2>(nb, group, act, act_row, aux, aux_row, n_act, out, out_stride);
}
#endif

// The K-quant layouts' kernels this CPU runs, slowest first (avx2 null where the build has none).
int k_kernels_available(Q4_Kx8Kernel scalar, Q4_Kx8Kernel avx2, Q4_Kx8Kernel vnni, Q4_Kx8KernelEntry* out,
                        int max) {
  int n = 0;
  auto add = [&](const char* name, Q4_Kx8Kernel fn) {
    if (n < max) out[n++] = {name, fn};
  };
  add("scalar", scalar);
#ifdef AGORA_Q4_0X8_AVX2
  if (avx2 && cpu_has_avx2_fma_f16c()) {
    add("avx2", avx2);
    if (cpu_has_avx_vnni() && vnni) add("avx-vnni", vnni);
  }
#else
  (void)avx2;
  (void)vnni;
#endif
  return n;
}

// AGORA_Q4_KX8_KERNEL=<name> picks one of the kernels this CPU runs (for A/B measurements; Q4_Kx8
// and Q6_Kx8 alike); otherwise the fastest.
Q4_Kx8KernelEntry k_kernel_choice(int (*available)(Q4_Kx8KernelEntry*, int)) {
  Q4_Kx8KernelEntry all[4];
  const int n = available(all, 4);
  if (const char* want = std::getenv("AGORA_Q4_KX8_KERNEL"); want && *want)
    for (int k = 0; k < n; ++k)
      if (std::strcmp(all[k].name, want) == 0) return all[k];
  return all[n - 1];
}

const Q4_Kx8KernelEntry& q4k_chosen() {
  static const Q4_Kx8KernelEntry c = k_kernel_choice(q4_kx8_kernels_available);
  return c;
}

}  // namespace

bool q4_kx8_eligible(const WeightView& w) { return groups_eligible<BlockQ4_K>(w, GgmlType::Q4_K, QK_K); }

size_t q4_kx8_bytes(int64_t n_in, int64_t n_out) {
  return static_cast<size_t>(n_out / 8) * static_cast<size_t>(n_in / QK_K) * kQ4_Kx8RecordBytes;
}

void repack_q4_kx8(const WeightView& w, uint8_t* dst, int64_t g0, int64_t g1) {
  const int64_t nb = w.n_in / QK_K;
  const auto* src = static_cast<const uint8_t*>(w.data);
  for (int64_t g = g0; g < g1; ++g) {
    uint8_t* rec = dst + static_cast<size_t>(g * nb) * kQ4_Kx8RecordBytes;
    for (int64_t i = 0; i < nb; ++i, rec += kQ4_Kx8RecordBytes) {
      for (int r = 0; r < 8; ++r) {
        const auto* b = reinterpret_cast<const BlockQ4_K*>(src + static_cast<size_t>(g * 8 + r) * w.row_bytes) + i;
        std::memcpy(rec + 2 * r, &b->d, 2);
        std::memcpy(rec + kK4Dmin + 2 * r, &b->dmin, 2);
        for (int j = 0; j < 8; ++j) {
          uint8_t sc, mn;
          k4_scale_min(j, b->scales, &sc, &mn);
          rec[kK4Sc + 8 * j + r] = sc;
          rec[kK4Mn + 16 * (j / 2) + 2 * r + (j & 1)] = mn;
        }
        for (int c = 0; c < 4; ++c)
          for (int k = 0; k < 8; ++k) std::memcpy(rec + kK4Qs + 256 * c + 32 * k + 4 * r, b->qs + 32 * c + 4 * k, 4);
      }
    }
  }
}

void q8_k_block_aux(const void* act_row, int64_t nb, Q8KBlockAux* out) {
  const auto* y = static_cast<const BlockQ8_K*>(act_row);
  for (int64_t i = 0; i < nb; ++i) {
    out[i].d = y[i].d;
    for (int j = 0; j < 8; ++j) out[i].bsum[j] = static_cast<int16_t>(y[i].bsums[2 * j] + y[i].bsums[2 * j + 1]);
  }
}

Q4_Kx8Kernel q4_kx8_kernel() { return q4k_chosen().fn; }
const char* q4_kx8_kernel_name() { return q4k_chosen().name; }
Q4_Kx8Kernel q4_kx8_kernel_scalar() { return q4k_kernel_scalar; }

int q4_kx8_kernels_available(Q4_Kx8KernelEntry* out, int max) {
#ifdef AGORA_Q4_0X8_AVX2
  return k_kernels_available(q4k_kernel_scalar, q4k_kernel_avx2, q4_kx8_kernel_vnni, out, max);
#else
  return k_kernels_available(q4k_kernel_scalar, nullptr, nullptr, out, max);
#endif
}

}  // namespace agora

// ---- Q6_Kx8 -------------------------------------------------------------------------------------

namespace agora {
namespace {

constexpr size_t kK6Sc = 16, kK6Ql = 144, kK6Qh = 1168;

// Value 32G + 4k + b of row r (0..63, the quant + 32) in a record.
inline int q6x8_value(const uint8_t* rec, int r, int G, int k, int b) {
  const uint8_t l = rec[kK6Ql + 256 * (G / 2) + 32 * k + 4 * r + b];
  const uint8_t h = rec[kK6Qh + 256 * (G / 4) + 32 * k + 4 * r + b];
  return ((G & 1) ? l >> 4 : l & 0x0F) | (((h >> (2 * (G % 4))) & 3) << 4);
}

void q6k_kernel_scalar(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const Q8KBlockAux* aux,
                       size_t aux_row, int n_act, float* out, size_t out_stride) {
  for (int t = 0; t < n_act; ++t) {
    const auto* y = reinterpret_cast<const BlockQ8_K*>(act + static_cast<size_t>(t) * act_row);
    float acc[8] = {};
    for (int64_t i = 0; i < nb; ++i) {
      const uint8_t* rec = group + static_cast<size_t>(i) * kQ6_Kx8RecordBytes;
      for (int r = 0; r < 8; ++r) {
        int32_t sumi = 0;
        for (int j = 0; j < 16; ++j) {
          const int G = j / 2;
          int32_t dot = 0;
          for (int k = 4 * (j % 2); k < 4 * (j % 2) + 4; ++k)
            for (int b = 0; b < 4; ++b) dot += (q6x8_value(rec, r, G, k, b) - 32) * y[i].qs[32 * G + 4 * k + b];
          sumi += static_cast<int8_t>(rec[kK6Sc + 16 * G + 2 * r + j % 2]) * dot;
        }
        uint16_t dh;
        std::memcpy(&dh, rec + 2 * r, 2);
        const float d = aux[static_cast<size_t>(t) * aux_row + static_cast<size_t>(i)].d * fp16_to_fp32(dh);
        acc[r] = std::fma(d, static_cast<float>(sumi), acc[r]);
      }
    }
    for (int r = 0; r < 8; ++r) out[static_cast<size_t>(t) * out_stride + static_cast<size_t>(r)] = acc[r];
  }
}

#ifdef AGORA_Q4_0X8_AVX2
void q6k_kernel_avx2(int64_t nb, const uint8_t* group, const uint8_t* act, size_t act_row, const Q8KBlockAux* aux,
                     size_t aux_row, int n_act, float* out, size_t out_stride) {
  q6k_group<SubAvx2Wide>(nb, group, act, act_row, aux, aux_row, n_act, out, out_stride);
}
#endif

}  // namespace

bool q6_kx8_eligible(const WeightView& w) { return groups_eligible<BlockQ6_K>(w, GgmlType::Q6_K, QK_K); }

size_t q6_kx8_bytes(int64_t n_in, int64_t n_out) {
  return static_cast<size_t>(n_out / 8) * static_cast<size_t>(n_in / QK_K) * kQ6_Kx8RecordBytes;
}

void repack_q6_kx8(const WeightView& w, uint8_t* dst, int64_t g0, int64_t g1) {
  const int64_t nb = w.n_in / QK_K;
  const auto* src = static_cast<const uint8_t*>(w.data);
  int8_t q[QK_K];
  for (int64_t g = g0; g < g1; ++g) {
    uint8_t* rec = dst + static_cast<size_t>(g * nb) * kQ6_Kx8RecordBytes;
    for (int64_t i = 0; i < nb; ++i, rec += kQ6_Kx8RecordBytes) {
      std::memset(rec, 0, kQ6_Kx8RecordBytes);
      for (int r = 0; r < 8; ++r) {
        const auto* b = reinterpret_cast<const BlockQ6_K*>(src + static_cast<size_t>(g * 8 + r) * w.row_bytes) + i;
        std::memcpy(rec + 2 * r, &b->d, 2);
        for (int j = 0; j < 16; ++j) rec[kK6Sc + 16 * (j / 2) + 2 * r + j % 2] = static_cast<uint8_t>(b->scales[j]);
        unpack_q6_k(*b, q);
        for (int v = 0; v < QK_K; ++v) {
          const int u = q[v] + 32, G = v / 32, k = (v % 32) / 4, bb = v % 4;
          rec[kK6Ql + 256 * (G / 2) + 32 * k + 4 * r + bb] |= static_cast<uint8_t>((u & 0x0F) << (4 * (G & 1)));
          rec[kK6Qh + 256 * (G / 4) + 32 * k + 4 * r + bb] |= static_cast<uint8_t>((u >> 4) << (2 * (G % 4)));
        }
      }
    }
  }
}

Q4_Kx8Kernel q6_kx8_kernel() {
  static const Q4_Kx8Kernel k = k_kernel_choice(q6_kx8_kernels_available).fn;
  return k;
}
Q4_Kx8Kernel q6_kx8_kernel_scalar() { return q6k_kernel_scalar; }

int q6_kx8_kernels_available(Q4_Kx8KernelEntry* out, int max) {
#ifdef AGORA_Q4_0X8_AVX2
  return k_kernels_available(q6k_kernel_scalar, q6k_kernel_avx2, q6_kx8_kernel_vnni, out, max);
#else
  return k_kernels_available(q6k_kernel_scalar, nullptr, nullptr, out, max);
#endif
}

}  // namespace agora
