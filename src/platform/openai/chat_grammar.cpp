#include "platform/openai/chat_grammar.h"

#include <nlohmann/json.hpp>

#include "engine/grammar/builtin_grammars.h"
#include "engine/grammar/gbnf_parser.h"
#include "engine/grammar/json_schema.h"

namespace agora::platform {

namespace {
std::shared_ptr<const Grammar> share(Grammar g) { return std::make_shared<const Grammar>(std::move(g)); }
}  // namespace

ApiResult<ChatConstraint> chat_constraint(const ChatRequest& req) {
  ChatConstraint c;
  if (req.tool_choice == ToolChoiceMode::required || req.tool_choice == ToolChoiceMode::function) {
    // One call: {"name": <one of the tools>, "arguments": <that tool's parameters>}.
    nlohmann::json any = nlohmann::json::array();
    for (size_t i = 0; i < req.tools.size(); ++i) {
      const auto& t = req.tools[i];
      if (req.tool_choice == ToolChoiceMode::function && t.name != req.tool_choice_function) continue;
      nlohmann::json params = nlohmann::json::parse(t.parameters_json);
      any.push_back({{"type", "object"},
                     {"properties", {{"name", {{"const", t.name}}}, {"arguments", params}}},
                     {"required", {"name", "arguments"}},
                     {"additionalProperties", false}});
    }
    nlohmann::json schema = any.size() == 1 ? any[0] : nlohmann::json{{"anyOf", any}};
    auto g = compile_json_schema(schema.dump());
    if (!g.ok()) return ApiError::invalid("tools", "A tool's 'parameters' schema cannot be used: " + g.status().message());
    c.grammar = share(std::move(g.value()));
    c.forced_tool_call = true;
    return c;
  }
  switch (req.response_format.kind) {
    case ResponseFormat::Kind::json_object: {
      auto g = parse_gbnf(json_object_gbnf());
      if (!g.ok()) return ApiError::from_status(g.status(), "response_format");
      c.grammar = share(std::move(g.value()));
      return c;
    }
    case ResponseFormat::Kind::json_schema: {
      auto g = compile_json_schema(req.response_format.schema_json, {.strict = req.response_format.strict});
      if (!g.ok())
        return ApiError::invalid("response_format.json_schema.schema",
                                 "Invalid schema for response_format '" + req.response_format.name +
                                     "': " + g.status().message());
      c.grammar = share(std::move(g.value()));
      return c;
    }
    case ResponseFormat::Kind::text: break;
  }
  if (!req.gen.grammar.empty()) {
    auto g = parse_gbnf(req.gen.grammar);
    if (!g.ok()) return ApiError::invalid("grammar", "Invalid grammar: " + g.status().message());
    c.grammar = share(std::move(g.value()));
  }
  return c;
}

}  // namespace agora::platform
