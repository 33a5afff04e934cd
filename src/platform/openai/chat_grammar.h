// The constraint a chat request puts on its output: response_format json_object/json_schema, the
// `grammar` extension, or a forced tool call (tool_choice required / a named function), each
// compiled into an engine Grammar. Errors are 400s naming the parameter.
#pragma once

#include <memory>

#include "engine/grammar/grammar.h"
#include "platform/api_error.h"
#include "platform/openai/chat_request.h"

namespace agora::platform {

struct ChatConstraint {
  std::shared_ptr<const Grammar> grammar;  // null: unconstrained
  // The output is exactly {"name": ..., "arguments": {...}} (a forced tool call).
  bool forced_tool_call = false;
};

ApiResult<ChatConstraint> chat_constraint(const ChatRequest& req);

}  // namespace agora::platform
