// Backend: the engine's request API, the narrow interface between platform and engine.
//
//   auto h = backend.generate(params, [](Event&& e) { ... });   // returns at once
//   ...
//   h.value()->cancel();                                       // any time, any thread
//
// generate() validates and enqueues the request and returns a handle, or an error at once:
// resource_exhausted when the queue is full (HTTP 429), out_of_range when the prompt does not
// fit the context (the message names both numbers), unavailable while shutting down (503).
// Events then arrive on the engine's thread, in order: zero or more `token` events, then
// exactly one `finish` event (also after cancel(), with reason `cancelled`). Sinks must not
// block: hand the event to your own thread or I/O loop. Thread-safe: any thread may submit or
// cancel. Text deltas are valid UTF-8; stop strings are never part of the text.
//
// Implementations: Scheduler (scheduler.h, the local engine); upstream OpenAI-compatible
// engines later implement the same interface.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/sample/sampler.h"
#include "engine/util/status.h"

namespace agora {

struct Grammar;

enum class FinishReason { stop, length, cancelled, error };
const char* finish_reason_name(FinishReason r);

struct TokenLogprob {
  int32_t token = -1;
  std::string text;  // the token's bytes (may be a partial UTF-8 sequence)
  float logprob = 0.0f;
};

struct GenerateParams {
  std::vector<int32_t> prompt;  // token ids, BOS included when the model wants it
  SamplingParams sampling;
  int32_t max_tokens = -1;          // -1: until the context is full
  std::vector<std::string> stop;    // stop strings: generation ends before them
  bool ignore_eos = false;
  int32_t top_logprobs = -1;        // -1: none; 0..20: the chosen token's logprob (+ N alternatives)
  std::shared_ptr<const Grammar> grammar;  // optional: output must match it (EOG only when complete)
  std::vector<int32_t> extra_eog;   // more end-of-generation tokens (e.g. a template's end-of-turn)
};

struct Usage {
  int32_t prompt_tokens = 0;
  int32_t completion_tokens = 0;
  int32_t cached_tokens = 0;  // prompt tokens served from the prefix cache
};

struct Event {
  enum class Kind { token, finish };
  Kind kind = Kind::token;
  // token
  int32_t token = -1;
  std::string text;  // text that became final with this token (may be empty)
  float logprob = 0.0f;
  std::vector<TokenLogprob> top_logprobs;
  // finish
  FinishReason finish_reason = FinishReason::stop;
  std::string error;      // set when finish_reason == error
  Usage usage;
  double time_to_first_token_s = 0.0;  // from submit to the first token event
};

using EventSink = std::function<void(Event&&)>;

enum class Pooling { none, mean, cls, last };

struct EmbedParams {
  std::vector<int32_t> tokens;
  Pooling pooling = Pooling::none;  // `none` = the model's default (GGUF pooling_type; mean for generative models)
  bool normalize = true;            // L2-normalise the result
};

struct EmbedResult {
  Status status;
  std::vector<float> embedding;
  int32_t n_tokens = 0;
};
using EmbedSink = std::function<void(EmbedResult&&)>;

class RequestHandle {
 public:
  virtual ~RequestHandle() = default;
  // Stops the request: a queued request never runs; a running one leaves the batch at the next
  // step and its KV blocks are freed. Idempotent.
  virtual void cancel() = 0;
  virtual uint64_t id() const = 0;
};

struct BackendStats {
  int n_running = 0;
  int n_queued = 0;
  int64_t kv_blocks_total = 0;
  int64_t kv_blocks_used = 0;
  int64_t prefix_cache_lookups = 0;   // prompt tokens looked up
  int64_t prefix_cache_hits = 0;      // prompt tokens found cached
  int64_t tokens_generated = 0;
  int64_t tokens_prompt = 0;
  int64_t preemptions = 0;  // sequences evicted from the KV cache and recomputed later
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Result<std::shared_ptr<RequestHandle>> generate(GenerateParams params, EventSink sink) = 0;
  virtual Result<std::shared_ptr<RequestHandle>> embed(EmbedParams params, EmbedSink sink) = 0;
  virtual BackendStats stats() const = 0;
  virtual int64_t n_ctx() const = 0;          // context positions per sequence
  virtual int64_t n_embd() const = 0;         // embedding width
  // Stops accepting requests (generate → unavailable); running ones finish. drain() waits.
  virtual void begin_shutdown() = 0;
};

}  // namespace agora
