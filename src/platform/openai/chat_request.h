// POST /v1/chat/completions: the request body parsed into plain data (no JSON past this point
// except tool/response schemas, which stay JSON *text* for the template and the grammar compiler).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/chat/chat_formatter.h"
#include "platform/limits.h"
#include "platform/api_error.h"
#include "platform/openai/generation_options.h"

namespace agora::platform {

struct ToolDefinition {
  std::string name;
  std::string description;
  std::string parameters_json;  // JSON Schema text ("{}"-like default when absent)
  bool strict = false;
};

enum class ToolChoiceMode { none, automatic, required, function };

struct ResponseFormat {
  enum class Kind { text, json_object, json_schema } kind = Kind::text;
  std::string name;
  std::string schema_json;  // json_schema only
  bool strict = false;
};

struct ChatRequest {
  std::string model;
  std::vector<chat::ChatMessage> messages;
  GenerationOptions gen;
  ResponseFormat response_format;
  std::vector<ToolDefinition> tools;
  std::string tools_json;  // the `tools` array as JSON text for the chat template ("" = none)
  ToolChoiceMode tool_choice = ToolChoiceMode::automatic;
  std::string tool_choice_function;  // mode == function
  bool parallel_tool_calls = true;
};

ApiResult<ChatRequest> parse_chat_request(std::string_view body, const ServerLimits& limits);

}  // namespace agora::platform
