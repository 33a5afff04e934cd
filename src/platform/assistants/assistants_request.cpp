#include "platform/assistants/assistants_request.h"

#include <cctype>

#include "platform/openai/json_body.h"

namespace agora::platform::assistants {

using nlohmann::json;

namespace {

// Characters of a UTF-8 string (OpenAI counts characters, not bytes).
size_t n_chars(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool fail(std::optional<ApiError>& error, const std::string& param, const std::string& message) {
  if (!error) error = ApiError::invalid(param, message);
  return false;
}

bool read_text(const json& obj, const char* key, const std::string& prefix, size_t max_chars,
               std::optional<std::string>& out, std::optional<ApiError>& error) {
  auto it = obj.find(key);
  if (it == obj.end()) return true;
  if (it->is_null()) {
    out.reset();
    return true;
  }
  if (!it->is_string()) return fail(error, prefix + key, "'" + prefix + key + "' must be a string or null.");
  const auto& s = it->get_ref<const std::string&>();
  if (n_chars(s) > max_chars)
    return fail(error, prefix + key, "'" + prefix + key + "' is longer than " + std::to_string(max_chars) + " characters.");
  out = s;
  return true;
}

bool read_number(const json& obj, const char* key, const std::string& prefix, double lo, double hi,
                 std::optional<double>& out, std::optional<ApiError>& error) {
  auto it = obj.find(key);
  if (it == obj.end()) return true;
  if (it->is_null()) {
    out.reset();
    return true;
  }
  if (!it->is_number() || it->get<double>() < lo || it->get<double>() > hi)
    return fail(error, prefix + key, "'" + prefix + key + "' must be a number between " + std::to_string(lo).substr(0, 3) +
                                         " and " + std::to_string(hi).substr(0, 3) + ".");
  out = it->get<double>();
  return true;
}

bool read_positive(const json& obj, const char* key, std::optional<int64_t>& out, std::optional<ApiError>& error) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return true;
  if (!it->is_number_integer() || it->get<int64_t>() < 1)
    return fail(error, key, std::string("'") + key + "' must be a positive integer.");
  out = it->get<int64_t>();
  return true;
}

bool valid_response_format(const json& v, const std::string& param, std::optional<ApiError>& error) {
  if (v.is_string() && v.get<std::string>() == "auto") return true;
  if (!v.is_object()) return fail(error, param, "'" + param + "' must be \"auto\" or an object with a type.");
  const std::string type = v.value("type", "");
  if (type == "text" || type == "json_object") return true;
  if (type == "json_schema") {
    auto it = v.find("json_schema");
    if (it == v.end() || !it->is_object() || !it->contains("name") || !(*it)["name"].is_string())
      return fail(error, param + ".json_schema", "'" + param + ".json_schema' must be an object with a name and a schema.");
    if (it->contains("schema") && !(*it)["schema"].is_object())
      return fail(error, param + ".json_schema.schema", "The schema must be a JSON object.");
    return true;
  }
  return fail(error, param + ".type", "'" + param + ".type' must be one of text, json_object, json_schema.");
}

bool valid_tool_choice(const json& v, std::optional<ApiError>& error) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "none" || s == "auto" || s == "required") return true;
    return fail(error, "tool_choice", "'tool_choice' must be none, auto, required or an object naming a tool.");
  }
  if (!v.is_object()) return fail(error, "tool_choice", "'tool_choice' must be a string or an object.");
  const std::string type = v.value("type", "");
  if (type == "function") {
    auto f = v.find("function");
    if (f == v.end() || !f->is_object() || !f->contains("name") || !(*f)["name"].is_string())
      return fail(error, "tool_choice.function.name", "'tool_choice.function.name' is required.");
    return true;
  }
  if (type == "file_search" || type == "code_interpreter") return true;
  return fail(error, "tool_choice.type", "'tool_choice.type' must be function, file_search or code_interpreter.");
}

