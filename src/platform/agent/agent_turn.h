// One turn of the agent loop: a model call over a conversation of items, shared by the
// Assistants API (runs) and the Responses API.
//
//   TurnRequest req;                       // instructions, items, tools, options
//   auto turn = start_turn(model, req, {on_delta, on_done});
//   ... turn.value()->cancel();            // any thread
//
// The conversation is a list of Responses-style items (messages, function calls, function call
// outputs). The turn renders them with the model's chat template (instructions first, as the
// system message; tools as the template expects them), constrains the output when asked
// (text.format json_object/json_schema, or a forced function call), runs one generation on the
// model's Backend, and turns the text into output items: an assistant message and/or function
// calls, parsed with the template's tool-call family. With `truncation: auto` the oldest items are
// dropped until the prompt fits the context (the instructions are always kept).
//
// Threading: start_turn() returns at once; callbacks run on the engine thread and must not block.
// on_done is called exactly once (also after cancel()).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "platform/api_error.h"
#include "platform/openai/model_registry.h"

namespace agora::platform::agent {

struct Item {
  enum class Kind { message, function_call, function_call_output };
  Kind kind = Kind::message;
  std::string role;         // message: system | developer | user | assistant
  std::string text;         // message: its text parts joined
  std::string call_id;      // function_call, function_call_output
  std::string name;         // function_call
  std::string arguments;    // function_call: JSON text
  std::string output;       // function_call_output
};

struct FunctionTool {
  std::string name;
  std::string description;
  std::string parameters_json = "{\"type\":\"object\",\"properties\":{}}";
  bool strict = false;
};

enum class ToolChoice { automatic, none, required, function };
enum class TextFormat { text, json_object, json_schema };

struct TurnRequest {
  std::string instructions;
  std::vector<Item> items;
  std::vector<FunctionTool> tools;
  ToolChoice tool_choice = ToolChoice::automatic;
  std::string tool_choice_name;  // ToolChoice::function
  bool parallel_tool_calls = true;
  TextFormat format = TextFormat::text;
  std::string schema_json;       // TextFormat::json_schema
  bool schema_strict = false;
  float temperature = 1.0f;
  float top_p = 1.0f;
  std::optional<int64_t> max_output_tokens;
  std::optional<uint64_t> seed;
  bool truncate_auto = false;    // drop the oldest items to fit the context
};

struct TurnResult {
  std::vector<Item> output;      // assistant message and/or function calls, in order
  Usage usage;
  FinishReason reason = FinishReason::stop;
  std::string error;             // reason == error
  bool incomplete = false;       // stopped by max_output_tokens or the context end
  size_t items_dropped = 0;      // by truncation
};

struct TurnCallbacks {
  std::function<void(const std::string& delta)> on_text;  // assistant text as it streams (tool-call text held back)
  std::function<void(TurnResult&&)> on_done;
};

class Turn {
 public:
  virtual ~Turn() = default;
  virtual void cancel() = 0;
};

// Validates and submits. Errors (400-class for bad tools/schemas/context, 429/503 from the
// engine) come back at once; on success the callbacks report the rest.
ApiResult<std::shared_ptr<Turn>> start_turn(const ServedModel& model, const TurnRequest& request, TurnCallbacks callbacks);

}  // namespace agora::platform::agent
