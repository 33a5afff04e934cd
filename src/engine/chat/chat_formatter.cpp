// ChatFormatter: messages → template context → prompt.
#include "engine/chat/chat_formatter.h"

#include "engine/chat/json_text.h"

namespace agora::chat {

Result<ChatFormatter> ChatFormatter::create(std::string_view template_source, const TemplateLimits& limits) {
  std::string_view src = template_source.empty() ? kChatMlTemplate : template_source;
  auto t = ChatTemplate::parse(src, limits);
  if (!t.ok()) return t.status();
  ChatFormatter f;
  f.template_ = std::move(t.value());
  f.family_ = detect_tool_call_family(src);
  // Templates that splice arguments in as text ('...' + arguments) need strings; the ones that
  // serialise them (arguments | tojson) need objects.
  auto has = [&](std::string_view s) { return src.find(s) != std::string_view::npos; };
  f.args_as_objects_ = has("arguments|tojson") || has("arguments | tojson") || has("arguments is string") ||
                       has("arguments|items") || has("arguments | items") || !has("arguments");
  return f;
}

Value messages_to_value(const std::vector<ChatMessage>& messages, bool arguments_as_objects) {
  Value list = Value::list();
  for (const auto& m : messages) {
    Value d = Value::dict();
    auto& e = d.dict_data();
    e.set("role", Value::string(m.role));
    if (!m.content_parts.empty()) {
      std::string joined;
      for (size_t i = 0; i < m.content_parts.size(); ++i) joined += (i ? "\n" : "") + m.content_parts[i];
      e.set("content", Value::string(joined));
    } else {
      e.set("content", m.content ? Value::string(*m.content) : Value::none());
    }
    if (!m.tool_calls.empty()) {
      Value calls = Value::list();
      for (const auto& c : m.tool_calls) {
        Value fn = Value::dict();
        fn.dict_data().set("name", Value::string(c.name));
        auto parsed = parse_json(c.arguments);
        fn.dict_data().set("arguments", arguments_as_objects && parsed.ok() ? parsed.value() : Value::string(c.arguments));
        Value call = Value::dict();
        call.dict_data().set("id", Value::string(c.id));
        call.dict_data().set("type", Value::string(c.type));
        call.dict_data().set("function", fn);
        calls.list_data().items.push_back(call);
      }
      e.set("tool_calls", calls);
    }
    if (!m.tool_call_id.empty()) e.set("tool_call_id", Value::string(m.tool_call_id));
    if (!m.name.empty()) e.set("name", Value::string(m.name));
    list.list_data().items.push_back(d);
  }
  return list;
}

Result<std::string> ChatFormatter::format(const std::vector<ChatMessage>& messages, std::string_view tools_json,
                                          const FormatOptions& options) const {
  Value tools = Value::none();
  if (!trim_empty(tools_json)) {
    auto parsed = parse_json(tools_json);
    if (!parsed.ok()) return Status(ErrorCode::invalid_argument, "tools: " + parsed.status().message());
    if (!parsed->is_list()) return Status(ErrorCode::invalid_argument, "tools: expected a JSON array");
    if (!parsed->list_data().items.empty()) tools = parsed.value();
  }
  Value ctx = Value::dict();
  auto& c = ctx.dict_data();
  c.set("messages", messages_to_value(messages, args_as_objects_));
  c.set("tools", tools);
  c.set("documents", Value::none());
  c.set("add_generation_prompt", Value::boolean(options.add_generation_prompt));
  c.set("bos_token", Value::string(options.bos_token));
  c.set("eos_token", Value::string(options.eos_token));
  RenderOptions ro;
  ro.now = options.now;
  return template_.render(ctx, ro);
}

bool ChatFormatter::trim_empty(std::string_view s) {
  for (char ch : s)
    if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') return false;
  return true;
}

Result<std::string> render_chat(std::string_view template_source, const std::vector<ChatMessage>& messages,
                                std::string_view tools_json, bool add_generation_prompt, std::string_view bos_token,
                                std::string_view eos_token) {
  auto f = ChatFormatter::create(template_source);
  if (!f.ok()) return f.status();
  FormatOptions o;
  o.add_generation_prompt = add_generation_prompt;
  o.bos_token = std::string(bos_token);
  o.eos_token = std::string(eos_token);
  return f->format(messages, tools_json, o);
}

}  // namespace agora::chat
