#include "engine/kernels/type_ops.h"

#include <array>

#include "engine/kernels/vec_dot.h"
#include "engine/util/cpu_features.h"
#include "engine/tensor/dequantize.h"
#include "engine/tensor/quantize.h"

// The AVX2 kernels exist when the build targets AVX2+FMA+F16C (the default -march=x86-64-v3);
// AGORA_PORTABLE builds are scalar only.
#if !defined(AGORA_PORTABLE) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define AGORA_HAVE_AVX2 1
#endif

namespace agora {
namespace {

constexpr size_t kNumSlots = 31;  // GgmlType values are < 31

using Table = std::array<TypeOps, kNumSlots>;

void set(Table& t, GgmlType type, GgmlType vdt, ToFloatFn tf, FromFloatFn ff, VecDotFn vd) {
  t[static_cast<size_t>(type)] = TypeOps{type, vdt, tf, ff, vd, nullptr, nullptr};
}

Table make_scalar_table() {
  Table t{};
  using T = GgmlType;
  set(t, T::F32, T::F32, dequantize_row_f32, quantize_row_f32, vec_dot_f32_f32_scalar);
  set(t, T::F16, T::F16, dequantize_row_f16, quantize_row_f16, vec_dot_f16_f16_scalar);
  set(t, T::BF16, T::BF16, dequantize_row_bf16, quantize_row_bf16, vec_dot_bf16_bf16_scalar);
  set(t, T::Q4_0, T::Q8_0, dequantize_row_q4_0, quantize_row_q4_0, vec_dot_q4_0_q8_0_scalar);
  set(t, T::Q4_1, T::Q8_1, dequantize_row_q4_1, quantize_row_q4_1, vec_dot_q4_1_q8_1_scalar);
  set(t, T::Q5_0, T::Q8_0, dequantize_row_q5_0, quantize_row_q5_0, vec_dot_q5_0_q8_0_scalar);
  set(t, T::Q5_1, T::Q8_1, dequantize_row_q5_1, quantize_row_q5_1, vec_dot_q5_1_q8_1_scalar);
  set(t, T::Q8_0, T::Q8_0, dequantize_row_q8_0, quantize_row_q8_0, vec_dot_q8_0_q8_0_scalar);
  // Q8_1 and Q8_K are activation formats only: no weight-side dot product.
  set(t, T::Q8_1, T::Q8_1, dequantize_row_q8_1, quantize_row_q8_1, nullptr);
  set(t, T::Q8_K, T::Q8_K, dequantize_row_q8_k, quantize_row_q8_k, nullptr);
  set(t, T::Q2_K, T::Q8_K, dequantize_row_q2_k, quantize_row_fn(T::Q2_K), vec_dot_q2_k_q8_k_scalar);
  set(t, T::Q3_K, T::Q8_K, dequantize_row_q3_k, quantize_row_fn(T::Q3_K), vec_dot_q3_k_q8_k_scalar);
  set(t, T::Q4_K, T::Q8_K, dequantize_row_q4_k, quantize_row_fn(T::Q4_K), vec_dot_q4_k_q8_k_scalar);
  set(t, T::Q5_K, T::Q8_K, dequantize_row_q5_k, quantize_row_fn(T::Q5_K), vec_dot_q5_k_q8_k_scalar);
  set(t, T::Q6_K, T::Q8_K, dequantize_row_q6_k, quantize_row_fn(T::Q6_K), vec_dot_q6_k_q8_k_scalar);
  set(t, T::IQ4_NL, T::Q8_0, dequantize_row_iq4_nl, nullptr, vec_dot_iq4_nl_q8_0_scalar);
  set(t, T::IQ4_XS, T::Q8_K, dequantize_row_iq4_xs, nullptr, vec_dot_iq4_xs_q8_k_scalar);
  return t;
}

#ifdef AGORA_HAVE_AVX2
bool cpu_has_avx2() {
  return cpu_has_avx2_fma_f16c();
}

Table make_avx2_table() {
  Table t = make_scalar_table();
  using T = GgmlType;
  auto vd = [&](T type, VecDotFn f) { t[static_cast<size_t>(type)].vec_dot = f; };
  auto ff = [&](T type, FromFloatFn f) { t[static_cast<size_t>(type)].from_float = f; };
  auto vm = [&](T type, VecDotMultiFn f) { t[static_cast<size_t>(type)].vec_dot_multi = f; };
  vd(T::F32, vec_dot_f32_f32_avx2);
  vd(T::F16, vec_dot_f16_f16_avx2);
  vd(T::BF16, vec_dot_bf16_bf16_avx2);
  vd(T::Q4_0, vec_dot_q4_0_q8_0_avx2);
  vd(T::Q4_1, vec_dot_q4_1_q8_1_avx2);
  vd(T::Q5_0, vec_dot_q5_0_q8_0_avx2);
  vd(T::Q5_1, vec_dot_q5_1_q8_1_avx2);
  vd(T::Q8_0, vec_dot_q8_0_q8_0_avx2);
  vd(T::IQ4_NL, vec_dot_iq4_nl_q8_0_avx2);
  vd(T::Q2_K, vec_dot_q2_k_q8_k_avx2);
  vd(T::Q3_K, vec_dot_q3_k_q8_k_avx2);
  vd(T::Q4_K, vec_dot_q4_k_q8_k_avx2);
  vd(T::Q5_K, vec_dot_q5_k_q8_k_avx2);
  vd(T::Q6_K, vec_dot_q6_k_q8_k_avx2);
  vd(T::IQ4_XS, vec_dot_iq4_xs_q8_k_avx2);
  vm(T::F16, vec_dot_multi_f16_f16_avx2);
  t[static_cast<size_t>(T::Q4_0)].vec_dot_rows8 = vec_dot_rows8_q4_0_q8_0_avx2;
  t[static_cast<size_t>(T::Q8_0)].vec_dot_rows8 = vec_dot_rows8_q8_0_q8_0_avx2;
  vm(T::Q4_1, vec_dot_multi_q4_1_q8_1_avx2);
  vm(T::Q5_0, vec_dot_multi_q5_0_q8_0_avx2);
  vm(T::Q5_1, vec_dot_multi_q5_1_q8_1_avx2);
  vm(T::IQ4_NL, vec_dot_multi_iq4_nl_q8_0_avx2);
  vm(T::Q2_K, vec_dot_multi_q2_k_q8_k_avx2);
  vm(T::Q3_K, vec_dot_multi_q3_k_q8_k_avx2);
  vm(T::Q4_K, vec_dot_multi_q4_k_q8_k_avx2);
  vm(T::Q5_K, vec_dot_multi_q5_k_q8_k_avx2);
  vm(T::Q6_K, vec_dot_multi_q6_k_q8_k_avx2);
  vm(T::IQ4_XS, vec_dot_multi_iq4_xs_q8_k_avx2);
  ff(T::F16, quantize_row_f16_avx2);
  ff(T::Q8_0, quantize_row_q8_0_avx2);
  ff(T::Q8_1, quantize_row_q8_1_avx2);
  ff(T::Q8_K, quantize_row_q8_k_avx2);
  return t;
}
#endif

const Table& scalar_table() {
  static const Table t = make_scalar_table();
  return t;
}

struct Fast {
  bool avx2 = false;
  Table table;
};

const Fast& fast() {
  static const Fast f = [] {
    Fast r;
#ifdef AGORA_HAVE_AVX2
    if (cpu_has_avx2()) {
      r.avx2 = true;
      r.table = make_avx2_table();
      return r;
    }
#endif
    r.table = make_scalar_table();
    return r;
  }();
  return f;
}

}  // namespace

const TypeOps& type_ops(GgmlType type) { return fast().table[static_cast<size_t>(type)]; }
const TypeOps& type_ops_scalar(GgmlType type) { return scalar_table()[static_cast<size_t>(type)]; }
bool kernels_use_avx2() { return fast().avx2; }

}  // namespace agora
