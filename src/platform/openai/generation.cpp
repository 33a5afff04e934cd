#include "platform/openai/generation.h"

#include <chrono>
#include <random>

#include <boost/asio/experimental/awaitable_operators.hpp>

namespace agora::platform {

namespace net = boost::asio;

ApiResult<GenerateParams> make_generate_params(const ServedModel& m, const GenerationOptions& o,
                                               std::vector<int32_t> prompt, const ServerLimits& limits,
                                               const std::string& prompt_param) {
  const int64_t n_ctx = m.backend->n_ctx();
  const int64_t n_prompt = static_cast<int64_t>(prompt.size());
  if (n_prompt == 0) return ApiError::invalid(prompt_param, "The prompt is empty.");
  for (int32_t t : prompt)
    if (!m.vocab->valid(t))
      return ApiError::invalid(prompt_param, "Token id " + std::to_string(t) + " is outside the vocabulary (" +
                                                 std::to_string(m.vocab->n_tokens()) + " tokens).");
  if (n_prompt >= n_ctx)
    return ApiError{ApiErrorKind::context_length_exceeded,
                    "This model's maximum context length is " + std::to_string(n_ctx) + " tokens. However, your " +
                        (prompt_param == "messages" ? "messages" : "prompt") + " resulted in " +
                        std::to_string(n_prompt) + " tokens. Please reduce the length of the " +
                        (prompt_param == "messages" ? "messages." : "prompt."),
                    prompt_param};
  GenerateParams p;
  p.prompt = std::move(prompt);
  SamplingParams& s = p.sampling;
  s.temperature = o.temperature;
  s.top_p = o.top_p;
  s.top_k = o.top_k;
  s.min_p = o.min_p;
  s.repeat_penalty = o.repeat_penalty;
  s.presence_penalty = o.presence_penalty;
  s.frequency_penalty = o.frequency_penalty;
  s.seed = o.seed ? *o.seed : std::random_device{}();
  for (const auto& [tok, bias] : o.logit_bias) {
    if (!m.vocab->valid(tok))
      return ApiError::invalid("logit_bias", "logit_bias token id " + std::to_string(tok) + " is outside the vocabulary.");
    // OpenAI: -100 bans, 100 forces; in between shifts the logit.
    s.logit_bias.emplace_back(tok, bias <= -100.0f ? -std::numeric_limits<float>::infinity() : bias);
  }
  const int64_t room = n_ctx - n_prompt;
  int64_t max_tokens = o.max_tokens ? *o.max_tokens : room;
  max_tokens = std::min<int64_t>({max_tokens, room, limits.max_tokens_cap});
  p.max_tokens = static_cast<int32_t>(max_tokens);
  p.stop = o.stop;
  p.ignore_eos = o.ignore_eos;
  p.top_logprobs = o.top_logprobs;
  p.extra_eog = m.extra_eog;
  return p;
}

ApiResult<Submission> submit_choices(Backend& backend, std::vector<GenerateParams> params,
                                     const std::shared_ptr<ChoiceQueue>& queue) {
  Submission sub;
  for (size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i);
    auto h = backend.generate(std::move(params[i]), [queue, index](Event&& e) { queue->push({index, std::move(e)}); });
    if (!h.ok()) {
      sub.cancel_all();
      return ApiError::from_status(h.status());
    }
    sub.handles.push_back(std::move(h.value()));
  }
  return sub;
}

boost::asio::awaitable<bool> pump_choices(http::Exchange& ex, ChoiceQueue& queue, int n, Metrics& metrics,
                                          const ChoiceHandler& on_event) {
  using namespace boost::asio::experimental::awaitable_operators;
  using clock = std::chrono::steady_clock;
  std::vector<clock::time_point> last(n);
  std::vector<bool> seen(n, false);
  bool done = false;
  std::vector<std::string> out;
  auto pump = [&]() -> net::awaitable<void> {
    try {
      int finished = 0;
      while (finished < n) {
        auto batch = co_await queue.pop_all();
        for (auto& ce : batch) {
          if (ce.index < 0 || ce.index >= n) continue;
          if (ce.event.kind == Event::Kind::token) {
            const auto now = clock::now();
            if (seen[ce.index]) metrics.observe_itl(std::chrono::duration<double>(now - last[ce.index]).count());
            seen[ce.index] = true;
            last[ce.index] = now;
          } else {
            ++finished;
            metrics.observe_ttft(ce.event.time_to_first_token_s);
            metrics.count_tokens(ce.event.usage.prompt_tokens, ce.event.usage.completion_tokens);
          }
          out.clear();
          on_event(ce, out);
          for (const auto& payload : out)
            if (!co_await ex.send_event(payload)) co_return;
        }
        if (ex.client_gone()) co_return;  // a write failed
      }
      done = true;
    } catch (const boost::system::system_error&) {
      // cancelled by the disconnect watcher
    }
  };
  co_await (pump() || ex.wait_disconnect());
  co_return done && !ex.client_gone();
}

std::string make_id(const char* prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string id = prefix;
  for (int i = 0; i < 24; ++i) id += hex[rng() & 15];
  return id;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

const char* openai_finish_reason(FinishReason r) {
  switch (r) {
    case FinishReason::length: return "length";
    default: return "stop";
  }
}

}  // namespace agora::platform
