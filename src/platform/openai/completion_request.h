// POST /v1/completions and POST /v1/embeddings: request bodies parsed into plain data. Both take
// the same input shapes: a string, an array of strings, an array of token ids, or an array of
// arrays of token ids.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "platform/limits.h"
#include "platform/api_error.h"
#include "platform/openai/generation_options.h"

namespace agora::platform {

struct PromptInput {
  bool is_tokens = false;
  std::string text;
  std::vector<int32_t> tokens;
};

struct CompletionRequest {
  std::string model;
  std::vector<PromptInput> prompts;
  bool echo = false;
  GenerationOptions gen;  // max_tokens defaults to 16 as OpenAI's
};

struct EmbeddingRequest {
  std::string model;
  std::vector<PromptInput> inputs;
  bool base64 = false;  // encoding_format
  int64_t dimensions = 0;  // 0 = the model's width (other values are rejected)
  std::string user;
};

ApiResult<CompletionRequest> parse_completion_request(std::string_view body, const ServerLimits& limits);
ApiResult<EmbeddingRequest> parse_embedding_request(std::string_view body, const ServerLimits& limits);

// Reads `value` (named `param`) as one of the four input shapes; false + error on anything else.
bool read_prompt_inputs(FieldReader& r, const nlohmann::json& value, const std::string& param,
                        const ServerLimits& limits, std::vector<PromptInput>& out);

}  // namespace agora::platform
