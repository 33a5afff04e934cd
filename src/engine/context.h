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
  int n_seq = 1;         // sequence slots
  int64_t n_batch = 512; // entries per forward pass (larger batches are split)
  KvType kv_type = KvType::f16;
  int n_threads = 0;     // 0 = physical cores
  int64_t kv_blocks = 0;     // KV pool size in blocks; 0 = enough for n_seq full contexts
  int32_t block_size = 16;   // positions per KV block
  // Sum attention in the reference engine's order, which differs between multi-token and
  // single-token passes (for the parity tests). Off by default: results then never depend on
  // what else is in the batch (batch invariance).
  bool reference_order = false;
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
  // Missing KV blocks for the entries' positions are allocated first; when the pool runs out
  // the call fails with resource_exhausted and nothing changes.
  Result<std::span<const float>> decode(std::span<const BatchEntry> batch);
  // Same pass, but returns the final hidden states (after the output norm), n_embd floats per
  // entry that asks for output — the input of embedding pooling.
  Result<std::span<const float>> decode_hidden(std::span<const BatchEntry> batch);

  // ---- KV block tables (one per sequence slot) ----
  // Makes sure positions [0, n_pos) of `seq` have blocks. resource_exhausted when the pool is out.
  Status reserve(int seq, int64_t n_pos);
  // Drops the sequence's blocks (their references); the slot is empty afterwards.
  void clear_seq(int seq);
  // Starts `seq` (which must be empty) with shared, already computed blocks; takes over one
  // reference per block from the caller.
  void adopt_blocks(int seq, const std::vector<int32_t>& blocks);
  const std::vector<int32_t>& seq_blocks(int seq) const { return tables_[static_cast<size_t>(seq)]; }

  const Model& model() const { return model_; }
  const ContextParams& params() const { return params_; }
  KvCache& kv() { return *kv_; }
  ThreadPool& pool() { return *pool_; }

 private:
  Context(const Model& m, ContextParams p) : model_(m), params_(p) {}
  Result<std::span<const float>> run(std::span<const BatchEntry> batch, bool hidden);
  void forward_chunk(std::span<const BatchEntry> batch, float* out, bool hidden);
  // Encoder models (bert): bidirectional attention within each sequence of the batch; the whole
  // sequence must be in the batch. Writes the final hidden states of the flagged entries.
  void forward_encoder(std::span<const BatchEntry> batch, float* out);
  // KV head h's K / V row for (layer, sequence, position): its block from the sequence's table.
  uint8_t* k_row(int64_t il, int seq, int64_t pos, int64_t h) const {
    const int32_t bs = kv_->block_size();
    return kv_->k_head(il, tables_[static_cast<size_t>(seq)][static_cast<size_t>(pos / bs)], pos % bs, h);
  }
  uint8_t* v_row(int64_t il, int seq, int64_t pos, int64_t h) const {
    const int32_t bs = kv_->block_size();
    return kv_->v_head(il, tables_[static_cast<size_t>(seq)][static_cast<size_t>(pos / bs)], pos % bs, h);
  }
  void attention(int64_t il, std::span<const BatchEntry> batch);
  void attend_one(int64_t il, const BatchEntry& e, int64_t t, int64_t h, bool gemm);
  void attend_token(int64_t il, std::span<const BatchEntry> batch, int64_t t, int64_t kvh);
  void attend_tile(int64_t il, std::span<const BatchEntry> batch, int64_t kvh, int64_t t0, int64_t t1);

  const Model& model_;
  ContextParams params_;
  std::unique_ptr<KvCache> kv_;
  std::unique_ptr<ThreadPool> pool_;
  std::vector<uint8_t> mm_scratch_;
  // Activations, n_batch rows each.
  std::vector<float> x_, xn_, qkv_, q_, k_, v_, attn_, o_, gate_, up_, out_rows_;
  std::vector<float> logits_;
  std::vector<std::vector<int32_t>> tables_;
  std::vector<int64_t> tiles_;  // attention: first entry of each query tile, then the batch size
};

}  // namespace agora
