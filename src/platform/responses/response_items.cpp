#include "platform/responses/response_items.h"

#include "platform/openai/generation.h"

namespace agora::platform::responses {

using nlohmann::json;
using storage::StoreErrc;

namespace {

ApiResult<json> normalize_parts(const json& content, const std::string& role, const std::string& param) {
  const bool assistant = role == "assistant";
  json parts = json::array();
  if (content.is_string()) {
    json p = {{"type", assistant ? "output_text" : "input_text"}, {"text", content}};
    if (assistant) p["annotations"] = json::array();
    parts.push_back(std::move(p));
    return parts;
  }
  if (!content.is_array()) return ApiError::invalid(param, param + " must be a string or a list of content parts.");
  for (size_t i = 0; i < content.size(); ++i) {
    const json& p = content[i];
    const std::string pp = param + "[" + std::to_string(i) + "]";
    if (!p.is_object() || !p.contains("type") || !p["type"].is_string())
      return ApiError::invalid(pp, pp + " must be an object with a `type`.");
    const std::string type = p["type"].get<std::string>();
    if (type == "input_text" || type == "output_text" || type == "text" || type == "refusal") {
      const char* key = type == "refusal" ? "refusal" : "text";
      if (!p.contains(key) || !p[key].is_string()) return ApiError::invalid(pp + "." + key, pp + "." + key + " must be a string.");
      json q = p;
      if (type == "text") q["type"] = assistant ? "output_text" : "input_text";
      if (q["type"] == "output_text" && !q.contains("annotations")) q["annotations"] = json::array();
      parts.push_back(std::move(q));
    } else if (type == "input_file" || type == "input_image") {
      // TODO(knowledge): file and image inputs reach the model once the knowledge issue lands;
      // they are kept in the conversation and skipped in the prompt until then.
      parts.push_back(p);
    } else {
      return ApiError::invalid(pp + ".type", "Unsupported content part type '" + type + "'.");
    }
  }
  return parts;
}

bool is_string_field(const json& o, const char* k) { return o.contains(k) && o[k].is_string(); }

}  // namespace

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

ApiResult<json> normalize_item(const json& in, const std::string& param) {
  if (!in.is_object()) return ApiError::invalid(param, param + " must be an object.");
  std::string type = is_string_field(in, "type") ? in["type"].get<std::string>() : (in.contains("role") ? "message" : "");
  json out;
  if (type == "message") {
    if (!is_string_field(in, "role")) return ApiError::invalid(param + ".role", param + ".role must be a string.");
    const std::string role = in["role"].get<std::string>();
    if (role != "user" && role != "assistant" && role != "system" && role != "developer")
      return ApiError::invalid(param + ".role", "role must be one of user, assistant, system, developer.");
    if (!in.contains("content")) return ApiError::invalid(param + ".content", param + ".content is required.");
    auto parts = normalize_parts(in["content"], role, param + ".content");
    if (!parts.ok()) return parts.error();
    out = {{"type", "message"}, {"role", role}, {"content", parts.value()}};
    out["id"] = is_string_field(in, "id") ? in["id"].get<std::string>() : make_id("msg_");
    out["status"] = is_string_field(in, "status") ? in["status"] : json("completed");
  } else if (type == "function_call") {
    for (const char* k : {"call_id", "name", "arguments"})
      if (!is_string_field(in, k)) return ApiError::invalid(param + "." + k, param + "." + k + " must be a string.");
    out = {{"type", "function_call"}, {"call_id", in["call_id"]}, {"name", in["name"]}, {"arguments", in["arguments"]}};
    out["id"] = is_string_field(in, "id") ? in["id"].get<std::string>() : make_id("fc_");
    out["status"] = "completed";
  } else if (type == "function_call_output") {
    if (!is_string_field(in, "call_id")) return ApiError::invalid(param + ".call_id", param + ".call_id must be a string.");
    if (!in.contains("output")) return ApiError::invalid(param + ".output", param + ".output is required.");
    json output = in["output"];
    if (output.is_array()) {  // a list of input_text parts
      std::string text;
      for (const auto& p : output)
        if (p.is_object() && is_string_field(p, "text")) text += p["text"].get<std::string>();
      output = text;
    }
    if (!output.is_string()) return ApiError::invalid(param + ".output", param + ".output must be a string.");
    out = {{"type", "function_call_output"}, {"call_id", in["call_id"]}, {"output", output}};
    out["id"] = is_string_field(in, "id") ? in["id"].get<std::string>() : make_id("fco_");
    out["status"] = "completed";
  } else if (type.empty()) {
    return ApiError::invalid(param + ".type", param + " needs a `type` (message, function_call, function_call_output).");
  } else {
    return ApiError::invalid(param + ".type", "Unsupported item type '" + type + "'.");
  }
  if (out["id"].get<std::string>().size() > 128) return ApiError::invalid(param + ".id", "id is longer than 128 bytes.");
  return out;
}

ApiResult<json> normalize_input(const json& input, const std::string& param, size_t max_items) {
  json items = json::array();
  if (input.is_string()) {
    auto one = normalize_item(json{{"type", "message"}, {"role", "user"}, {"content", input}}, param);
    if (!one.ok()) return one.error();
    items.push_back(one.value());
    return items;
  }
  if (!input.is_array()) return ApiError::invalid(param, param + " must be a string or a list of items.");
  if (input.size() > max_items)
    return ApiError::invalid(param, param + " has more than " + std::to_string(max_items) + " items.");
  for (size_t i = 0; i < input.size(); ++i) {
    auto one = normalize_item(input[i], param + "[" + std::to_string(i) + "]");
    if (!one.ok()) return one.error();
    items.push_back(one.value());
  }
  return items;
}

bool to_agent_item(const json& it, agent::Item& out) {
  const std::string type = it.value("type", "");
  out = agent::Item{};
  if (type == "message") {
    out.kind = agent::Item::Kind::message;
    out.role = it.value("role", "user");
    for (const auto& p : it.value("content", json::array())) {
      if (!p.is_object()) continue;
      if (p.contains("text") && p["text"].is_string()) out.text += p["text"].get<std::string>();
      else if (p.contains("refusal") && p["refusal"].is_string()) out.text += p["refusal"].get<std::string>();
    }
    return true;
  }
  if (type == "function_call") {
    out.kind = agent::Item::Kind::function_call;
    out.call_id = it.value("call_id", "");
    out.name = it.value("name", "");
    out.arguments = it.value("arguments", "{}");
    return true;
  }
  if (type == "function_call_output") {
    out.kind = agent::Item::Kind::function_call_output;
    out.call_id = it.value("call_id", "");
    out.output = it["output"].is_string() ? it["output"].get<std::string>() : dump(it["output"]);
    return true;
  }
  return false;
}

ApiResult<json> validate_metadata(const json& v, const std::string& param) {
  if (v.is_null()) return json::object();
  if (!v.is_object()) return ApiError::invalid(param, param + " must be an object of strings.");
  if (v.size() > kMaxMetadataPairs) return ApiError::invalid(param, param + " has more than 16 keys.");
  for (const auto& [k, val] : v.items()) {
    if (k.size() > kMaxMetadataKeyBytes) return ApiError::invalid(param, "metadata keys are at most 64 characters.");
    if (!val.is_string()) return ApiError::invalid(param + "." + k, "metadata values must be strings.");
    if (val.get<std::string>().size() > kMaxMetadataValueBytes)
      return ApiError::invalid(param + "." + k, "metadata values are at most 512 characters.");
  }
  return v;
}

storage::ConversationItem to_stored_item(const json& item) {
  storage::ConversationItem it;
  it.id = item.value("id", "");
  it.type = item.value("type", "");
  it.item = dump(item);
  return it;
}

json parse_stored(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json() : j;
}

ApiError api_error(const storage::StoreStatus& st, const std::string& param) {
  switch (st.code()) {
    case StoreErrc::not_found: return {ApiErrorKind::not_found, st.message(), param};
    case StoreErrc::invalid_argument:
    case StoreErrc::conflict: return ApiError::invalid(param, st.message());
    case StoreErrc::too_large: return {ApiErrorKind::payload_too_large, st.message(), param};
    case StoreErrc::unavailable: return {ApiErrorKind::unavailable, "Storage is unavailable: " + st.message(), ""};
    default: return {ApiErrorKind::internal, st.message(), ""};
  }
}

namespace {
std::string url_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') out += ' ';
    else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
             std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else out += s[i];
  }
  return out;
}
}  // namespace

