// What chat completions and completions share once a request is parsed: turning options into
// engine GenerateParams (validated against the model), submitting n choices, and pumping their
// events to the handler while watching for the client to go away.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "engine/backend.h"
#include "platform/api_error.h"
#include "platform/http/event_queue.h"
#include "platform/http/exchange.h"
#include "platform/limits.h"
#include "platform/metrics.h"
#include "platform/openai/generation_options.h"
#include "platform/openai/model_registry.h"

namespace agora::platform {

struct ChoiceEvent {
  int index = 0;
  Event event;
};
using ChoiceQueue = http::EventQueue<ChoiceEvent>;

// Engine parameters for one choice. Checks the prompt against the context (400
// context_length_exceeded naming both numbers, before any slot is taken), logit_bias token ids
// against the vocabulary, and clamps max_tokens to min(limit, n_ctx − prompt).
ApiResult<GenerateParams> make_generate_params(const ServedModel& m, const GenerationOptions& o,
                                               std::vector<int32_t> prompt, const ServerLimits& limits,
                                               const std::string& prompt_param);

// n params → one submission; when one fails (queue full, shutting down) the ones already
// submitted are cancelled and the error returned.
struct Submission {
  std::vector<std::shared_ptr<RequestHandle>> handles;
  void cancel_all() const {
    for (const auto& h : handles) h->cancel();
  }
};
ApiResult<Submission> submit_choices(Backend& backend, std::vector<GenerateParams> params,
                                     const std::shared_ptr<ChoiceQueue>& queue);

// Delivers every event to `on_event` until all `n` choices have finished; the SSE payloads the
// handler appends to `out` are sent (streaming) in order. Returns false when the client
// disconnected first; the caller then cancels the submission. Records TTFT, inter-token latency
// and token counts in `metrics`.
using ChoiceHandler = std::function<void(ChoiceEvent&, std::vector<std::string>& out)>;
boost::asio::awaitable<bool> pump_choices(http::Exchange& ex, ChoiceQueue& queue, int n, Metrics& metrics,
                                          const ChoiceHandler& on_event);

// "chatcmpl-…"/"cmpl-…": a prefix + 24 random hex digits.
std::string make_id(const char* prefix);
int64_t unix_now();
// The OpenAI finish_reason for an engine reason (cancelled/error map to "stop"; callers report
// errors separately).
const char* openai_finish_reason(FinishReason r);

}  // namespace agora::platform
