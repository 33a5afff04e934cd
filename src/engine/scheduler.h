// Scheduler: the local engine behind the Backend interface — continuous batching over a paged
// KV cache with a prefix cache.
//
//   auto sched = Scheduler::create(model, vocab, {.n_parallel = 4});
//   auto h = sched.value()->generate(params, sink);     // from any thread
//
// Thread model: one engine thread owns the Context (KV cache, scratch) and every running
// sequence; it runs one forward pass per step over all active sequences. Callers on other
// threads only enqueue requests and set cancel flags; events are delivered on the engine thread.
//
// Each step: cancelled requests leave (a queued one never runs; a running one frees its blocks);
// free slots admit queued requests in arrival order, reusing the longest cached prefix; then the
// batch is built with one token for every decoding sequence first and prompt chunks after, under
// the per-step token budget (n_batch), round-robin among prefilling requests so a long prompt does
// not stall the others. When the KV pool runs out, cached prefixes are evicted (LRU), then the
// most recently admitted sequence is preempted: its blocks are freed and it is re-queued at the
// front, to be recomputed from its tokens — never an out-of-memory failure.
//
// Batch invariance: every token's attention and matrix rows are computed independently of the
// rest of the batch, and each request samples with its own seeded RNG, so a request's tokens do
// not depend on what else runs.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/backend.h"
#include "engine/context.h"
#include "engine/kv/prefix_cache.h"
#include "engine/model.h"
#include "engine/vocab/vocab.h"

namespace agora {

class GrammarVocab;

struct SchedulerParams {
  int n_parallel = 4;        // sequences decoding at once
  int64_t n_ctx = 0;         // positions per sequence; 0 = min(training context, 4096)
  int64_t kv_tokens = 0;     // KV pool in tokens; 0 = n_parallel * n_ctx (at least n_ctx)
  int64_t n_batch = 512;     // tokens per step (decode tokens + prompt chunks)
  KvType kv_type = KvType::f16;
  int n_threads = 0;         // 0 = physical cores
  int max_queue = 64;        // waiting requests beyond this are refused (resource_exhausted)
  bool prefix_cache = true;
  int32_t block_size = 16;
};

class Scheduler final : public Backend {
 public:
  static Result<std::unique_ptr<Scheduler>> create(const Model& model, const Vocab& vocab, SchedulerParams params);
  ~Scheduler() override;  // cancels everything still running and joins the engine thread

  Result<std::shared_ptr<RequestHandle>> generate(GenerateParams params, EventSink sink) override;
  Result<std::shared_ptr<RequestHandle>> embed(EmbedParams params, EmbedSink sink) override;
  BackendStats stats() const override;
  int64_t n_ctx() const override { return params_.n_ctx; }
  int64_t n_embd() const override { return model_.params().n_embd; }
  void begin_shutdown() override;

  const SchedulerParams& params() const { return params_; }
  // Blocks until no request is queued or running (tests and benchmarks).
  void wait_idle();
  // KV blocks referenced by running sequences (excluding the prefix cache), and by the cache.
  int64_t kv_blocks_in_sequences() const { return blocks_in_seqs_.load(); }
  int64_t kv_blocks_in_cache() const { return blocks_in_cache_.load(); }
  // Blocks of the pool not free (as of the last step): sequences + prefix cache, shared counted once.
  int64_t kv_pool_used() const { return pool_used_.load(); }
  void clear_prefix_cache();  // waits for the engine thread to drop every cached block

 private:
  struct Req;
  struct Shared;
  Scheduler(const Model& m, const Vocab& v, SchedulerParams p) : model_(m), vocab_(v), params_(p) {}
  Result<std::shared_ptr<RequestHandle>> enqueue(std::shared_ptr<Req> r);
  void loop();
  bool step();  // one engine step; false when there was nothing to do
  void admit();
  void finish(Req& r, FinishReason reason, std::string error = {});
  void release(Req& r, bool cache_prefix);
  void preempt(Req& r);
  void sample_and_emit(Req& r, const float* logits);
  void run_embedding(Req& r);
  void emit_text(Req& r, std::string text, Event& ev);
  Status build_grammar_vocab();
  void update_stats();

  const Model& model_;
  const Vocab& vocab_;
  SchedulerParams params_;
  std::unique_ptr<Context> ctx_;
  std::unique_ptr<PrefixCache> cache_;
  std::shared_ptr<const GrammarVocab> grammar_vocab_;
  std::vector<uint8_t> is_eog_;

  std::shared_ptr<Shared> shared_;  // queue + wakeup, shared with request handles
  std::thread thread_;
  // engine-thread state
  std::deque<std::shared_ptr<Req>> waiting_;
  std::vector<std::shared_ptr<Req>> running_;
  std::vector<int> free_slots_;
  uint64_t admit_counter_ = 0;
  size_t rr_ = 0;  // round-robin start among prefilling requests
  std::vector<float> logprob_scratch_;

  // stats (written by the engine thread)
  std::atomic<int> n_running_{0}, n_queued_{0};
  std::atomic<int64_t> blocks_in_seqs_{0}, blocks_in_cache_{0}, pool_used_{0};
  std::atomic<int64_t> cache_lookups_{0}, cache_hits_{0}, tokens_generated_{0}, tokens_prompt_{0}, preemptions_{0};
  std::atomic<uint64_t> next_id_{1};
};

}  // namespace agora
