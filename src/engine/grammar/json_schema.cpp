// JSON Schema -> GBNF. Contracts in json_schema.h. The document is parsed with nlohmann_json
// (ordered, to keep property order) after a depth pre-scan, so neither the parser nor this
// converter's recursion (one level per schema nesting level) can exceed kMaxSchemaDepth.
// `$ref` targets are converted once each from a worklist, never recursively, so recursive
// schemas become recursive rules.
#include "engine/grammar/json_schema.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/grammar/builtin_grammars.h"
#include "engine/grammar/gbnf_parser.h"
#include "engine/grammar/gbnf_text.h"
#include "engine/grammar/grammar_limits.h"
#include "engine/grammar/int_range_gbnf.h"
#include "engine/grammar/regex_to_gbnf.h"

namespace agora {

namespace gl = grammar_limits;
using Json = nlohmann::ordered_json;

namespace {

const std::set<std::string> kAnnotations = {
    "title",    "description", "default",  "examples",  "$schema",    "$id",
    "$comment", "deprecated",  "readOnly", "writeOnly", "$defs",      "definitions"};
const std::set<std::string> kSupported = {
    "type",      "properties", "required",   "additionalProperties", "enum",
    "const",     "items",      "prefixItems", "minItems",            "maxItems",
    "minLength", "maxLength",  "pattern",    "format",               "minimum",
    "maximum",   "exclusiveMinimum", "exclusiveMaximum", "anyOf",    "oneOf",
    "allOf",     "$ref"};

// Rejects documents nested deeper than kMaxSchemaDepth before any parser recursion sees them.
Status check_depth(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > gl::kMaxSchemaDepth) {
        return Status(ErrorCode::out_of_range,
                      "JSON Schema nested deeper than " + std::to_string(gl::kMaxSchemaDepth) +
                          " levels (kMaxSchemaDepth) at byte " + std::to_string(i));
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return {};
}

std::string path_or_root(const std::string& p) { return p.empty() ? "/" : p; }

std::string escape_pointer(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// Formats as GBNF bodies for the characters between the quotes.
std::optional<std::string> format_gbnf(const std::string& format) {
  const std::string date =
      R"([0-9]{4} "-" ( "0" [1-9] | "1" [0-2] ) "-" ( "0" [1-9] | [12] [0-9] | "3" [01] ))";
  const std::string time =
      R"(( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] ":" [0-5] [0-9] ( "." [0-9]{1,9} )? )"
      R"(( "Z" | [+-] ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] ))";
  if (format == "date") return date;
  if (format == "time") return time;
  if (format == "date-time") return date + " \"T\" " + time;
  if (format == "uuid") {
    return R"([0-9a-fA-F]{8} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" )"
           R"([0-9a-fA-F]{12})";
  }
  if (format == "email") {
    return R"([a-zA-Z0-9_%+-]{1,32} ( "." [a-zA-Z0-9_%+-]{1,32} ){0,4} "@" )"
           R"([a-zA-Z0-9]{1,32} ( "-" [a-zA-Z0-9]{1,32} )? ( "." [a-zA-Z0-9]{1,32} ( "-" [a-zA-Z0-9]{1,32} )? ){1,4})";
  }
  return std::nullopt;
}

class SchemaConverter {
 public:
  SchemaConverter(const Json& root, const JsonSchemaOptions& options)
      : root_(root), options_(options) {
    for (const char* n : {"root", "json-ws", "json-value", "json-object", "json-array",
                          "json-string", "json-char", "json-number", "json-integer",
                          "json-boolean", "json-null"}) {
      names_.insert(n);
    }
  }

