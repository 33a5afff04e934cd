// The request fields that chat completions and completions share, parsed into plain data: the
// sampling chain, lengths, stop strings, choice count, logprobs, streaming and the extensions
// (top_k, min_p, repeat_penalty, grammar, ignore_eos). Defaults follow OpenAI where OpenAI has
// one (temperature 1, top_p 1) and turn our extra stages off unless asked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "platform/limits.h"
#include "platform/openai/json_body.h"

namespace agora::platform {

struct GenerationOptions {
  float temperature = 1.0f;
  float top_p = 1.0f;
  int32_t top_k = 0;
  float min_p = 0.0f;
  float repeat_penalty = 1.0f;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  std::optional<uint64_t> seed;
  std::vector<std::pair<int32_t, float>> logit_bias;
  std::optional<int64_t> max_tokens;  // absent: until the context is full (chat) / 16 (completions)
  std::vector<std::string> stop;
  int n = 1;
  int top_logprobs = -1;  // -1: no logprobs; 0..20
  bool stream = false;
  bool include_usage = false;
  std::string grammar;  // extension: GBNF text
  bool ignore_eos = false;
  std::string user;
};

// Reads the shared fields from `obj` (errors name the parameter). `logprobs_style`: chat has
// `logprobs: bool` + `top_logprobs: int`; completions has `logprobs: int`.
enum class LogprobsStyle { chat, completions };
void read_generation_options(FieldReader& r, const nlohmann::json& obj, LogprobsStyle style,
                             const ServerLimits& limits, GenerationOptions& out);

}  // namespace agora::platform