std::string query_param(std::string_view target, std::string_view key) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    const size_t eq = pair.find('=');
    if (url_decode(pair.substr(0, eq)) == key) return eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return {};
}

ApiResult<storage::PageRequest> page_request_from_query(std::string_view target, storage::SortOrder default_order) {
  storage::PageRequest p;
  p.order = default_order;
  const std::string limit = query_param(target, "limit");
  if (!limit.empty()) {
    char* end = nullptr;
    const long v = std::strtol(limit.c_str(), &end, 10);
    if (*end != '\0' || v < 1 || v > storage::kMaxPageLimit)
      return ApiError::invalid("limit", "limit must be an integer between 1 and 100.");
    p.limit = static_cast<int>(v);
  }
  const std::string order = query_param(target, "order");
  if (order == "asc") p.order = storage::SortOrder::asc;
  else if (order == "desc") p.order = storage::SortOrder::desc;
  else if (!order.empty()) return ApiError::invalid("order", "order must be 'asc' or 'desc'.");
  p.after = query_param(target, "after");
  p.before = query_param(target, "before");
  return p;
}

json list_json(json data, bool has_more) {
  json first = data.empty() ? json(nullptr) : data.front().value("id", json(nullptr));
  json last = data.empty() ? json(nullptr) : data.back().value("id", json(nullptr));
  return {{"object", "list"}, {"data", std::move(data)}, {"first_id", first}, {"last_id", last}, {"has_more", has_more}};
}

}  // namespace agora::platform::responses
