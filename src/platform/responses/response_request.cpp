#include "platform/responses/response_request.h"

#include "platform/openai/json_body.h"
#include "platform/responses/response_items.h"

namespace agora::platform::responses {

using nlohmann::json;

namespace {
constexpr size_t kMaxInstructionsBytes = 256 * 1024;
constexpr size_t kMaxTools = 128;
}  // namespace

ApiResult<ResponseRequest> parse_response_request(const json& b) {
  ResponseRequest r;
  std::optional<ApiError> err;
  FieldReader f(b, "", err);
  f.read("model", r.model, 256);
  if (const json* in = f.find("input")) {
    auto items = normalize_input(*in, "input", kMaxItemsPerRequest);
    if (!items.ok()) return items.error();
    r.input = items.value();
  }
  if (f.has("instructions")) {
    std::string s;
    f.read("instructions", s, kMaxInstructionsBytes);
    r.instructions = s;
  }
  if (const json* tools = f.find("tools")) {
    if (!tools->is_array() || tools->size() > kMaxTools) return ApiError::invalid("tools", "tools must be a list of at most 128 tools.");
    for (size_t i = 0; i < tools->size(); ++i) {
      const json& t = (*tools)[i];
      const std::string p = "tools[" + std::to_string(i) + "]";
      if (!t.is_object() || !t.contains("type") || !t["type"].is_string()) return ApiError::invalid(p, p + " needs a `type`.");
      const std::string type = t["type"].get<std::string>();
      if (type != "function")
        return ApiError::invalid(p + ".type", "The tool type '" + type + "' is not supported yet; use function tools.");
      if (!t.contains("name") || !t["name"].is_string()) return ApiError::invalid(p + ".name", p + ".name must be a string.");
      agent::FunctionTool ft;
      ft.name = t["name"].get<std::string>();
      if (t.contains("description") && t["description"].is_string()) ft.description = t["description"].get<std::string>();
      if (t.contains("parameters") && t["parameters"].is_object()) ft.parameters_json = dump(t["parameters"]);
      ft.strict = t.value("strict", true) == true;
      r.function_tools.push_back(std::move(ft));
      json echo = {{"type", "function"}, {"name", ft.name}, {"description", t.value("description", json(nullptr))},
                   {"parameters", t.value("parameters", json(nullptr))}, {"strict", t.value("strict", true)}};
      r.tools.push_back(std::move(echo));
    }
  }
  if (const json* tc = f.find("tool_choice")) {
    r.tool_choice = *tc;
    if (tc->is_string()) {
      const std::string s = tc->get<std::string>();
      if (s == "auto") r.choice = agent::ToolChoice::automatic;
      else if (s == "none") r.choice = agent::ToolChoice::none;
      else if (s == "required") r.choice = agent::ToolChoice::required;
      else return ApiError::invalid("tool_choice", "tool_choice must be auto, none, required or a function.");
    } else if (tc->is_object() && tc->value("type", "") == "function" && tc->contains("name") && (*tc)["name"].is_string()) {
      r.choice = agent::ToolChoice::function;
      r.choice_name = (*tc)["name"].get<std::string>();
    } else {
      return ApiError::invalid("tool_choice", "tool_choice must be auto, none, required or {\"type\":\"function\",\"name\"}.");
    }
  }
  f.read("parallel_tool_calls", r.parallel_tool_calls);
  if (const json* text = f.find("text")) {
    if (!text->is_object()) return ApiError::invalid("text", "text must be an object.");
    if (text->contains("format") && !(*text)["format"].is_null()) {
      const json& fm = (*text)["format"];
      const std::string type = fm.is_object() ? fm.value("type", "") : "";
      if (type == "text") r.format = agent::TextFormat::text;
      else if (type == "json_object") r.format = agent::TextFormat::json_object;
      else if (type == "json_schema") {
        if (!fm.contains("schema") || !fm["schema"].is_object())
          return ApiError::invalid("text.format.schema", "text.format.schema must be a JSON Schema object.");
        if (!fm.contains("name") || !fm["name"].is_string())
          return ApiError::invalid("text.format.name", "text.format.name must be a string.");
        r.format = agent::TextFormat::json_schema;
        r.schema_json = dump(fm["schema"]);
        r.schema_strict = fm.value("strict", false) == true;
      } else {
        return ApiError::invalid("text.format.type", "text.format.type must be text, json_object or json_schema.");
      }
      r.text = {{"format", fm}};
    }
  }
  std::optional<float> temp, top_p;
  f.read("temperature", temp, 0.0, 2.0);
  f.read("top_p", top_p, 0.0, 1.0);
  if (temp) r.temperature = *temp;
  if (top_p) r.top_p = *top_p;
  f.read("max_output_tokens", r.max_output_tokens, 1, 1 << 20);
  if (f.has("truncation")) {
    std::string t;
    f.read("truncation", t, 16);
    if (!err && t != "auto" && t != "disabled") return ApiError::invalid("truncation", "truncation must be 'auto' or 'disabled'.");
    r.truncation_auto = t == "auto";
  }
  f.read("store", r.store);
  f.read("background", r.background);
  f.read("stream", r.stream);
  if (err) return *err;
  if (const json* md = f.find("metadata")) {
    auto v = validate_metadata(*md, "metadata");
    if (!v.ok()) return v.error();
    r.metadata = v.value();
  }
  if (f.has("previous_response_id")) {
    std::string s;
    f.read("previous_response_id", s, 128);
    r.previous_response_id = s;
  }
  if (const json* conv = f.find("conversation")) {
    if (conv->is_string()) r.conversation_id = conv->get<std::string>();
    else if (conv->is_object() && conv->contains("id") && (*conv)["id"].is_string()) r.conversation_id = (*conv)["id"].get<std::string>();
    else return ApiError::invalid("conversation", "conversation must be an id or {\"id\"}.");
  }
  if (f.has("user")) {
    std::string s;
    f.read("user", s, 256);
    r.user = s;
  }
  if (err) return *err;
  if (r.previous_response_id && r.conversation_id)
    return ApiError::invalid("previous_response_id", "previous_response_id and conversation cannot be used together.");
  if (r.background && !r.store) return ApiError::invalid("background", "background responses need store=true.");
  if (r.input.empty() && !r.previous_response_id && !r.conversation_id)
    return ApiError::invalid("input", "input is required.");
  return r;
}

}  // namespace agora::platform::responses