  Result<std::string> run() {
    if (options_.strict) {
      if (!root_.is_object() || root_.value("type", Json()) != "object") {
        return Status(ErrorCode::invalid_argument,
                      "strict schema: the root must be an object schema with \"type\": \"object\"");
      }
    }
    std::string root_expr;
    Status st = visit(root_, "", 0, root_expr);
    if (!st.ok()) return st;
    while (!pending_.empty()) {
      auto [pointer, name] = pending_.back();
      pending_.pop_back();
      const Json* target = resolve(pointer);
      if (!target) {
        return Status(ErrorCode::invalid_argument,
                      "$ref \"" + pointer + "\" does not resolve inside the schema");
      }
      std::string expr;
      st = visit(*target, pointer.substr(1), 0, expr);
      if (!st.ok()) return st;
      st = define(name, expr);
      if (!st.ok()) return st;
    }
    std::string out = "root ::= " + root_expr + "\n" + rules_ + json_primitives_gbnf();
    if (out.size() > gl::kMaxSchemaGbnfBytes) return too_big();
    return out;
  }

 private:
  Status too_big() const {
    return Status(ErrorCode::out_of_range, "JSON Schema compiles to more than " +
                                               std::to_string(gl::kMaxSchemaGbnfBytes) +
                                               " bytes of grammar (kMaxSchemaGbnfBytes)");
  }
  static Status error(const std::string& path, const std::string& what) {
    return Status(ErrorCode::invalid_argument, "JSON Schema at " + path_or_root(path) + ": " + what);
  }

  std::string fresh_name(const std::string& hint) {
    std::string base;
    for (char c : hint) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (ok) {
        base += c;
      } else if (!base.empty() && base.back() != '-') {
        base += '-';
      }
      if (base.size() >= 40) break;
    }
    while (!base.empty() && base.back() == '-') base.pop_back();
    if (base.empty()) base = "s";
    base = "s-" + base;
    std::string name = base;
    for (int i = 2; names_.count(name); ++i) name = base + "-" + std::to_string(i);
    names_.insert(name);
    return name;
  }
  Status define(const std::string& name, const std::string& body) {
    rules_ += name + " ::= " + body + "\n";
    if (rules_.size() > gl::kMaxSchemaGbnfBytes) return too_big();
    return {};
  }
  Result<std::string> rule(const std::string& hint, const std::string& body) {
    std::string name = fresh_name(hint);
    Status st = define(name, body);
    if (!st.ok()) return st;
    return name;
  }

  const Json* resolve(const std::string& ref) const {
    if (ref.empty() || ref[0] != '#') return nullptr;
    try {
      const Json& j = root_.at(Json::json_pointer(ref.substr(1)));
      return &j;
    } catch (const Json::exception&) {
      return nullptr;
    }
  }