bool valid_truncation(const json& v, std::optional<ApiError>& error) {
  if (!v.is_object()) return fail(error, "truncation_strategy", "'truncation_strategy' must be an object.");
  const std::string type = v.value("type", "");
  if (type == "auto") return true;
  if (type != "last_messages")
    return fail(error, "truncation_strategy.type", "'truncation_strategy.type' must be auto or last_messages.");
  auto n = v.find("last_messages");
  if (n == v.end() || !n->is_number_integer() || n->get<int64_t>() < 1)
    return fail(error, "truncation_strategy.last_messages", "'truncation_strategy.last_messages' must be a positive integer.");
  return true;
}

// Content parts as stored: text parts become {type:text, text:{value, annotations}}.
bool normalize_content(const json& v, const std::string& param, json& out, std::optional<ApiError>& error) {
  out = json::array();
  if (v.is_string()) {
    if (n_chars(v.get<std::string>()) > kMaxMessageChars)
      return fail(error, param, "The message is longer than " + std::to_string(kMaxMessageChars) + " characters.");
    out.push_back({{"type", "text"}, {"text", {{"value", v.get<std::string>()}, {"annotations", json::array()}}}});
    return true;
  }
  if (!v.is_array() || v.empty()) return fail(error, param, "'" + param + "' must be a string or a non-empty array of content parts.");
  size_t i = 0;
  for (const json& part : v) {
    const std::string p = param + "[" + std::to_string(i++) + "]";
    if (!part.is_object()) return fail(error, p, "Each content part must be an object.");
    const std::string type = part.value("type", "");
    if (type == "text") {
      auto t = part.find("text");
      std::string value;
      if (t != part.end() && t->is_string()) value = t->get<std::string>();
      else if (t != part.end() && t->is_object() && t->contains("value") && (*t)["value"].is_string()) value = (*t)["value"];
      else return fail(error, p + ".text", "'" + p + ".text' must be a string.");
      out.push_back({{"type", "text"}, {"text", {{"value", value}, {"annotations", json::array()}}}});
    } else if (type == "image_file") {
      auto f = part.find("image_file");
      if (f == part.end() || !f->is_object() || !f->contains("file_id") || !(*f)["file_id"].is_string())
        return fail(error, p + ".image_file.file_id", "'" + p + ".image_file.file_id' is required.");
      out.push_back({{"type", "image_file"}, {"image_file", *f}});
    } else if (type == "image_url") {
      auto u = part.find("image_url");
      if (u == part.end() || !u->is_object() || !u->contains("url") || !(*u)["url"].is_string())
        return fail(error, p + ".image_url.url", "'" + p + ".image_url.url' is required.");
      out.push_back({{"type", "image_url"}, {"image_url", *u}});
    } else {
      return fail(error, p + ".type", "'" + p + ".type' must be text, image_file or image_url.");
    }
  }
  return true;
}

bool valid_attachments(const json& v, const std::string& param, std::optional<ApiError>& error) {
  if (!v.is_array()) return fail(error, param, "'" + param + "' must be an array.");
  if (v.size() > kMaxAttachments)
    return fail(error, param, "At most " + std::to_string(kMaxAttachments) + " attachments per message.");
  for (const json& a : v) {
    if (!a.is_object() || !a.contains("file_id") || !a["file_id"].is_string())
      return fail(error, param, "Each attachment needs a file_id.");
    if (a.contains("tools") && !a["tools"].is_array()) return fail(error, param, "An attachment's tools must be an array.");
  }
  return true;
}

bool valid_tool_resources(const json& v, const std::string& param, std::optional<ApiError>& error) {
  if (!v.is_object()) return fail(error, param, "'" + param + "' must be an object.");
  for (auto it = v.begin(); it != v.end(); ++it)
    if (it.key() != "file_search" && it.key() != "code_interpreter")
      return fail(error, param + "." + it.key(), "Unknown tool resource '" + it.key() + "'.");
  return true;
}

