#include "platform/openai/json_body.h"

#include <cmath>
#include <set>
#include <vector>

namespace agora::platform {

int json_nesting_depth(std::string_view text, int stop_above) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        max_depth = depth;
        if (max_depth > stop_above) return max_depth;
      }
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    }
  }
  return max_depth;
}

namespace {
// Rejects duplicate keys while the parser builds the document. Depth is already bounded, so the
// stack of key sets is too.
struct DuplicateKeyCheck {
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
  bool operator()(int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    switch (event) {
      case E::object_start: keys.emplace_back(); break;
      case E::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case E::key:
        if (!keys.empty() && parsed.is_string() && !keys.back().insert(parsed.get<std::string>()).second &&
            duplicate.empty())
          duplicate = parsed.get<std::string>();
        break;
      default: break;
    }
    return true;
  }
};
}  // namespace

ApiResult<nlohmann::json> parse_json_body(std::string_view body, int max_depth) {
  if (body.empty()) return ApiError::invalid("", "The request body is empty; expected a JSON object.");
  const int depth = json_nesting_depth(body, max_depth);
  if (depth > max_depth)
    return ApiError::invalid("", "The request body nests arrays/objects deeper than the limit of " +
                                     std::to_string(max_depth) + " levels.");
  DuplicateKeyCheck check;
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(
        body.begin(), body.end(),
        [&check](int d, nlohmann::json::parse_event_t e, nlohmann::json& p) { return check(d, e, p); });
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();
    // nlohmann prefixes "[json.exception.parse_error.101] "; keep the readable part.
    if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    return ApiError::invalid("", "We could not parse the JSON body of your request: " + what);
  }
  if (!check.duplicate.empty())
    return ApiError::invalid(check.duplicate, "The request body has the key '" + check.duplicate + "' more than once.");
  if (!doc.is_object()) return ApiError::invalid("", "The request body must be a JSON object.");
  return doc;
}

const char* json_type_name(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return "boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "integer";
    case nlohmann::json::value_t::number_float: return "number";
    case nlohmann::json::value_t::string: return "string";
    case nlohmann::json::value_t::array: return "array";
    case nlohmann::json::value_t::object: return "object";
    default: return "unknown";
  }
}

const nlohmann::json* FieldReader::find(const char* key) const {
  auto it = obj_.find(key);
  if (it == obj_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool FieldReader::has(const char* key) const { return find(key) != nullptr; }

bool FieldReader::fail(const std::string& param, const std::string& message) {
  if (!error_) error_ = ApiError::invalid(param, message);
  return false;
}

bool FieldReader::read(const char* key, bool& out) {
  if (failed()) return false;
  const auto* v = find(key);
  if (!v) return false;
  if (!v->is_boolean()) return fail(param(key), std::string("'") + param(key) + "' must be a boolean, not " + json_type_name(*v) + ".");
  out = v->get<bool>();
  return true;
}

bool FieldReader::read(const char* key, std::string& out, size_t max_bytes) {
  if (failed()) return false;
  const auto* v = find(key);
  if (!v) return false;
  if (!v->is_string()) return fail(param(key), std::string("'") + param(key) + "' must be a string, not " + json_type_name(*v) + ".");
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > max_bytes)
    return fail(param(key), std::string("'") + param(key) + "' is longer than the limit of " + std::to_string(max_bytes) + " bytes.");
  out = s;
  return true;
}

bool FieldReader::read(const char* key, double& out, double lo, double hi) {
  if (failed()) return false;
  const auto* v = find(key);
  if (!v) return false;
  if (!v->is_number()) return fail(param(key), std::string("'") + param(key) + "' must be a number, not " + json_type_name(*v) + ".");
  const double d = v->get<double>();
  if (!std::isfinite(d) || d < lo || d > hi) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "' must be between %g and %g, got %g.", lo, hi, d);
    return fail(param(key), std::string("'") + param(key) + buf);
  }
  out = d;
  return true;
}

bool FieldReader::read(const char* key, float& out, double lo, double hi) {
  double d = 0;
  if (!read(key, d, lo, hi)) return false;
  out = static_cast<float>(d);
  return true;
}

bool FieldReader::read(const char* key, std::optional<float>& out, double lo, double hi) {
  float f = 0;
  if (!read(key, f, lo, hi)) return false;
  out = f;
  return true;
}

bool FieldReader::read(const char* key, int64_t& out, int64_t lo, int64_t hi) {
  if (failed()) return false;
  const auto* v = find(key);
  if (!v) return false;
  bool integral = v->is_number_integer();
  if (v->is_number_float()) {
    const double d = v->get<double>();
    integral = std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.0e15;
  }
  if (!integral) return fail(param(key), std::string("'") + param(key) + "' must be an integer, not " + json_type_name(*v) + ".");
  int64_t x = 0;
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    x = u > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    x = v->get<int64_t>();
  } else {
    x = static_cast<int64_t>(v->get<double>());
  }
  if (x < lo || x > hi)
    return fail(param(key), std::string("'") + param(key) + "' must be between " + std::to_string(lo) + " and " +
                                std::to_string(hi) + ", got " + std::to_string(x) + ".");
  out = x;
  return true;
}

bool FieldReader::read(const char* key, std::optional<int64_t>& out, int64_t lo, int64_t hi) {
  int64_t x = 0;
  if (!read(key, x, lo, hi)) return false;
  out = x;
  return true;
}

}  // namespace agora::platform
