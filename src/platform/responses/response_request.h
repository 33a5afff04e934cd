// POST /v1/responses parsed at the edge into a typed request (the fields of the official SDK's
// ResponseCreateParams that Agora supports; the rest of the documented ones are accepted and
// ignored where harmless, refused with 400 where they would change the answer).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "platform/agent/agent_turn.h"
#include "platform/api_error.h"

namespace agora::platform::responses {

struct ResponseRequest {
  std::string model;                      // empty: the first served model
  nlohmann::json input = nlohmann::json::array();  // normalised input items (response_items.h)
  std::optional<std::string> instructions;
  nlohmann::json tools = nlohmann::json::array();  // echoed in the Response object
  std::vector<agent::FunctionTool> function_tools;
  nlohmann::json tool_choice = "auto";
  agent::ToolChoice choice = agent::ToolChoice::automatic;
  std::string choice_name;
  bool parallel_tool_calls = true;
  nlohmann::json text = {{"format", {{"type", "text"}}}};
  agent::TextFormat format = agent::TextFormat::text;
  std::string schema_json;
  bool schema_strict = false;
  std::optional<double> temperature, top_p;
  std::optional<int64_t> max_output_tokens;
  bool truncation_auto = false;
  bool store = true;
  bool background = false;
  bool stream = false;
  nlohmann::json metadata = nlohmann::json::object();
  std::optional<std::string> previous_response_id;
  std::optional<std::string> conversation_id;
  std::optional<std::string> user;
};

ApiResult<ResponseRequest> parse_response_request(const nlohmann::json& body);

}  // namespace agora::platform::responses
