#include "engine/kv/kv_cache.h"

#include <cstring>

namespace agora {

KvCache::KvCache(const ModelParams& p, int n_seq, int64_t n_ctx, KvType type)
    : n_seq_(n_seq), n_ctx_(n_ctx), n_layer_(p.n_layer), dk_(p.n_embd_k_gqa()), dv_(p.n_embd_v_gqa()), type_(type) {
  const size_t per = static_cast<size_t>(n_seq) * n_layer_ * n_ctx_ * elem_size();
  const size_t kb = per * dk_, vb = per * dv_;
  bytes_ = kb + vb;
  buf_ = std::make_unique<uint8_t[]>(bytes_);
  std::memset(buf_.get(), 0, bytes_);
  k_ = buf_.get();
  v_ = buf_.get() + kb;
}

}  // namespace agora