// A present metadata field into `out` (validated); absent leaves `out` as is.
bool read_metadata(const json& obj, const std::string& prefix, std::string& out, std::optional<ApiError>& error) {
  auto it = obj.find("metadata");
  if (it == obj.end()) return true;
  if (it->is_null()) {
    out = "{}";
    return true;
  }
  if (!valid_metadata(*it, prefix + "metadata", error)) return false;
  out = it->dump();
  return true;
}

ApiResult<json> body_object(std::string_view body, const ServerLimits& limits) {
  return parse_json_body(body, limits.max_json_depth);
}

// Fields an assistant and a run share: model, instructions, tools, temperature, top_p,
// response_format, metadata. Applied onto `a` when present.
bool apply_assistant_fields(const json& b, storage::Assistant& a, std::optional<ApiError>& error) {
  if (auto it = b.find("model"); it != b.end()) {
    if (!it->is_string() || it->get<std::string>().empty()) return fail(error, "model", "'model' must be a non-empty string.");
    a.model = it->get<std::string>();
  }
  if (!read_text(b, "name", "", kMaxNameChars, a.name, error)) return false;
  if (!read_text(b, "description", "", kMaxDescriptionChars, a.description, error)) return false;
  if (!read_text(b, "instructions", "", kMaxInstructionsChars, a.instructions, error)) return false;
  if (auto it = b.find("tools"); it != b.end() && !it->is_null()) {
    if (!valid_tools(*it, "tools", error)) return false;
    a.tools = it->dump();
  }
  if (auto it = b.find("tool_resources"); it != b.end()) {
    if (it->is_null()) a.tool_resources = "{}";
    else if (!valid_tool_resources(*it, "tool_resources", error)) return false;
    else a.tool_resources = it->dump();
  }
  if (!read_number(b, "temperature", "", 0.0, 2.0, a.temperature, error)) return false;
  if (!read_number(b, "top_p", "", 0.0, 1.0, a.top_p, error)) return false;
  if (auto it = b.find("response_format"); it != b.end()) {
    if (it->is_null()) a.response_format = "\"auto\"";
    else if (!valid_response_format(*it, "response_format", error)) return false;
    else a.response_format = it->dump();
  }
  return read_metadata(b, "", a.metadata, error);
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string url_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

// ---- validators -----------------------------------------------------------------------------

bool valid_metadata(const json& v, const std::string& param, std::optional<ApiError>& error) {
  if (!v.is_object()) return fail(error, param, "'" + param + "' must be an object of string values.");
  if (v.size() > kMaxMetadataPairs)
    return fail(error, param, "'" + param + "' may hold at most " + std::to_string(kMaxMetadataPairs) + " key-value pairs.");
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (n_chars(it.key()) > kMaxMetadataKeyChars)
      return fail(error, param, "Metadata keys may be at most " + std::to_string(kMaxMetadataKeyChars) + " characters.");
    if (!it->is_string()) return fail(error, param + "." + it.key(), "Metadata values must be strings.");
    if (n_chars(it->get<std::string>()) > kMaxMetadataValueChars)
      return fail(error, param + "." + it.key(),
                  "Metadata values may be at most " + std::to_string(kMaxMetadataValueChars) + " characters.");
  }
  return true;
}

bool valid_tools(const json& v, const std::string& param, std::optional<ApiError>& error) {
  if (!v.is_array()) return fail(error, param, "'" + param + "' must be an array.");
  if (v.size() > kMaxAssistantTools)
    return fail(error, param, "At most " + std::to_string(kMaxAssistantTools) + " tools.");
  size_t i = 0;
  for (const json& t : v) {
    const std::string p = param + "[" + std::to_string(i++) + "]";
    if (!t.is_object()) return fail(error, p, "Each tool must be an object.");
    const std::string type = t.value("type", "");
    if (type == "code_interpreter" || type == "file_search") continue;
    if (type != "function") return fail(error, p + ".type", "'" + p + ".type' must be function, file_search or code_interpreter.");
    auto f = t.find("function");
    if (f == t.end() || !f->is_object()) return fail(error, p + ".function", "'" + p + ".function' is required.");
    auto name = f->find("name");
    if (name == f->end() || !name->is_string()) return fail(error, p + ".function.name", "'" + p + ".function.name' is required.");
    const std::string n = name->get<std::string>();
    if (n.empty() || n.size() > 64)
      return fail(error, p + ".function.name", "Function names are 1 to 64 characters.");
    for (char c : n)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-')
        return fail(error, p + ".function.name", "Function names may contain only a-z, A-Z, 0-9, underscores and dashes.");
    if (f->contains("parameters") && !(*f)["parameters"].is_object() && !(*f)["parameters"].is_null())
      return fail(error, p + ".function.parameters", "'" + p + ".function.parameters' must be a JSON Schema object.");
  }
  return true;
}

