#include "engine/kv/kv_cache.h"

#include <cstring>

namespace agora {

KvCache::KvCache(const ModelParams& p, int64_t n_blocks, int32_t block_size, KvType type)
    : n_blocks_(n_blocks), block_size_(block_size), n_cells_(n_blocks * block_size), type_(type) {
  n_kv_ = p.n_head_kv;
  k_head_ = row_bytes(p.head_dim_k);
  v_head_ = row_bytes(p.head_dim_v);
  const size_t kb = static_cast<size_t>(p.n_layer) * n_cells_ * static_cast<size_t>(n_kv_) * k_head_;
  const size_t vb = static_cast<size_t>(p.n_layer) * n_cells_ * static_cast<size_t>(n_kv_) * v_head_;
  bytes_ = kb + vb;
  buf_ = std::make_unique<uint8_t[]>(bytes_);
  std::memset(buf_.get(), 0, bytes_);
  k_ = buf_.get();
  v_ = buf_.get() + kb;
  refs_.assign(static_cast<size_t>(n_blocks), 0);
  free_.reserve(static_cast<size_t>(n_blocks));
  for (int64_t b = n_blocks - 1; b >= 0; --b) free_.push_back(static_cast<int32_t>(b));
}

int32_t KvCache::alloc() {
  if (free_.empty()) return -1;
  int32_t b = free_.back();
  free_.pop_back();
  refs_[static_cast<size_t>(b)] = 1;
  return b;
}

void KvCache::unref(int32_t block) {
  int32_t& r = refs_[static_cast<size_t>(block)];
  if (r <= 0) return;  // defensive: never double-free
  if (--r == 0) free_.push_back(block);
}

}  // namespace agora
