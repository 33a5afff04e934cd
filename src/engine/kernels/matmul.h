// Matrix product of a weight matrix (any GGUF type, used in place) with f32 activation rows.
//
//   WeightView w{type, data, n_in, n_out, row_bytes};
//   std::vector<uint8_t> scratch;                         // owned by the caller, reused
//   matmul(w, x, n_tok, y, pool, scratch);                // y[t*n_out + o] = dot(W[o], x[t])
//
// The activations are converted once per call to the weight type's vec_dot_type (type_ops) into
// `scratch`, which grows only when too small (size it once with matmul_scratch_bytes() to keep
// the hot path allocation-free). Output rows are split across the pool; each weight row is read
// from memory once for all n_tok tokens.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/kernels/thread_pool.h"
#include "engine/tensor/ggml_type.h"

namespace agora {

// How a matrix's bytes are laid out: as the GGUF file stores it (row after row), or repacked at
// load time for faster kernels (repacked.h: Q4_0, Q8_0, Q4_K or Q6_K, eight rows interleaved).
enum class WeightLayout : uint8_t { rows, q4_0x8, q8_0x8, q4_kx8, q6_kx8 };

// A weight matrix: n_out rows of n_in values. Layout `rows`: each row `row_bytes` apart (at least
// row_size(type, n_in)). n_in must be a multiple of the type's block size (and of its
// vec_dot_type's block size). The data is only read.
struct WeightView {
  GgmlType type;
  const void* data;
  int64_t n_in;
  int64_t n_out;
  size_t row_bytes;
  WeightLayout layout = WeightLayout::rows;
};

// Scratch bytes matmul needs for n_tok activation rows against `w`.
size_t matmul_scratch_bytes(const WeightView& w, int64_t n_tok);

// y[t*n_out + o] = sum_i W[o][i] * x[t*n_in + i] for t < n_tok, o < n_out (x and y row-major,
// not aliased). Uses type_ops(w.type). `scratch` may be resized (never shrunk).
void matmul(const WeightView& w, const float* x, int64_t n_tok, float* y, ThreadPool& pool,
            std::vector<uint8_t>& scratch);

}  // namespace agora
