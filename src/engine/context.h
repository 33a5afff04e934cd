// Context: the mutable state that runs a Model — KV cache, scratch buffers, thread pool.
//
// decode() runs one forward pass over a batch of (token, position, sequence) entries. Entries
// of several sequences may be mixed (prefill of one prompt with decode steps of others); within
// a sequence, positions must be increasing and every earlier position must already be in the
// cache (or earlier in the same batch). Logits are returned for the entries that ask for them,
// in batch order.
//
// Thread safety: one thread drives a Context at a time. All buffers are allocated in create();
// decode() does not allocate (except to grow a per-thread attention buffer once).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "engine/kernels/thread_pool.h"
#include "engine/kv/kv_cache.h"
#include "engine/model.h"
#include "engine/util/status.h"

namespace agora {

struct ContextParams {
  int64_t n_ctx = 0;     // positions per sequence; 0 = min(model's training context, 4096)
  int n_seq = 1;         // sequences held in the KV cache
  int64_t n_batch = 512; // entries per forward pass (larger batches are split)
  KvType kv_type = KvType::f16;
  int n_threads = 0;     // 0 = physical cores
};

struct BatchEntry {
  int32_t token = 0;
  int32_t pos = 0;
  int32_t seq = 0;
  bool logits = false;
};

class Context {
 public:
  static Result<std::unique_ptr<Context>> create(const Model& model, ContextParams params);

  // Runs the batch. On success returns (n_logits × n_vocab) floats, valid until the next call.
  // On a bad entry (token/pos/seq out of range) nothing is computed and the cache is unchanged.
  Result<std::span<const float>> decode(std::span<const BatchEntry> batch);

  const Model& model() const { return model_; }
  const ContextParams& params() const { return params_; }
  KvCache& kv() { return *kv_; }
  ThreadPool& pool() { return *pool_; }

 private:
  Context(const Model& m, ContextParams p) : model_(m), params_(p) {}
  void forward_chunk(std::span<const BatchEntry> batch, float* logits_out);
  void attention(int64_t il, std::span<const BatchEntry> batch);

  const Model& model_;
  ContextParams params_;
  std::unique_ptr<KvCache> kv_;
  std::unique_ptr<ThreadPool> pool_;
  std::vector<uint8_t> mm_scratch_;
  // Activations, n_batch rows each.
  std::vector<float> x_, xn_, qkv_, q_, k_, v_, attn_, o_, gate_, up_, out_rows_;
  std::vector<float> logits_;
};

}  // namespace agora