// ---- query strings --------------------------------------------------------------------------

std::optional<std::string> query_param(std::string_view target, std::string_view name) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    const size_t eq = pair.find('=');
    if (url_decode(pair.substr(0, eq)) == name)
      return eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return std::nullopt;
}

ApiResult<storage::PageRequest> parse_page(std::string_view target) {
  storage::PageRequest p;
  if (auto limit = query_param(target, "limit")) {
    int n = 0;
    bool ok = !limit->empty() && limit->size() <= 4;
    for (char c : *limit) ok = ok && std::isdigit(static_cast<unsigned char>(c));
    if (ok) n = std::stoi(*limit);
    if (!ok || n < 1 || n > storage::kMaxPageLimit)
      return ApiError::invalid("limit", "'limit' must be an integer between 1 and 100.");
    p.limit = n;
  }
  if (auto order = query_param(target, "order")) {
    if (*order == "asc") p.order = storage::SortOrder::asc;
    else if (*order == "desc") p.order = storage::SortOrder::desc;
    else return ApiError::invalid("order", "'order' must be asc or desc.");
  }
  if (auto after = query_param(target, "after")) p.after = *after;
  if (auto before = query_param(target, "before")) p.before = *before;
  return p;
}

// ---- bodies ---------------------------------------------------------------------------------

ApiResult<json> parse_body(std::string_view body, const ServerLimits& limits) { return body_object(body, limits); }

ApiResult<storage::Assistant> parse_assistant_create(std::string_view body, const ServerLimits& limits) {
  auto b = body_object(body, limits);
  if (!b.ok()) return b.error();
  if (!b.value().contains("model") || !b.value()["model"].is_string())
    return ApiError::invalid("model", "'model' is required.");
  storage::Assistant a;
  std::optional<ApiError> error;
  if (!apply_assistant_fields(b.value(), a, error)) return *error;
  return a;
}

ApiResult<storage::Assistant> parse_assistant_modify(std::string_view body, const ServerLimits& limits,
                                                     storage::Assistant current) {
  auto b = body_object(body, limits);
  if (!b.ok()) return b.error();
  std::optional<ApiError> error;
  if (!apply_assistant_fields(b.value(), current, error)) return *error;
  return current;
}

ApiResult<storage::Message> parse_message_object(const json& obj, const std::string& prefix) {
  if (!obj.is_object()) return ApiError::invalid(prefix, "A message must be an object.");
  storage::Message m;
  std::optional<ApiError> error;
  const std::string role = obj.value("role", "");
  if (role != "user" && role != "assistant")
    return ApiError::invalid(prefix + "role", "'" + prefix + "role' must be user or assistant.");
  m.role = role;
  auto content = obj.find("content");
  if (content == obj.end()) return ApiError::invalid(prefix + "content", "'" + prefix + "content' is required.");
  json parts;
  if (!normalize_content(*content, prefix + "content", parts, error)) return *error;
  m.content = parts.dump();
  if (auto a = obj.find("attachments"); a != obj.end() && !a->is_null()) {
    if (!valid_attachments(*a, prefix + "attachments", error)) return *error;
    m.attachments = a->dump();
  }
  if (!read_metadata(obj, prefix, m.metadata, error)) return *error;
  m.status = "completed";
  return m;
}