  Status visit(const Json& s, const std::string& path, int depth, std::string& expr) {
    if (depth > gl::kMaxSchemaDepth) {
      return Status(ErrorCode::out_of_range, "JSON Schema nested deeper than " +
                                                 std::to_string(gl::kMaxSchemaDepth) +
                                                 " levels (kMaxSchemaDepth) at " + path);
    }
    if (s.is_boolean()) {
      if (!s.get<bool>()) return error(path, "schema `false` can never be satisfied");
      expr = "json-value";
      return {};
    }
    if (!s.is_object()) return error(path, "a schema must be an object or a boolean");
    std::vector<std::string> unknown;
    bool constraining = false;
    for (auto it = s.begin(); it != s.end(); ++it) {
      if (kAnnotations.count(it.key())) continue;
      if (!kSupported.count(it.key())) {
        unknown.push_back("'" + it.key() + "'");
      } else {
        constraining = true;
      }
    }
    if (!unknown.empty()) {
      std::string list;
      for (size_t i = 0; i < unknown.size(); ++i) list += (i ? ", " : "") + unknown[i];
      return error(path, "unsupported keyword" + std::string(unknown.size() > 1 ? "s " : " ") + list);
    }
    auto only = [&](const char* key) {
      for (auto it = s.begin(); it != s.end(); ++it) {
        if (it.key() != key && !kAnnotations.count(it.key())) return false;
      }
      return true;
    };
    if (!constraining) {
      expr = "json-value";
      return {};
    }
    if (s.contains("$ref")) {
      if (!only("$ref")) return error(path, "keywords next to $ref are not supported");
      if (!s["$ref"].is_string()) return error(path, "$ref must be a string");
      std::string ref = s["$ref"].get<std::string>();
      if (ref.empty() || ref[0] != '#') {
        return error(path, "only local $ref (\"#...\") is supported, got \"" + ref + "\"");
      }
      auto it = refs_.find(ref);
      if (it == refs_.end()) {
        std::string name = fresh_name(ref.substr(ref.rfind('/') == std::string::npos ? 1 : ref.rfind('/') + 1));
        it = refs_.emplace(ref, name).first;
        pending_.push_back({ref, name});
      }
      expr = it->second;
      return {};
    }
    if (s.contains("const")) {
      if (!only("const")) return error(path, "keywords next to const are not supported");
      expr = gbnf::literal(s["const"].dump());
      return {};
    }
    if (s.contains("enum")) {
      const Json& e = s["enum"];
      if (!e.is_array() || e.empty()) return error(path, "enum must be a non-empty array");
      n_enum_ += e.size();
      if (n_enum_ > gl::kMaxEnumValues) {
        return Status(ErrorCode::out_of_range, "JSON Schema has more than " +
                                                   std::to_string(gl::kMaxEnumValues) +
                                                   " enum values (kMaxEnumValues)");
      }
      expr = "(";
      for (size_t i = 0; i < e.size(); ++i) expr += (i ? " | " : " ") + gbnf::literal(e[i].dump());
      expr += " )";
      return {};
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!s.contains(key)) continue;
      if (!only(key)) return error(path, std::string(key) + " next to other keywords is not supported");
      const Json& alts = s[key];
      if (!alts.is_array() || alts.empty()) return error(path, std::string(key) + " must be a non-empty array");
      expr = "(";
      for (size_t i = 0; i < alts.size(); ++i) {
        std::string sub;
        Status st = visit(alts[i], path + "/" + key + "/" + std::to_string(i), depth + 1, sub);
        if (!st.ok()) return st;
        expr += (i ? " | " : " ") + sub;
      }
      expr += " )";
      return {};
    }
    if (s.contains("allOf")) return visit_all_of(s, path, depth, expr);

    const Json type = s.value("type", Json());
    if (type.is_array()) {
      if (type.empty()) return error(path, "type must not be an empty array");
      expr = "(";
      for (size_t i = 0; i < type.size(); ++i) {
        Json one = s;
        one["type"] = type[i];
        std::string sub;
        Status st = visit(one, path, depth + 1, sub);
        if (!st.ok()) return st;
        expr += (i ? " | " : " ") + sub;
      }
      expr += " )";
      return {};
    }
    std::string t;
    if (type.is_string()) {
      t = type.get<std::string>();
    } else if (!type.is_null()) {
      return error(path, "type must be a string or an array of strings");
    } else if (s.contains("properties") || s.contains("additionalProperties") || s.contains("required")) {
      t = "object";
    } else if (s.contains("items") || s.contains("prefixItems") || s.contains("minItems") ||
               s.contains("maxItems")) {
      t = "array";
    } else if (s.contains("pattern") || s.contains("format") || s.contains("minLength") ||
               s.contains("maxLength")) {
      t = "string";
    } else {
      t = "number";
    }
    if (t == "null") expr = "json-null";
    else if (t == "boolean") expr = "json-boolean";
    else if (t == "integer") return visit_integer(s, path, expr);
    else if (t == "number") return visit_number(s, path, expr);
    else if (t == "string") return visit_string(s, path, expr);
    else if (t == "array") return visit_array(s, path, depth, expr);
    else if (t == "object") return visit_object(s, path, depth, expr);
    else return error(path, "unknown type \"" + t + "\"");
    return {};
  }

