// Paged KV cache: keys and values of every layer in fixed-size blocks from one pool.
//
// A block holds `block_size` consecutive positions of one sequence for all layers. Sequences
// map positions to blocks through their own block table (owned by the Context), so memory is
// used in block-size steps and full blocks can be shared between sequences (the prefix cache):
// a shared block is never written again — a sequence writes only into blocks it owns alone,
// which is why no copy-on-write is needed (see prefix_cache.h). Blocks are reference counted;
// a block returns to the free list when its last reference is dropped.
//
// Elements are F16 (default, as the reference engine), F32 or Q8_0. Layout: [layer][block][KV
// head][offset][head row]: one KV head's positions within a block are one contiguous run, which
// is what attention streams (a head's rows at one position of every head apart would be a
// strided walk through the whole cache). All memory is allocated once, in the constructor.
// Not thread-safe: owned and used by one engine thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/model_params.h"

namespace agora {

// f16 (default, as the reference engine), f32, or q8_0 (blocks of 32 int8 + an f16 scale: about
// half the memory of f16, for long contexts; needs head sizes that are multiples of 32).
enum class KvType { f16, f32, q8_0 };

class KvCache {
 public:
  KvCache(const ModelParams& p, int64_t n_blocks, int32_t block_size, KvType type);

  int64_t n_blocks() const { return n_blocks_; }
  int32_t block_size() const { return block_size_; }
  int64_t n_free() const { return static_cast<int64_t>(free_.size()); }
  int64_t n_used() const { return n_blocks_ - n_free(); }
  KvType type() const { return type_; }
  size_t elem_size() const { return type_ == KvType::f32 ? 4 : 2; }  // f16/f32 only
  // Bytes of the first `n` elements of a row (n a multiple of 32 for q8_0): the offset of a head.
  size_t row_bytes(int64_t n) const {
    return type_ == KvType::q8_0 ? static_cast<size_t>(n / 32) * 34 : static_cast<size_t>(n) * elem_size();
  }
  size_t bytes() const { return bytes_; }
  // What a pool of n_cells positions for model `p` takes, before allocating it.
  static size_t bytes_for(const ModelParams& p, int64_t n_cells, KvType type) {
    auto row = [&](int64_t n) {
      return type == KvType::q8_0 ? static_cast<size_t>(n / 32) * 34 : static_cast<size_t>(n) * (type == KvType::f32 ? 4 : 2);
    };
    return static_cast<size_t>(p.n_layer) * static_cast<size_t>(n_cells) * (row(p.n_embd_k_gqa()) + row(p.n_embd_v_gqa()));
  }

  // A free block with refcount 1, or -1 when the pool is empty.
  int32_t alloc();
  void ref(int32_t block) { ++refs_[static_cast<size_t>(block)]; }
  // Drops one reference; the block is free again at zero.
  void unref(int32_t block);
  int32_t refcount(int32_t block) const { return refs_[static_cast<size_t>(block)]; }

  // KV head h's row of K / V (head_dim_k / head_dim_v elements) at (layer, block, offset); the
  // rows of offsets 0.. of a block follow each other.
  uint8_t* k_head(int64_t il, int64_t block, int64_t off, int64_t h) {
    return k_ + ((static_cast<size_t>(il) * n_blocks_ + block) * n_kv_ * block_size_ + h * block_size_ + off) * k_head_;
  }
  uint8_t* v_head(int64_t il, int64_t block, int64_t off, int64_t h) {
    return v_ + ((static_cast<size_t>(il) * n_blocks_ + block) * n_kv_ * block_size_ + h * block_size_ + off) * v_head_;
  }
  int64_t n_kv_heads() const { return n_kv_; }

 private:
  int64_t n_blocks_;
  int32_t block_size_;
  int64_t n_cells_;
  KvType type_;
  int64_t n_kv_;
  size_t k_head_, v_head_;  // bytes of one head's row
  size_t bytes_ = 0;
  std::unique_ptr<uint8_t[]> buf_;
  uint8_t* k_ = nullptr;
  uint8_t* v_ = nullptr;
  std::vector<int32_t> refs_;
  std::vector<int32_t> free_;  // stack of free block ids
};

}  // namespace agora