ApiResult<storage::Message> parse_message_create(std::string_view body, const ServerLimits& limits) {
  auto b = body_object(body, limits);
  if (!b.ok()) return b.error();
  return parse_message_object(b.value(), "");
}

ApiResult<ThreadDraft> parse_thread_object(const json& obj, const std::string& prefix) {
  ThreadDraft d;
  std::optional<ApiError> error;
  if (!obj.is_object()) return ApiError::invalid(prefix, "'" + prefix + "' must be an object.");
  if (auto m = obj.find("messages"); m != obj.end() && !m->is_null()) {
    if (!m->is_array()) return ApiError::invalid(prefix + "messages", "'" + prefix + "messages' must be an array.");
    if (m->size() > kMaxThreadMessages)
      return ApiError::invalid(prefix + "messages", "At most " + std::to_string(kMaxThreadMessages) + " messages.");
    for (size_t i = 0; i < m->size(); ++i) {
      auto msg = parse_message_object((*m)[i], prefix + "messages[" + std::to_string(i) + "].");
      if (!msg.ok()) return msg.error();
      d.messages.push_back(std::move(msg.value()));
    }
  }
  if (auto t = obj.find("tool_resources"); t != obj.end() && !t->is_null()) {
    if (!valid_tool_resources(*t, prefix + "tool_resources", error)) return *error;
    d.thread.tool_resources = t->dump();
  }
  if (!read_metadata(obj, prefix, d.thread.metadata, error)) return *error;
  return d;
}

ApiResult<ThreadDraft> parse_thread_create(std::string_view body, const ServerLimits& limits) {
  if (body.empty()) return ThreadDraft{};
  auto b = body_object(body, limits);
  if (!b.ok()) return b.error();
  return parse_thread_object(b.value(), "");
}

ApiResult<storage::Thread> parse_thread_modify(std::string_view body, const ServerLimits& limits,
                                               storage::Thread current) {
  auto b = body_object(body, limits);
  if (!b.ok()) return b.error();
  std::optional<ApiError> error;
  if (auto t = b.value().find("tool_resources"); t != b.value().end() && !t->is_null()) {
    if (!valid_tool_resources(*t, "tool_resources", error)) return *error;
    current.tool_resources = t->dump();
  }
  if (!read_metadata(b.value(), "", current.metadata, error)) return *error;
  return current;
}

ApiResult<std::string> parse_metadata_modify(std::string_view body, const ServerLimits& limits,
                                             const std::string& current) {
  auto b = body_object(body, limits);
  if (!b.ok()) return b.error();
  std::string out = current;
  std::optional<ApiError> error;
  if (!read_metadata(b.value(), "", out, error)) return *error;
  return out;
}

ApiResult<std::string> peek_assistant_id(const json& body) {
  auto it = body.find("assistant_id");
  if (it == body.end() || !it->is_string() || it->get<std::string>().empty())
    return ApiError::invalid("assistant_id", "'assistant_id' is required.");
  return it->get<std::string>();
}

