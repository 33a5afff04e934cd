// KV cache: keys and values of every layer for a fixed set of sequences.
//
// This is the simple contiguous layout: each sequence owns n_ctx positions per layer, stored
// [seq][layer][pos][n_embd_kv]. Elements are F16 (the default, as the reference engine) or F32.
// The owner writes position `pos` of a sequence before any query at pos' >= pos reads it.
// TODO(kv-paged): replace with fixed-size blocks + prefix tree for continuous batching.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/model_params.h"

namespace agora {

enum class KvType { f16, f32 };

class KvCache {
 public:
  KvCache(const ModelParams& p, int n_seq, int64_t n_ctx, KvType type);

  int n_seq() const { return n_seq_; }
  int64_t n_ctx() const { return n_ctx_; }
  KvType type() const { return type_; }
  size_t elem_size() const { return type_ == KvType::f16 ? 2 : 4; }
  size_t bytes() const { return bytes_; }

  // Row of K / V (n_embd_k_gqa / n_embd_v_gqa elements) for (layer, seq, pos).
  uint8_t* k_row(int64_t il, int seq, int64_t pos) { return k_ + offset(il, seq, pos, dk_); }
  uint8_t* v_row(int64_t il, int seq, int64_t pos) { return v_ + offset(il, seq, pos, dv_); }
  size_t k_stride() const { return static_cast<size_t>(dk_) * elem_size(); }  // bytes between positions
  size_t v_stride() const { return static_cast<size_t>(dv_) * elem_size(); }

 private:
  size_t offset(int64_t il, int seq, int64_t pos, int64_t d) const {
    return ((static_cast<size_t>(seq) * n_layer_ + il) * n_ctx_ + pos) * d * elem_size();
  }
  int n_seq_;
  int64_t n_ctx_, n_layer_, dk_, dv_;
  KvType type_;
  size_t bytes_ = 0;
  std::unique_ptr<uint8_t[]> buf_;
  uint8_t* k_ = nullptr;
  uint8_t* v_ = nullptr;
};

}  // namespace agora
