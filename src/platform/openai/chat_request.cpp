#include "platform/openai/chat_request.h"

#include <set>

#include "platform/openai/json_body.h"

namespace agora::platform {
namespace {

using nlohmann::json;

// Fields we accept. Those in `k_ignored` are OpenAI fields with no meaning for a local model
// (documented in docs/api.md); anything else is a 400 naming the field.
const std::set<std::string> k_known = {
    "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens", "temperature", "top_p",
    "n", "stop", "seed", "presence_penalty", "frequency_penalty", "logit_bias", "logprobs", "top_logprobs",
    "response_format", "tools", "tool_choice", "parallel_tool_calls", "user",
    // extensions
    "top_k", "min_p", "repeat_penalty", "grammar", "ignore_eos"};
const std::set<std::string> k_ignored = {"metadata", "store", "service_tier", "reasoning_effort", "modalities",
                                         "prediction", "web_search_options"};

std::string at(const std::string& base, size_t i) { return base + "[" + std::to_string(i) + "]"; }

bool parse_content(FieldReader& r, const json& msg, const std::string& p, chat::ChatMessage& m) {
  const json* c = r.find("content");
  if (!c) return true;
  if (c->is_string()) {
    m.content = c->get<std::string>();
    return true;
  }
  if (!c->is_array())
    return r.fail(p + ".content", "'" + p + ".content' must be a string, an array of content parts or null.");
  for (size_t j = 0; j < c->size(); ++j) {
    const json& part = (*c)[j];
    const std::string pp = at(p + ".content", j);
    if (!part.is_object()) return r.fail(pp, "'" + pp + "' must be an object.");
    auto t = part.find("type");
    if (t == part.end() || !t->is_string()) return r.fail(pp + ".type", "'" + pp + ".type' must be a string.");
    const auto& type = t->get_ref<const std::string&>();
    if (type == "text" || type == "input_text") {
      auto text = part.find("text");
      if (text == part.end() || !text->is_string()) return r.fail(pp + ".text", "'" + pp + ".text' must be a string.");
      m.content_parts.push_back(text->get<std::string>());
    } else if (type == "refusal" && m.role == "assistant") {
      auto text = part.find("refusal");
      if (text == part.end() || !text->is_string()) return r.fail(pp + ".refusal", "'" + pp + ".refusal' must be a string.");
      m.content_parts.push_back(text->get<std::string>());
    } else {
      return r.fail(pp + ".type", "Content parts of type '" + type + "' are not supported by this server; only 'text'.");
    }
  }
  std::string joined;
  for (size_t j = 0; j < m.content_parts.size(); ++j) joined += (j ? "\n" : "") + m.content_parts[j];
  m.content = joined;
  return true;
}

bool parse_message(const json& msg, const std::string& p, std::optional<ApiError>& err, chat::ChatMessage& m) {
  if (!msg.is_object()) {
    err = ApiError::invalid(p, "'" + p + "' must be an object.");
    return false;
  }
  FieldReader r(msg, p + ".", err);
  if (!r.read("role", m.role)) {
    if (!err) r.fail(p + ".role", "'" + p + ".role' is required.");
    return false;
  }
  static const std::set<std::string> roles = {"system", "developer", "user", "assistant", "tool"};
  if (!roles.count(m.role))
    return r.fail(p + ".role", "'" + p + ".role' must be one of system, developer, user, assistant, tool; got '" + m.role + "'.");
  if (!parse_content(r, msg, p, m)) return false;
  if (r.has("name")) r.read("name", m.name, 256);
  if (m.role == "tool") {
    if (!r.read("tool_call_id", m.tool_call_id)) {
      if (!err) r.fail(p + ".tool_call_id", "'" + p + ".tool_call_id' is required for role 'tool'.");
      return false;
    }
    if (!m.content) return r.fail(p + ".content", "'" + p + ".content' is required for role 'tool'.");
  }
  if (const json* calls = r.find("tool_calls")) {
    if (m.role != "assistant") return r.fail(p + ".tool_calls", "Only assistant messages may carry 'tool_calls'.");
    if (!calls->is_array()) return r.fail(p + ".tool_calls", "'" + p + ".tool_calls' must be an array.");
    for (size_t k = 0; k < calls->size(); ++k) {
      const std::string cp = at(p + ".tool_calls", k);
      const json& call = (*calls)[k];
      if (!call.is_object()) return r.fail(cp, "'" + cp + "' must be an object.");
      FieldReader cr(call, cp + ".", err);
      chat::ChatToolCall tc;
      cr.read("id", tc.id, 256);
      std::string type = "function";
      cr.read("type", type);
      if (type != "function") return cr.fail(cp + ".type", "'" + cp + ".type' must be 'function'.");
      const json* fn = cr.find("function");
      if (!fn || !fn->is_object()) return cr.fail(cp + ".function", "'" + cp + ".function' must be an object.");
      FieldReader fr(*fn, cp + ".function.", err);
      if (!fr.read("name", tc.name, 256)) return fr.fail(cp + ".function.name", "'" + cp + ".function.name' is required.");
      if (!fr.read("arguments", tc.arguments)) {
        if (!err) fr.fail(cp + ".function.arguments", "'" + cp + ".function.arguments' is required.");
        return false;
      }
      if (!json::accept(tc.arguments))
        return fr.fail(cp + ".function.arguments", "'" + cp + ".function.arguments' must be a JSON string.");
      m.tool_calls.push_back(std::move(tc));
    }
  }
  if (!m.content && m.tool_calls.empty() && !err)
    return r.fail(p + ".content", "'" + p + ".content' is required.");
  return !err;
}

bool parse_tools(FieldReader& r, const json& tools, const ServerLimits& limits, ChatRequest& req) {
  if (!tools.is_array()) return r.fail("tools", "'tools' must be an array.");
  if (tools.size() > limits.max_tools)
    return r.fail("tools", "'tools' may hold at most " + std::to_string(limits.max_tools) + " tools.");
  std::set<std::string> names;
  for (size_t i = 0; i < tools.size(); ++i) {
    const std::string p = at("tools", i);
    const json& t = tools[i];
    if (!t.is_object()) return r.fail(p, "'" + p + "' must be an object.");
    auto type = t.find("type");
    if (type == t.end() || *type != "function") return r.fail(p + ".type", "'" + p + ".type' must be 'function'.");
    auto fn = t.find("function");
    if (fn == t.end() || !fn->is_object()) return r.fail(p + ".function", "'" + p + ".function' must be an object.");
    std::optional<ApiError> sub;
    FieldReader fr(*fn, p + ".function.", sub);
    ToolDefinition d;
    if (!fr.read("name", d.name, 64) && !sub) fr.fail(p + ".function.name", "'" + p + ".function.name' is required.");
    fr.read("description", d.description);
    fr.read("strict", d.strict);
    if (sub) return r.fail(sub->param, sub->message);
    for (char c : d.name)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
        return r.fail(p + ".function.name", "'" + p + ".function.name' may contain only a-z, A-Z, 0-9, '_' and '-'.");
    if (d.name.empty()) return r.fail(p + ".function.name", "'" + p + ".function.name' must not be empty.");
    if (!names.insert(d.name).second) return r.fail(p + ".function.name", "Tool name '" + d.name + "' is defined twice.");
    auto params = fn->find("parameters");
    if (params != fn->end() && !params->is_null()) {
      if (!params->is_object()) return r.fail(p + ".function.parameters", "'" + p + ".function.parameters' must be an object.");
      d.parameters_json = params->dump();
    } else {
      d.parameters_json = R"({"type":"object","properties":{}})";
    }
    req.tools.push_back(std::move(d));
  }
  req.tools_json = tools.empty() ? "" : tools.dump();
  return true;
}

bool parse_tool_choice(FieldReader& r, const json& tc, ChatRequest& req) {
  if (tc.is_string()) {
    const auto& s = tc.get_ref<const std::string&>();
    if (s == "none") req.tool_choice = ToolChoiceMode::none;
    else if (s == "auto") req.tool_choice = ToolChoiceMode::automatic;
    else if (s == "required") req.tool_choice = ToolChoiceMode::required;
    else return r.fail("tool_choice", "'tool_choice' must be 'none', 'auto', 'required' or a function object.");
  } else if (tc.is_object()) {
    auto fn = tc.find("function");
    if (tc.value("type", "") != "function" || fn == tc.end() || !fn->is_object() || !fn->contains("name") ||
        !(*fn)["name"].is_string())
      return r.fail("tool_choice", "'tool_choice' object must be {\"type\":\"function\",\"function\":{\"name\":...}}.");
    req.tool_choice = ToolChoiceMode::function;
    req.tool_choice_function = (*fn)["name"].get<std::string>();
  } else {
    return r.fail("tool_choice", "'tool_choice' must be a string or an object.");
  }
  if (req.tool_choice != ToolChoiceMode::none && req.tool_choice != ToolChoiceMode::automatic && req.tools.empty())
    return r.fail("tool_choice", "'tool_choice' requires 'tools'.");
  if (req.tool_choice == ToolChoiceMode::function) {
    bool found = false;
    for (const auto& t : req.tools) found |= t.name == req.tool_choice_function;
    if (!found) return r.fail("tool_choice", "'tool_choice' names '" + req.tool_choice_function + "', which is not in 'tools'.");
  }
  return true;
}

bool parse_response_format(FieldReader& r, const json& rf, ChatRequest& req) {
  if (!rf.is_object() || !rf.contains("type") || !rf["type"].is_string())
    return r.fail("response_format", "'response_format' must be an object with a 'type'.");
  const auto& type = rf["type"].get_ref<const std::string&>();
  if (type == "text") {
    req.response_format.kind = ResponseFormat::Kind::text;
  } else if (type == "json_object") {
    req.response_format.kind = ResponseFormat::Kind::json_object;
  } else if (type == "json_schema") {
    auto js = rf.find("json_schema");
    if (js == rf.end() || !js->is_object())
      return r.fail("response_format.json_schema", "'response_format.json_schema' must be an object.");
    std::optional<ApiError> sub;
    FieldReader jr(*js, "response_format.json_schema.", sub);
    ResponseFormat f;
    f.kind = ResponseFormat::Kind::json_schema;
    if (!jr.read("name", f.name, 64) && !sub) jr.fail("response_format.json_schema.name", "'response_format.json_schema.name' is required.");
    jr.read("strict", f.strict);
    if (sub) return r.fail(sub->param, sub->message);
    auto schema = js->find("schema");
    if (schema != js->end() && !schema->is_null()) {
      if (!schema->is_object() && !schema->is_boolean())
        return r.fail("response_format.json_schema.schema", "'response_format.json_schema.schema' must be an object.");
      f.schema_json = schema->dump();
    } else {
      f.schema_json = "{}";
    }
    req.response_format = std::move(f);
  } else {
    return r.fail("response_format.type", "'response_format.type' must be 'text', 'json_object' or 'json_schema'.");
  }
  return true;
}

}  // namespace

ApiResult<ChatRequest> parse_chat_request(std::string_view body, const ServerLimits& limits) {
  auto doc = parse_json_body(body, limits.max_json_depth);
  if (!doc.ok()) return doc.error();
  const json& j = doc.value();
  std::optional<ApiError> err;
  FieldReader r(j, "", err);
  for (const auto& [k, v] : j.items())
    if (!k_known.count(k) && !k_ignored.count(k)) return ApiError::invalid(k, "Unrecognized request argument supplied: " + k);

  ChatRequest req;
  if (!r.read("model", req.model, 256) && !err) return ApiError::invalid("model", "'model' is required.");
  const json* msgs = r.find("messages");
  if (!err && !msgs) return ApiError::invalid("messages", "'messages' is required.");
  if (!err && !msgs->is_array()) return ApiError::invalid("messages", "'messages' must be an array.");
  if (!err && msgs->empty()) return ApiError::invalid("messages", "'messages' must contain at least one message.");
  if (!err && msgs->size() > limits.max_messages)
    return ApiError::invalid("messages", "'messages' may hold at most " + std::to_string(limits.max_messages) + " messages.");
  for (size_t i = 0; !err && i < msgs->size(); ++i) {
    chat::ChatMessage m;
    if (parse_message((*msgs)[i], at("messages", i), err, m)) req.messages.push_back(std::move(m));
  }
  if (err) return *err;
  read_generation_options(r, j, LogprobsStyle::chat, limits, req.gen);
  if (err) return *err;
  if (const json* tools = r.find("tools")) parse_tools(r, *tools, limits, req);
  if (err) return *err;
  if (const json* tc = r.find("tool_choice")) parse_tool_choice(r, *tc, req);
  r.read("parallel_tool_calls", req.parallel_tool_calls);
  if (err) return *err;
  if (const json* rf = r.find("response_format")) parse_response_format(r, *rf, req);
  if (err) return *err;
  if (!req.gen.grammar.empty() && req.response_format.kind != ResponseFormat::Kind::text)
    return ApiError::invalid("grammar", "'grammar' cannot be combined with a JSON 'response_format'.");
  return req;
}

}  // namespace agora::platform