ApiResult<RunDraft> parse_run_create(const json& b, const storage::Assistant& assistant) {
  RunDraft d;
  std::optional<ApiError> error;
  storage::Run& r = d.run;
  r.assistant_id = assistant.id;
  r.model = assistant.model;
  r.instructions = assistant.instructions.value_or("");
  r.tools = assistant.tools;
  r.temperature = assistant.temperature;
  r.top_p = assistant.top_p;
  r.response_format = assistant.response_format;
  if (auto it = b.find("model"); it != b.end() && !it->is_null()) {
    if (!it->is_string() || it->get<std::string>().empty()) return ApiError::invalid("model", "'model' must be a non-empty string.");
    r.model = it->get<std::string>();
  }
  std::optional<std::string> text;
  if (b.contains("instructions") && !b["instructions"].is_null()) {
    if (!read_text(b, "instructions", "", kMaxInstructionsChars, text, error)) return *error;
    r.instructions = text.value_or("");
  }
  if (!read_text(b, "additional_instructions", "", kMaxInstructionsChars, r.additional_instructions, error)) return *error;
  if (auto it = b.find("additional_messages"); it != b.end() && !it->is_null()) {
    if (!it->is_array() || it->size() > kMaxThreadMessages)
      return ApiError::invalid("additional_messages", "'additional_messages' must be an array of at most 32 messages.");
    for (size_t i = 0; i < it->size(); ++i) {
      auto m = parse_message_object((*it)[i], "additional_messages[" + std::to_string(i) + "].");
      if (!m.ok()) return m.error();
      d.additional_messages.push_back(std::move(m.value()));
    }
  }
  if (auto it = b.find("tools"); it != b.end() && !it->is_null()) {
    if (!valid_tools(*it, "tools", error)) return *error;
    r.tools = it->dump();
  }
  if (!read_metadata(b, "", r.metadata, error)) return *error;
  if (!read_number(b, "temperature", "", 0.0, 2.0, r.temperature, error)) return *error;
  if (!read_number(b, "top_p", "", 0.0, 1.0, r.top_p, error)) return *error;
  if (!read_positive(b, "max_prompt_tokens", r.max_prompt_tokens, error)) return *error;
  if (!read_positive(b, "max_completion_tokens", r.max_completion_tokens, error)) return *error;
  if (auto it = b.find("truncation_strategy"); it != b.end() && !it->is_null()) {
    if (!valid_truncation(*it, error)) return *error;
    json t = {{"type", (*it)["type"]}, {"last_messages", it->value("last_messages", json(nullptr))}};
    r.truncation_strategy = t.dump();
  }
  if (auto it = b.find("tool_choice"); it != b.end() && !it->is_null()) {
    if (!valid_tool_choice(*it, error)) return *error;
    r.tool_choice = it->dump();
  }
  if (auto it = b.find("parallel_tool_calls"); it != b.end() && !it->is_null()) {
    if (!it->is_boolean()) return ApiError::invalid("parallel_tool_calls", "'parallel_tool_calls' must be a boolean.");
    r.parallel_tool_calls = it->get<bool>();
  }
  if (auto it = b.find("response_format"); it != b.end() && !it->is_null()) {
    if (!valid_response_format(*it, "response_format", error)) return *error;
    r.response_format = it->dump();
  }
  if (auto it = b.find("stream"); it != b.end() && !it->is_null()) {
    if (!it->is_boolean()) return ApiError::invalid("stream", "'stream' must be a boolean.");
    d.stream = it->get<bool>();
  }
  return d;
}

ApiResult<ToolOutputsDraft> parse_tool_outputs(std::string_view body, const ServerLimits& limits) {
  auto b = body_object(body, limits);
  if (!b.ok()) return b.error();
  ToolOutputsDraft d;
  auto it = b.value().find("tool_outputs");
  if (it == b.value().end() || !it->is_array())
    return ApiError::invalid("tool_outputs", "'tool_outputs' must be an array.");
  for (size_t i = 0; i < it->size(); ++i) {
    const json& o = (*it)[i];
    const std::string p = "tool_outputs[" + std::to_string(i) + "]";
    if (!o.is_object() || !o.contains("tool_call_id") || !o["tool_call_id"].is_string())
      return ApiError::invalid(p + ".tool_call_id", "'" + p + ".tool_call_id' is required.");
    std::string output;
    if (o.contains("output") && o["output"].is_string()) output = o["output"].get<std::string>();
    else if (o.contains("output") && !o["output"].is_null())
      return ApiError::invalid(p + ".output", "'" + p + ".output' must be a string.");
    if (output.size() > kMaxToolOutputBytes)
      return ApiError::invalid(p + ".output", "A tool output may be at most 512 KiB.");
    d.outputs.push_back({o["tool_call_id"].get<std::string>(), std::move(output)});
  }
  if (auto s = b.value().find("stream"); s != b.value().end() && !s->is_null()) {
    if (!s->is_boolean()) return ApiError::invalid("stream", "'stream' must be a boolean.");
    d.stream = s->get<bool>();
  }
  return d;
}

}  // namespace agora::platform::assistants
