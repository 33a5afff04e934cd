#include "platform/openai/generation_options.h"

#include <cerrno>
#include <cstdlib>

namespace agora::platform {

void read_generation_options(FieldReader& r, const nlohmann::json& obj, LogprobsStyle style,
                             const ServerLimits& limits, GenerationOptions& o) {
  r.read("temperature", o.temperature, 0.0, 2.0);
  r.read("top_p", o.top_p, 0.0, 1.0);
  int64_t top_k = 0;
  if (r.read("top_k", top_k, 0, 1 << 20)) o.top_k = static_cast<int32_t>(top_k);
  r.read("min_p", o.min_p, 0.0, 1.0);
  r.read("repeat_penalty", o.repeat_penalty, 0.0, 10.0);
  r.read("presence_penalty", o.presence_penalty, -2.0, 2.0);
  r.read("frequency_penalty", o.frequency_penalty, -2.0, 2.0);
  int64_t seed = 0;
  if (r.read("seed", seed, INT64_MIN, INT64_MAX)) o.seed = static_cast<uint64_t>(seed);

  // max_completion_tokens (the newer name) wins over max_tokens when both are present.
  std::optional<int64_t> max_tokens;
  r.read("max_tokens", max_tokens, INT64_MIN, INT64_MAX);
  if (style == LogprobsStyle::chat) r.read("max_completion_tokens", max_tokens, INT64_MIN, INT64_MAX);
  if (max_tokens) {
    const char* name = obj.contains("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
    if (*max_tokens < (style == LogprobsStyle::completions ? 0 : 1))
      r.fail(name, std::string("'") + name + "' must be at least " + (style == LogprobsStyle::completions ? "0" : "1") +
                       ", got " + std::to_string(*max_tokens) + ".");
    // Larger values are clamped later, when the prompt length is known.
    o.max_tokens = max_tokens;
  }

  if (const auto* stop = r.find("stop")) {
    if (stop->is_string()) {
      o.stop.push_back(stop->get<std::string>());
    } else if (stop->is_array()) {
      if (stop->size() > limits.max_stop)
        r.fail("stop", "'stop' may hold at most " + std::to_string(limits.max_stop) + " strings.");
      for (size_t i = 0; i < stop->size() && !r.failed(); ++i) {
        if (!(*stop)[i].is_string()) r.fail("stop", "'stop[" + std::to_string(i) + "]' must be a string.");
        else o.stop.push_back((*stop)[i].get<std::string>());
      }
    } else {
      r.fail("stop", std::string("'stop' must be a string or an array of strings, not ") + json_type_name(*stop) + ".");
    }
    for (const auto& s : o.stop) {
      if (s.empty()) r.fail("stop", "'stop' strings must not be empty.");
      if (s.size() > limits.max_stop_bytes)
        r.fail("stop", "a 'stop' string is longer than the limit of " + std::to_string(limits.max_stop_bytes) + " bytes.");
    }
  }

  int64_t n = 1;
  if (r.read("n", n, 1, limits.max_n)) o.n = static_cast<int>(n);

  if (const auto* bias = r.find("logit_bias")) {
    if (!bias->is_object()) {
      r.fail("logit_bias", "'logit_bias' must be an object mapping token ids to numbers.");
    } else if (bias->size() > limits.max_logit_bias) {
      r.fail("logit_bias", "'logit_bias' may hold at most " + std::to_string(limits.max_logit_bias) + " entries.");
    } else {
      for (const auto& [k, v] : bias->items()) {
        errno = 0;
        char* end = nullptr;
        const long id = std::strtol(k.c_str(), &end, 10);
        if (k.empty() || *end != '\0' || errno || id < 0 || id > INT32_MAX) {
          r.fail("logit_bias", "'logit_bias' key '" + k + "' is not a token id.");
          break;
        }
        if (!v.is_number() || v.get<double>() < -100.0 || v.get<double>() > 100.0) {
          r.fail("logit_bias", "'logit_bias[" + k + "]' must be a number between -100 and 100.");
          break;
        }
        o.logit_bias.emplace_back(static_cast<int32_t>(id), v.get<float>());
      }
    }
  }

  if (style == LogprobsStyle::chat) {
    bool logprobs = false;
    r.read("logprobs", logprobs);
    int64_t top = 0;
    const bool has_top = r.read("top_logprobs", top, 0, limits.max_top_logprobs);
    if (has_top && !logprobs && !r.failed()) r.fail("top_logprobs", "'top_logprobs' requires 'logprobs' to be true.");
    if (logprobs) o.top_logprobs = static_cast<int>(top);
  } else {
    int64_t lp = 0;
    if (r.read("logprobs", lp, 0, 5)) o.top_logprobs = static_cast<int>(lp);
  }

  r.read("stream", o.stream);
  if (const auto* so = r.find("stream_options")) {
    if (!so->is_object()) {
      r.fail("stream_options", "'stream_options' must be an object.");
    } else {
      std::optional<ApiError> sub;
      FieldReader sr(*so, "stream_options.", sub);
      sr.read("include_usage", o.include_usage);
      if (sub) r.fail(sub->param, sub->message);
      if (!o.stream && !r.failed()) r.fail("stream_options", "'stream_options' is only allowed when 'stream' is true.");
    }
  }
  r.read("grammar", o.grammar, limits.max_grammar_bytes);
  r.read("ignore_eos", o.ignore_eos);
  r.read("user", o.user, 256);
}

}  // namespace agora::platform