  Status get_count(const Json& s, const char* key, const std::string& path, std::optional<uint64_t>& out) {
    if (!s.contains(key)) return {};
    const Json& v = s[key];
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
      return error(path, std::string(key) + " must be a non-negative integer");
    }
    out = v.get<uint64_t>();
    if (*out > gl::kMaxRepetition) {
      return Status(ErrorCode::out_of_range, "JSON Schema at " + path_or_root(path) + ": " + key +
                                                 " = " + std::to_string(*out) + " is over " +
                                                 std::to_string(gl::kMaxRepetition) +
                                                 " (kMaxRepetition)");
    }
    return {};
  }

  Status visit_integer(const Json& s, const std::string& path, std::string& expr) {
    std::optional<int64_t> lo, hi;
    auto bound = [&](const char* key, bool lower, bool exclusive) -> Status {
      if (!s.contains(key)) return {};
      const Json& v = s[key];
      if (!v.is_number()) return error(path, std::string(key) + " must be a number");
      double d = v.get<double>();
      if (!(std::fabs(d) < 9.0e18)) return error(path, std::string(key) + " is out of range");
      int64_t b;
      if (v.is_number_integer()) {
        b = v.get<int64_t>();
        if (exclusive) b += lower ? 1 : -1;
      } else {
        b = static_cast<int64_t>(lower ? std::floor(d) + 1 : std::ceil(d) - 1);
        if (!exclusive && d == std::floor(d)) b = static_cast<int64_t>(d);
        else if (!exclusive) b = static_cast<int64_t>(lower ? std::ceil(d) : std::floor(d));
      }
      auto& slot = lower ? lo : hi;
      slot = slot ? (lower ? std::max(*slot, b) : std::min(*slot, b)) : b;
      return {};
    };
    for (auto [key, lower, excl] : {std::tuple{"minimum", true, false}, {"maximum", false, false},
                                    {"exclusiveMinimum", true, true}, {"exclusiveMaximum", false, true}}) {
      Status st = bound(key, lower, excl);
      if (!st.ok()) return st;
    }
    if (lo && hi && *lo > *hi) return error(path, "no integer satisfies the minimum/maximum bounds");
    expr = (lo || hi) ? int_range_gbnf(lo, hi) : "json-integer";
    return {};
  }

  // TODO(grammar-number-bounds): bounds on non-integer numbers need digit patterns with
  // fractions; rejected for now rather than generating values that could break them.
  Status visit_number(const Json& s, const std::string& path, std::string& expr) {
    for (const char* key : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}) {
      if (s.contains(key)) {
        return error(path, std::string(key) +
                               " is supported for \"type\": \"integer\" only, not for numbers");
      }
    }
    expr = "json-number";
    return {};
  }

  Status visit_string(const Json& s, const std::string& path, std::string& expr) {
    std::optional<uint64_t> min_len, max_len;
    Status st = get_count(s, "minLength", path, min_len);
    if (st.ok()) st = get_count(s, "maxLength", path, max_len);
    if (!st.ok()) return st;
    if (min_len && max_len && *min_len > *max_len) return error(path, "minLength is above maxLength");
    const bool lengths = min_len || max_len;
    if (s.contains("format")) {
      if (!s["format"].is_string()) return error(path, "format must be a string");
      std::string f = s["format"].get<std::string>();
      auto body = format_gbnf(f);
      if (!body) {
        return error(path, "unsupported format \"" + f +
                               "\" (supported: date, time, date-time, uuid, email)");
      }
      if (lengths || s.contains("pattern")) {
        return error(path, "format together with pattern/minLength/maxLength is not supported");
      }
      expr = "\"\\\"\" " + *body + " \"\\\"\"";
      return {};
    }
    if (s.contains("pattern")) {
      if (!s["pattern"].is_string()) return error(path, "pattern must be a string");
      if (lengths) return error(path, "pattern together with minLength/maxLength is not supported");
      auto body = regex_to_gbnf(s["pattern"].get<std::string>(), true);
      if (!body.ok()) {
        return Status(body.status().code(), "JSON Schema at " + path_or_root(path) + ": " +
                                                body.status().message());
      }
      expr = "\"\\\"\" " + *body + " \"\\\"\"";
      return {};
    }
    if (!lengths) {
      expr = "json-string";
      return {};
    }
    std::string rep = "{" + std::to_string(min_len.value_or(0)) + "," +
                      (max_len ? std::to_string(*max_len) : "") + "}";
    expr = "\"\\\"\" json-char" + rep + " \"\\\"\"";
    return {};
  }

  Status visit_array(const Json& s, const std::string& path, int depth, std::string& expr) {
    std::optional<uint64_t> min_items, max_items;
    Status st = get_count(s, "minItems", path, min_items);
    if (st.ok()) st = get_count(s, "maxItems", path, max_items);
    if (!st.ok()) return st;
    std::vector<std::string> prefix;
    if (s.contains("prefixItems")) {
      const Json& p = s["prefixItems"];
      if (!p.is_array()) return error(path, "prefixItems must be an array");
      for (size_t i = 0; i < p.size(); ++i) {
        std::string sub;
        st = visit(p[i], path + "/prefixItems/" + std::to_string(i), depth + 1, sub);
        if (!st.ok()) return st;
        prefix.push_back(sub);
      }
    }
    std::optional<std::string> item;  // extra items
    if (s.contains("items")) {
      const Json& it = s["items"];
      if (!(it.is_boolean() && !it.get<bool>())) {
        std::string sub;
        st = visit(it, path + "/items", depth + 1, sub);
        if (!st.ok()) return st;
        item = sub;
      }
    } else if (prefix.empty()) {
      item = "json-value";
    }
    const uint64_t k = prefix.size();
    if (max_items && *max_items < k) return error(path, "maxItems is below the number of prefixItems");
    uint64_t a = min_items && *min_items > k ? *min_items - k : 0;
    std::optional<uint64_t> b;
    if (max_items) b = *max_items - k;
    if (!item) b = 0;
    if (b && a > *b) return error(path, "minItems cannot be satisfied");
    auto bounds = [](uint64_t lo, std::optional<uint64_t> hi) {
      return "{" + std::to_string(lo) + "," + (hi ? std::to_string(*hi) : "") + "}";
    };
    std::string body = "\"[\" json-ws";
    if (k > 0) {
      for (size_t i = 0; i < prefix.size(); ++i) {
        body += (i ? " \",\" json-ws " : " ") + prefix[i] + " json-ws";
      }
      if (item && (!b || *b > 0)) {
        body += " ( \",\" json-ws " + *item + " json-ws )" + bounds(a, b);
      }
    } else if (item && (!b || *b > 0)) {
      std::string more = " ( \",\" json-ws " + *item + " json-ws )" +
                         bounds(a > 0 ? a - 1 : 0, b ? std::optional<uint64_t>(*b - 1) : std::nullopt);
      if (a > 0) {
        body += " " + *item + " json-ws" + more;
      } else {
        body += " ( " + *item + " json-ws" + more + " )?";
      }
    }
    body += " \"]\"";
    auto name = rule(path.empty() ? "root-array" : path, body);
    if (!name.ok()) return name.status();
    expr = *name;
    return {};
  }

  Status visit_object(const Json& s, const std::string& path, int depth, std::string& expr) {
    const Json props = s.value("properties", Json::object());
    if (!props.is_object()) return error(path, "properties must be an object");
    std::vector<std::string> required;
    if (s.contains("required")) {
      if (!s["required"].is_array()) return error(path, "required must be an array");
      for (const Json& r : s["required"]) {
        if (!r.is_string()) return error(path, "required must list strings");
        required.push_back(r.get<std::string>());
      }
    }
    const Json additional = s.value("additionalProperties", Json());
    if (options_.strict) {
      if (!(additional.is_boolean() && !additional.get<bool>())) {
        return error(path, "strict schema: objects must set \"additionalProperties\": false");
      }
      for (auto it = props.begin(); it != props.end(); ++it) {
        if (std::find(required.begin(), required.end(), it.key()) == required.end()) {
          return error(path, "strict schema: property '" + it.key() + "' must be listed in required");
        }
      }
    }
    n_props_ += props.size();
    if (n_props_ > gl::kMaxSchemaProperties) {
      return Status(ErrorCode::out_of_range, "JSON Schema has more than " +
                                                 std::to_string(gl::kMaxSchemaProperties) +
                                                 " properties (kMaxSchemaProperties)");
    }
    if (props.empty() && required.empty() && (additional.is_null() || additional == true)) {
      expr = "json-object";
      return {};
    }
    enum Kind { kRequired, kOptional, kRepeated };
    struct Item {
      std::string kv;
      Kind kind;
    };
    std::vector<Item> items;
    const std::string base = path.empty() ? "root" : path;
    for (auto it = props.begin(); it != props.end(); ++it) {
      std::string value;
      Status st = visit(it.value(), path + "/properties/" + escape_pointer(it.key()), depth + 1, value);
      if (!st.ok()) return st;
      auto kv = rule(base + "-" + it.key() + "-kv",
                     gbnf::literal(Json(it.key()).dump()) + " json-ws \":\" json-ws " + value + " json-ws");
      if (!kv.ok()) return kv.status();
      bool req = std::find(required.begin(), required.end(), it.key()) != required.end();
      items.push_back({*kv, req ? kRequired : kOptional});
    }
    const bool extras_allowed = !additional.is_null() && !(additional.is_boolean() && !additional.get<bool>());
    for (const std::string& r : required) {
      if (props.contains(r)) continue;
      if (!extras_allowed && !additional.is_null()) {
        return error(path, "required property '" + r + "' is not allowed by additionalProperties");
      }
      auto kv = rule(base + "-" + r + "-kv",
                     gbnf::literal(Json(r).dump()) + " json-ws \":\" json-ws json-value json-ws");
      if (!kv.ok()) return kv.status();
      items.push_back({*kv, kRequired});
    }
    if (extras_allowed) {
      std::string value = "json-value";
      if (additional.is_object()) {
        Status st = visit(additional, path + "/additionalProperties", depth + 1, value);
        if (!st.ok()) return st;
      }
      // TODO(grammar-extra-keys): extra keys may repeat a declared property name.
      auto kv = rule(base + "-extra-kv", "json-string json-ws \":\" json-ws " + value + " json-ws");
      if (!kv.ok()) return kv.status();
      items.push_back({*kv, kRepeated});
    }
    // rest_i: items i.. after something was written; first_i: items i.. with nothing written yet.
    std::string rest_next = "", first_next = "\"\"";
    std::vector<std::string> rest_names(items.size() + 1);
    for (size_t i = items.size(); i-- > 0;) {
      const Item& item = items[i];
      std::string form = item.kind == kRequired ? "\",\" json-ws " + item.kv
                         : item.kind == kOptional ? "( \",\" json-ws " + item.kv + " )?"
                                                  : "( \",\" json-ws " + item.kv + " )*";
      auto rest = rule(base + "-rest", form + (rest_next.empty() ? "" : " " + rest_next));
      if (!rest.ok()) return rest.status();
      std::string first_body = item.kind == kRequired ? item.kv + " " + rest_next
                               : item.kind == kOptional ? item.kv + " " + rest_next + " | " + first_next
                                                        : item.kv + " " + *rest + " | " + first_next;
      auto first = rule(base + "-first", first_body);
      if (!first.ok()) return first.status();
      rest_next = *rest;
      first_next = *first;
    }
    auto obj = rule(base + "-object", "\"{\" json-ws " + first_next + " \"}\"");
    if (!obj.ok()) return obj.status();
    expr = *obj;
    return {};
  }

  Status visit_all_of(const Json& s, const std::string& path, int depth, std::string& expr) {
    const Json& parts = s["allOf"];
    if (!parts.is_array() || parts.empty()) return error(path, "allOf must be a non-empty array");
    Json merged = Json::object();
    merged["type"] = "object";
    Json props = Json::object();
    Json required = Json::array();
    auto absorb = [&](const Json& part, const std::string& where) -> Status {
      const Json* p = &part;
      for (int hops = 0; p->is_object() && p->contains("$ref"); ++hops) {
        if (hops > 16) return error(where, "allOf: $ref chain too long");
        p = resolve((*p)["$ref"].get<std::string>());
        if (!p) return error(where, "allOf: $ref does not resolve");
      }
      if (!p->is_object()) return error(where, "allOf is supported for object schemas only");
      for (auto it = p->begin(); it != p->end(); ++it) {
        const std::string& k = it.key();
        if (k == "properties") {
          for (auto pit = it->begin(); pit != it->end(); ++pit) {
            if (props.contains(pit.key())) {
              return error(where, "allOf: property '" + pit.key() + "' defined twice");
            }
            props[pit.key()] = pit.value();
          }
        } else if (k == "required") {
          for (const Json& r : *it) required.push_back(r);
        } else if (k == "additionalProperties") {
          merged[k] = it.value();
        } else if (k == "type") {
          if (it.value() != "object") return error(where, "allOf is supported for object schemas only");
        } else if (!kAnnotations.count(k) && k != "allOf") {
          return error(where, "allOf: keyword '" + k + "' inside allOf is not supported");
        }
      }
      return {};
    };
    for (size_t i = 0; i < parts.size(); ++i) {
      Status st = absorb(parts[i], path + "/allOf/" + std::to_string(i));
      if (!st.ok()) return st;
    }
    Json outer = s;
    outer.erase("allOf");
    Status st = absorb(outer, path);
    if (!st.ok()) return st;
    merged["properties"] = props;
    if (!required.empty()) merged["required"] = required;
    return visit(merged, path, depth + 1, expr);
  }

  const Json& root_;
  JsonSchemaOptions options_;
  std::string rules_;
  std::unordered_set<std::string> names_;
  std::unordered_map<std::string, std::string> refs_;
  std::vector<std::pair<std::string, std::string>> pending_;
  size_t n_props_ = 0;
  size_t n_enum_ = 0;
};

}  // namespace

Result<std::string> json_schema_to_gbnf(std::string_view schema, const JsonSchemaOptions& options) {
  if (schema.size() > gl::kMaxSchemaBytes) {
    return Result<std::string>(ErrorCode::out_of_range,
                               "JSON Schema is " + std::to_string(schema.size()) +
                                   " bytes, over " + std::to_string(gl::kMaxSchemaBytes) +
                                   " (kMaxSchemaBytes)");
  }
  Status st = check_depth(schema);
  if (!st.ok()) return st;
  try {
    Json doc = Json::parse(schema.begin(), schema.end());
    return SchemaConverter(doc, options).run();
  } catch (const Json::exception& e) {
    return Result<std::string>(ErrorCode::invalid_argument,
                               std::string("JSON Schema is not valid JSON: ") + e.what());
  }
}

Result<Grammar> compile_json_schema(std::string_view schema, const JsonSchemaOptions& options) {
  auto gbnf = json_schema_to_gbnf(schema, options);
  if (!gbnf.ok()) return gbnf.status();
  auto g = parse_gbnf(*gbnf);
  if (!g.ok()) {
    return Result<Grammar>(g.status().code(),
                           "grammar generated from the JSON Schema: " + g.status().message());
  }
  return g;
}

}  // namespace agora
