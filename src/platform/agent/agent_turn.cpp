#include "platform/agent/agent_turn.h"

#include <mutex>

#include <nlohmann/json.hpp>

#include "engine/chat/tool_call_parser.h"
#include "platform/limits.h"
#include "platform/openai/chat_grammar.h"
#include "platform/openai/generation.h"

namespace agora::platform::agent {
namespace {

using nlohmann::json;

// The same request as a chat completion: messages, tools, tool_choice, response format.
ChatRequest as_chat_request(const TurnRequest& r, size_t first_item) {
  ChatRequest c;
  if (!r.instructions.empty()) c.messages.push_back({.role = "system", .content = r.instructions});
  for (size_t i = first_item; i < r.items.size(); ++i) {
    const Item& it = r.items[i];
    switch (it.kind) {
      case Item::Kind::message:
        c.messages.push_back({.role = it.role == "developer" ? "system" : it.role, .content = it.text});
        break;
      case Item::Kind::function_call: {
        // Consecutive calls belong to one assistant message.
        if (c.messages.empty() || c.messages.back().role != "assistant" || c.messages.back().tool_calls.empty())
          c.messages.push_back({.role = "assistant", .content = std::nullopt});
        c.messages.back().tool_calls.push_back({.id = it.call_id, .name = it.name, .arguments = it.arguments});
        break;
      }
      case Item::Kind::function_call_output: {
        std::string name;
        for (const Item& p : r.items)
          if (p.kind == Item::Kind::function_call && p.call_id == it.call_id) name = p.name;
        c.messages.push_back({.role = "tool", .content = it.output, .tool_call_id = it.call_id, .name = name});
        break;
      }
    }
  }
  json tools = json::array();
  for (const auto& t : r.tools) {
    c.tools.push_back({t.name, t.description, t.parameters_json, t.strict});
    json params = json::parse(t.parameters_json, nullptr, false);
    tools.push_back({{"type", "function"},
                     {"function", {{"name", t.name}, {"description", t.description}, {"parameters", params.is_discarded() ? json::object() : params}}}});
  }
  if (!r.tools.empty()) c.tools_json = tools.dump();
  switch (r.tool_choice) {
    case ToolChoice::automatic: c.tool_choice = ToolChoiceMode::automatic; break;
    case ToolChoice::none: c.tool_choice = ToolChoiceMode::none; break;
    case ToolChoice::required: c.tool_choice = ToolChoiceMode::required; break;
    case ToolChoice::function: c.tool_choice = ToolChoiceMode::function; break;
  }
  c.tool_choice_function = r.tool_choice_name;
  c.parallel_tool_calls = r.parallel_tool_calls;
  switch (r.format) {
    case TextFormat::text: c.response_format.kind = ResponseFormat::Kind::text; break;
    case TextFormat::json_object: c.response_format.kind = ResponseFormat::Kind::json_object; break;
    case TextFormat::json_schema:
      c.response_format.kind = ResponseFormat::Kind::json_schema;
      c.response_format.schema_json = r.schema_json;
      c.response_format.strict = r.schema_strict;
      break;
  }
  return c;
}

class TurnImpl final : public Turn {
 public:
  void cancel() override {
    std::shared_ptr<RequestHandle> h;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancelled_ = true;
      h = handle_;
    }
    if (h) h->cancel();
  }
  void set_handle(std::shared_ptr<RequestHandle> h) {
    std::lock_guard<std::mutex> lock(mu_);
    handle_ = std::move(h);
    if (cancelled_) handle_->cancel();
  }

 private:
  std::mutex mu_;
  bool cancelled_ = false;
  std::shared_ptr<RequestHandle> handle_;
};

// Per-generation state, owned by the sink (engine thread only).
struct SinkState {
  TurnCallbacks cb;
  chat::ToolCallFamily family = chat::ToolCallFamily::none;
  bool parse_tools = false;
  bool forced = false;
  std::string text;
  std::optional<chat::ToolCallStreamParser> parser;
  size_t dropped = 0;
  size_t sent = 0;  // bytes of content already given to on_text
};

TurnResult finish_result(SinkState& s, const Event& e) {
  TurnResult r;
  r.usage = e.usage;
  r.reason = e.finish_reason;
  r.error = e.error;
  r.items_dropped = s.dropped;
  r.incomplete = e.finish_reason == FinishReason::length;
  if (s.forced) {
    json j = json::parse(s.text, nullptr, false);
    if (j.is_object() && j.contains("name") && j["name"].is_string() && j.contains("arguments")) {
      r.output.push_back({.kind = Item::Kind::function_call, .call_id = make_id("call_"), .name = j["name"].get<std::string>(),
                          .arguments = j["arguments"].dump()});
      return r;
    }
  } else if (s.parse_tools) {
    auto parsed = chat::parse_tool_calls(s.family, s.text);
    if (!parsed.content.empty() || parsed.tool_calls.empty())
      r.output.push_back({.kind = Item::Kind::message, .role = "assistant", .text = parsed.content});
    for (auto& t : parsed.tool_calls)
      r.output.push_back({.kind = Item::Kind::function_call, .call_id = t.id.empty() ? make_id("call_") : t.id, .name = t.name,
                          .arguments = t.arguments});
    return r;
  }
  r.output.push_back({.kind = Item::Kind::message, .role = "assistant", .text = s.text});
  return r;
}

}  // namespace

