#include "platform/openai/completion_request.h"

#include <set>

namespace agora::platform {

using nlohmann::json;

namespace {

bool read_token_array(FieldReader& r, const json& a, const std::string& p, std::vector<int32_t>& out) {
  for (size_t i = 0; i < a.size(); ++i) {
    const json& t = a[i];
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > INT32_MAX)
      return r.fail(p, "'" + p + "[" + std::to_string(i) + "]' must be a non-negative token id.");
    out.push_back(static_cast<int32_t>(t.get<int64_t>()));
  }
  return true;
}

}  // namespace

bool read_prompt_inputs(FieldReader& r, const json& v, const std::string& p, const ServerLimits& limits,
                        std::vector<PromptInput>& out) {
  if (v.is_string()) {
    out.push_back({false, v.get<std::string>(), {}});
    return true;
  }
  if (!v.is_array()) return r.fail(p, "'" + p + "' must be a string, an array of strings, or token ids.");
  if (v.empty()) return r.fail(p, "'" + p + "' must not be empty.");
  if (v.size() > limits.max_prompts && !v[0].is_number())
    return r.fail(p, "'" + p + "' may hold at most " + std::to_string(limits.max_prompts) + " items.");
  if (v[0].is_number()) {
    PromptInput in;
    in.is_tokens = true;
    if (!read_token_array(r, v, p, in.tokens)) return false;
    out.push_back(std::move(in));
    return true;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string ip = p + "[" + std::to_string(i) + "]";
    if (v[i].is_string()) {
      out.push_back({false, v[i].get<std::string>(), {}});
    } else if (v[i].is_array()) {
      PromptInput in;
      in.is_tokens = true;
      if (v[i].empty()) return r.fail(ip, "'" + ip + "' must not be empty.");
      if (!read_token_array(r, v[i], ip, in.tokens)) return false;
      out.push_back(std::move(in));
    } else {
      return r.fail(ip, "'" + ip + "' must be a string or an array of token ids.");
    }
  }
  return true;
}

ApiResult<CompletionRequest> parse_completion_request(std::string_view body, const ServerLimits& limits) {
  static const std::set<std::string> known = {
      "model", "prompt", "echo", "logprobs", "stop", "n", "stream", "stream_options", "max_tokens", "temperature",
      "top_p", "seed", "presence_penalty", "frequency_penalty", "logit_bias", "user", "best_of", "suffix",
      "top_k", "min_p", "repeat_penalty", "grammar", "ignore_eos"};
  auto doc = parse_json_body(body, limits.max_json_depth);
  if (!doc.ok()) return doc.error();
  const json& j = doc.value();
  for (const auto& [k, v] : j.items())
    if (!known.count(k)) return ApiError::invalid(k, "Unrecognized request argument supplied: " + k);
  std::optional<ApiError> err;
  FieldReader r(j, "", err);
  CompletionRequest req;
  if (!r.read("model", req.model, 256) && !err) return ApiError::invalid("model", "'model' is required.");
  const json* prompt = r.find("prompt");
  if (!err && !prompt) return ApiError::invalid("prompt", "'prompt' is required.");
  if (!err) read_prompt_inputs(r, *prompt, "prompt", limits, req.prompts);
  r.read("echo", req.echo);
  read_generation_options(r, j, LogprobsStyle::completions, limits, req.gen);
  if (!req.gen.max_tokens) req.gen.max_tokens = 16;
  int64_t best_of = 1;
  if (r.read("best_of", best_of, 1, limits.max_n) && best_of != req.gen.n && best_of != 1)
    r.fail("best_of", "'best_of' other than 1 or 'n' is not supported.");
  std::string suffix;
  if (r.read("suffix", suffix) && !suffix.empty()) r.fail("suffix", "'suffix' is not supported.");
  if (err) return *err;
  if (req.prompts.size() * static_cast<size_t>(req.gen.n) > limits.max_prompts)
    return ApiError::invalid("n", "prompts × n exceeds the limit of " + std::to_string(limits.max_prompts) + " choices.");
  return req;
}

ApiResult<EmbeddingRequest> parse_embedding_request(std::string_view body, const ServerLimits& limits) {
  static const std::set<std::string> known = {"model", "input", "encoding_format", "dimensions", "user"};
  auto doc = parse_json_body(body, limits.max_json_depth);
  if (!doc.ok()) return doc.error();
  const json& j = doc.value();
  for (const auto& [k, v] : j.items())
    if (!known.count(k)) return ApiError::invalid(k, "Unrecognized request argument supplied: " + k);
  std::optional<ApiError> err;
  FieldReader r(j, "", err);
  EmbeddingRequest req;
  if (!r.read("model", req.model, 256) && !err) return ApiError::invalid("model", "'model' is required.");
  const json* input = r.find("input");
  if (!err && !input) return ApiError::invalid("input", "'input' is required.");
  if (!err) read_prompt_inputs(r, *input, "input", limits, req.inputs);
  std::string fmt = "float";
  r.read("encoding_format", fmt);
  if (!err && fmt != "float" && fmt != "base64")
    r.fail("encoding_format", "'encoding_format' must be 'float' or 'base64'.");
  req.base64 = fmt == "base64";
  r.read("dimensions", req.dimensions, 1, 1 << 20);  // checked against the model's width by the route
  r.read("user", req.user, 256);
  if (err) return *err;
  for (size_t i = 0; i < req.inputs.size(); ++i)
    if (!req.inputs[i].is_tokens && req.inputs[i].text.empty())
      return ApiError::invalid("input", "'input' must not contain empty strings.");
  return req;
}

}  // namespace agora::platform