ApiResult<std::shared_ptr<Turn>> start_turn(const ServedModel& m, const TurnRequest& req, TurnCallbacks cb) {
  if (!m.formatter || !m.backend || !m.vocab) return ApiError{ApiErrorKind::internal, "the model cannot chat", "model"};
  for (const auto& t : req.tools)
    if (t.name.empty()) return ApiError::invalid("tools", "Every function tool needs a name.");
  if (req.tool_choice == ToolChoice::function) {
    bool found = false;
    for (const auto& t : req.tools) found |= t.name == req.tool_choice_name;
    if (!found) return ApiError::invalid("tool_choice", "tool_choice names '" + req.tool_choice_name + "', which is not in tools.");
  }
  // Render; with truncation, drop the oldest items until the prompt leaves room to answer.
  const int64_t n_ctx = m.backend->n_ctx();
  size_t first = 0;
  std::vector<int32_t> prompt;
  ChatRequest chat;
  for (;;) {
    chat = as_chat_request(req, first);
    chat::FormatOptions fo;
    fo.bos_token = m.bos_text;
    fo.eos_token = m.eos_text;
    auto text = m.formatter->format(chat.messages, req.tool_choice == ToolChoice::none ? "" : chat.tools_json, fo);
    if (!text.ok()) return ApiError::invalid("input", "The chat template could not render this conversation: " + text.status().message());
    const bool add_special = m.bos_text.empty() || !text.value().starts_with(m.bos_text);
    prompt = m.vocab->tokenize(text.value(), add_special, /*parse_special=*/true);
    const int64_t need = static_cast<int64_t>(prompt.size()) + std::min<int64_t>(req.max_output_tokens.value_or(64), 64);
    if (!req.truncate_auto || need <= n_ctx || first + 1 >= req.items.size()) break;
    ++first;
    // Never start on a function call output whose call was dropped.
    while (first < req.items.size() && req.items[first].kind == Item::Kind::function_call_output) ++first;
  }
  auto constraint = chat_constraint(chat);
  if (!constraint.ok()) return constraint.error();

  GenerationOptions o;
  o.temperature = req.temperature;
  o.top_p = req.top_p;
  o.seed = req.seed;
  if (req.max_output_tokens) o.max_tokens = *req.max_output_tokens;
  ServerLimits limits;
  auto params = make_generate_params(m, o, std::move(prompt), limits, "input");
  if (!params.ok()) return params.error();
  params.value().grammar = constraint.value().grammar;

  auto state = std::make_shared<SinkState>();
  state->cb = std::move(cb);
  state->family = m.formatter->tool_call_family();
  state->forced = constraint.value().forced_tool_call;
  state->parse_tools = !state->forced && !req.tools.empty() && req.tool_choice == ToolChoice::automatic &&
                       state->family != chat::ToolCallFamily::none;
  if (state->parse_tools) state->parser.emplace(state->family);
  state->dropped = first;

  auto turn = std::make_shared<TurnImpl>();
  auto h = m.backend->generate(std::move(params.value()), [state](Event&& e) {
    if (e.kind == Event::Kind::token || !e.text.empty()) {
      state->text += e.text;
      if (!state->forced && state->cb.on_text) {
        std::string delta = state->parser ? state->parser->feed(e.text).content : e.text;
        state->sent += delta.size();
        if (!delta.empty()) state->cb.on_text(delta);
      }
    }
    if (e.kind == Event::Kind::finish) {
      if (state->parser && state->cb.on_text) {
        // The final parse may release held-back text that turned out not to be a tool call.
        const std::string content = state->parser->finish().content;
        if (content.size() > state->sent) state->cb.on_text(content.substr(state->sent));
      }
      TurnResult r = finish_result(*state, e);
      if (state->cb.on_done) state->cb.on_done(std::move(r));
    }
  });
  if (!h.ok()) return ApiError::from_status(h.status(), "model");
  turn->set_handle(h.value());
  return std::shared_ptr<Turn>(turn);
}

}  // namespace agora::platform::agent
