// ctest-labels: unit
// JSON Schema -> grammar: hand-written valid/invalid instances per schema, random generations
// that must parse and validate (a small validator for the supported subset is below), errors.
#include "engine/grammar/json_schema.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <regex>

#include "grammar_test_util.h"

namespace agora {
namespace {

using Json = nlohmann::ordered_json;

// ---- a validator for the subset the converter supports ----------------------------------------

size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool validate(const Json& v, const Json& s, const Json& root, int depth = 0);

bool type_ok(const Json& v, const std::string& t) {
  if (t == "null") return v.is_null();
  if (t == "boolean") return v.is_boolean();
  if (t == "integer") return v.is_number_integer() || (v.is_number_float() && v.get<double>() == std::floor(v.get<double>()));
  if (t == "number") return v.is_number();
  if (t == "string") return v.is_string();
  if (t == "array") return v.is_array();
  if (t == "object") return v.is_object();
  return false;
}

bool validate(const Json& v, const Json& s, const Json& root, int depth) {
  if (depth > 100) return false;
  if (s.is_boolean()) return s.get<bool>();
  if (s.contains("$ref")) {
    return validate(v, root.at(Json::json_pointer(s["$ref"].get<std::string>().substr(1))), root, depth + 1);
  }
  if (s.contains("type")) {
    const Json& t = s["type"];
    bool any = false;
    if (t.is_array()) {
      for (const Json& x : t) any = any || type_ok(v, x.get<std::string>());
    } else {
      any = type_ok(v, t.get<std::string>());
    }
    if (!any) return false;
  }
  if (s.contains("const") && v != s["const"]) return false;
  if (s.contains("enum")) {
    bool found = false;
    for (const Json& e : s["enum"]) found = found || e == v;
    if (!found) return false;
  }
  if (s.contains("anyOf")) {
    bool any = false;
    for (const Json& sub : s["anyOf"]) any = any || validate(v, sub, root, depth + 1);
    if (!any) return false;
  }
  if (s.contains("oneOf")) {
    int n = 0;
    for (const Json& sub : s["oneOf"]) n += validate(v, sub, root, depth + 1);
    if (n != 1) return false;
  }
  if (s.contains("allOf")) {
    for (const Json& sub : s["allOf"]) {
      if (!validate(v, sub, root, depth + 1)) return false;
    }
  }
  if (v.is_number()) {
    double d = v.get<double>();
    if (s.contains("minimum") && d < s["minimum"].get<double>()) return false;
    if (s.contains("maximum") && d > s["maximum"].get<double>()) return false;
    if (s.contains("exclusiveMinimum") && d <= s["exclusiveMinimum"].get<double>()) return false;
    if (s.contains("exclusiveMaximum") && d >= s["exclusiveMaximum"].get<double>()) return false;
  }
  if (v.is_string()) {
    const std::string str = v.get<std::string>();
    size_t len = utf8_length(str);
    if (s.contains("minLength") && len < s["minLength"].get<size_t>()) return false;
    if (s.contains("maxLength") && len > s["maxLength"].get<size_t>()) return false;
    if (s.contains("pattern") && !std::regex_search(str, std::regex(s["pattern"].get<std::string>()))) {
      return false;
    }
    if (s.contains("format")) {
      static const std::map<std::string, std::string> kFormats = {
          {"date", R"(^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$)"},
          {"time", R"(^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$)"},
          {"date-time",
           R"(^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$)"},
          {"uuid", R"(^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$)"},
          {"email", R"(^[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$)"}};
      if (!std::regex_search(str, std::regex(kFormats.at(s["format"].get<std::string>())))) return false;
    }
  }
  if (v.is_array()) {
    size_t k = 0;
    if (s.contains("prefixItems")) {
      for (; k < s["prefixItems"].size() && k < v.size(); ++k) {
        if (!validate(v[k], s["prefixItems"][k], root, depth + 1)) return false;
      }
    }
    if (s.contains("items")) {
      for (size_t i = k; i < v.size(); ++i) {
        if (!validate(v[i], s["items"], root, depth + 1)) return false;
      }
    }
    if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) return false;
    if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) return false;
  }
  if (v.is_object()) {
    if (s.contains("required")) {
      for (const Json& r : s["required"]) {
        if (!v.contains(r.get<std::string>())) return false;
      }
    }
    const Json props = s.value("properties", Json::object());
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (props.contains(it.key())) {
        if (!validate(it.value(), props[it.key()], root, depth + 1)) return false;
      } else if (s.contains("additionalProperties")) {
        if (!validate(it.value(), s["additionalProperties"], root, depth + 1)) return false;
      }
    }
  }
  return true;
}

// ---- helpers ------------------------------------------------------------------------------------

std::shared_ptr<const Grammar> schema_grammar(const std::string& schema, bool strict = false) {
  auto g = compile_json_schema(schema, {strict});
  EXPECT_TRUE(g.ok()) << g.status().message() << "\nschema: " << schema;
  if (!g.ok()) return nullptr;
  return std::make_shared<const Grammar>(std::move(g.value()));
}

std::shared_ptr<const GrammarVocab> json_vocab(int32_t* eog) {
  std::vector<std::string> toks;
  for (int c = 0x20; c < 0x7F; ++c) toks.push_back(std::string(1, static_cast<char>(c)));
  for (const char* t : {"\"", "\",", "\":", "{\"", "\"}", "true", "false", "null", "12", "0",
                        ", ", ": ", "\n  ", "\xC3\xA9", "\xC3", "\xA9", "-", "@", "ab", "T1",
                        "\\n", "\\\"", "2024-", "00:", "Z\""}) {
    toks.push_back(t);
  }
  toks.push_back("<eos>");
  *eog = static_cast<int32_t>(toks.size() - 1);
  auto v = GrammarVocab::create(toks, {*eog});
  return std::make_shared<const GrammarVocab>(std::move(v.value()));
}

// Random constrained generations; every finished one must parse and validate.
void generate_and_validate(const std::string& schema, int n, uint32_t seed) {
  auto g = schema_grammar(schema);
  ASSERT_TRUE(g);
  int32_t eog;
  auto vocab = json_vocab(&eog);
  const Json s = Json::parse(schema);
  std::mt19937 rng(seed);
  int finished = 0;
  for (int i = 0; i < n; ++i) {
    GrammarMatcher m(g, vocab);
    std::string out;
    TokenMask mask;
    for (int step = 0; step < 600; ++step) {
      m.fill_mask(mask);
      std::vector<int32_t> allowed, closing;
      for (size_t id = 0; id < vocab->n_tokens(); ++id) {
        if (!mask.allowed(static_cast<int32_t>(id))) continue;
        allowed.push_back(static_cast<int32_t>(id));
        const std::string& b = vocab->bytes(static_cast<int32_t>(id));
        if (static_cast<int32_t>(id) == eog || b == "\"" || b == "}" || b == "]" || b == "\"}") {
          closing.push_back(static_cast<int32_t>(id));
        }
      }
      ASSERT_FALSE(allowed.empty()) << "dead end after: " << out;
      // Lean towards closing as the output grows, so generations end.
      bool close = !closing.empty() && (rng() % 100) < 30 + static_cast<unsigned>(step) / 4;
      int32_t id = close ? closing[rng() % closing.size()] : allowed[rng() % allowed.size()];
      ASSERT_TRUE(m.accept_token(id).ok());
      if (id == eog) {
        ++finished;
        Json v;
        ASSERT_NO_THROW(v = Json::parse(out)) << out;
        EXPECT_TRUE(validate(v, s, s)) << "invalid instance: " << out << "\nschema: " << schema;
        break;
      }
      out += vocab->bytes(id);
    }
  }
  EXPECT_GE(finished, n / 2) << "too few generations finished";
}

void expect_instances(const std::string& schema, const std::vector<std::string>& good,
                      const std::vector<std::string>& bad, bool strict = false) {
  auto g = schema_grammar(schema, strict);
  ASSERT_TRUE(g);
  const Json s = Json::parse(schema);
  for (const auto& t : good) {
    EXPECT_TRUE(validate(Json::parse(t), s, s)) << "test bug, not valid: " << t;
    EXPECT_TRUE(test::accepts(g, t)) << "should accept: " << t << "\n" << *json_schema_to_gbnf(schema);
  }
  for (const auto& t : bad) EXPECT_FALSE(test::accepts(g, t)) << "should reject: " << t;
}

void expect_error(const std::string& schema, const std::string& fragment, bool strict = false) {
  auto g = compile_json_schema(schema, {strict});
  ASSERT_FALSE(g.ok()) << "accepted: " << schema;
  EXPECT_NE(g.status().message().find(fragment), std::string::npos)
      << "message: " << g.status().message() << "\nwanted: " << fragment;
}

// ---- battery ------------------------------------------------------------------------------------

const char* kPerson = R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 12},
    "age": {"type": "integer", "minimum": 0, "maximum": 150},
    "email": {"type": "string", "format": "email"},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}, "minItems": 1, "maxItems": 3},
    "role": {"enum": ["admin", "user", null, 3]},
    "active": {"type": "boolean"}
  },
  "required": ["name", "age"]
})";

TEST(JsonSchema, ObjectPropertiesRequiredOptional) {
  expect_instances(kPerson,
                   {R"({"name": "Al", "age": 30})", R"({"name":"Al","age":0,"active":true})",
                    R"({"name": "B", "age": 150, "email": "a.b@example.com", "tags": ["x", "yz"], "role": null})",
                    R"({"name": "C", "age": 7, "role": 3})"},
                   {R"({"age": 30})", R"({"name": "", "age": 30})", R"({"name": "Al", "age": 151})",
                    R"({"name": "Al", "age": -1})", R"({"name": "Al", "age": 30, "tags": []})",
                    R"({"name": "Al", "age": 30, "other": 1})", R"({"age": 30, "name": "Al"})",
                    R"({"name": "Al", "age": 30, "role": "root"})",
                    R"({"name": "Al", "age": 30, "email": "nope"})"});
  generate_and_validate(kPerson, 60, 1);
}

const char* kTree = R"({
  "$defs": {
    "node": {
      "type": "object",
      "properties": {
        "value": {"type": "integer"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/node"}, "maxItems": 2}
      },
      "required": ["value", "children"],
      "additionalProperties": false
    }
  },
  "$ref": "#/$defs/node"
})";

TEST(JsonSchema, RecursiveRef) {
  expect_instances(kTree,
                   {R"({"value": 1, "children": []})",
                    R"({"value": 1, "children": [{"value": -2, "children": [{"value": 3, "children": []}]}]})"},
                   {R"({"value": 1})", R"({"value": 1, "children": [{"value": 2}]})",
                    R"({"value": 1, "children": [1]})"});
  generate_and_validate(kTree, 60, 2);
}

TEST(JsonSchema, ArraysTuplesAndBounds) {
  const char* s = R"({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}],
                     "items": {"type": "boolean"}, "minItems": 3, "maxItems": 4})";
  expect_instances(s, {R"(["a", 1, true])", R"(["a", 1, true, false])"},
                   {R"(["a", 1])", R"(["a", 1, true, false, true])", R"([1, 1, true])"});
  generate_and_validate(s, 50, 3);
  const char* plain = R"({"type": "array", "items": {"type": "number"}, "maxItems": 2})";
  expect_instances(plain, {"[]", "[1.5]", "[1, -2e5]"}, {"[1, 2, 3]", "[\"a\"]"});
}

TEST(JsonSchema, NumbersAndIntegerRanges) {
  expect_instances(R"({"type": "integer", "minimum": -15, "maximum": 1234})",
                   {"-15", "-9", "0", "7", "99", "1000", "1234"},
                   {"-16", "1235", "01", "-0", "1.5", "9999"});
  expect_instances(R"({"type": "integer", "exclusiveMinimum": 99})", {"100", "12345678"}, {"99", "-1"});
  expect_instances(R"({"type": "integer", "maximum": -100})", {"-100", "-55555"}, {"-99", "0"});
  expect_instances(R"({"type": "number"})", {"0", "-1.25e+3", "3.0"}, {"1.", ".5", "+1"});
  generate_and_validate(R"({"type": "integer", "minimum": 37, "maximum": 4021})", 50, 4);
}

TEST(JsonSchema, StringsFormatsAndPatterns) {
  expect_instances(R"({"type": "string", "format": "date"})", {"\"2024-02-29\""},
                   {"\"2024-13-01\"", "\"24-01-01\""});
  expect_instances(R"({"type": "string", "format": "date-time"})",
                   {"\"2024-01-05T10:20:30Z\"", "\"2024-01-05T10:20:30.123+02:00\""},
                   {"\"2024-01-05 10:20:30Z\"", "\"2024-01-05T24:00:00Z\""});
  expect_instances(R"({"type": "string", "format": "time"})", {"\"23:59:59Z\""}, {"\"23:59\""});
  expect_instances(R"({"type": "string", "format": "uuid"})",
                   {"\"123e4567-e89b-12d3-a456-426614174000\""}, {"\"123e4567\""});
  expect_instances(R"({"type": "string", "pattern": "^[A-Z]{2}-\\d{3,4}(x|yz)?$"})",
                   {"\"AB-123\"", "\"QQ-1234yz\""}, {"\"ab-123\"", "\"AB-12\"", "\"AB-123y\""});
  expect_instances(R"({"type": "string", "pattern": "^a\"b\\\\c.$"})", {R"("a\"b\\cz")"},
                   {R"("a"b\\cz")"});
  expect_instances(R"({"type": "string", "minLength": 2, "maxLength": 3})",
                   {"\"ab\"", "\"\\u00e9\\n\"", "\"\xC3\xA9\xC3\xA9\xC3\xA9\""}, {"\"a\"", "\"abcd\""});
  generate_and_validate(R"({"type": "string", "format": "date-time"})", 50, 5);
  generate_and_validate(R"({"type": "string", "pattern": "^[a-c]+@(x|y)\\.[0-9]{2}$"})", 50, 6);
}

TEST(JsonSchema, UnionsAnyOfAllOfConst) {
  expect_instances(R"({"type": ["string", "null"]})", {"null", "\"x\""}, {"1"});
  expect_instances(R"({"anyOf": [{"type": "integer"}, {"const": {"a": [1, "b"]}}]})",
                   {"12", R"({"a":[1,"b"]})"}, {R"({"a": 1})"});
  const char* all = R"({"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
                                  {"properties": {"b": {"type": "boolean"}}}]})";
  expect_instances(all, {R"({"a": 1})", R"({"a": 1, "b": false})"}, {R"({"b": false})"});
  generate_and_validate(all, 40, 7);
}

TEST(JsonSchema, AdditionalProperties) {
  const char* s = R"({"type": "object", "properties": {"id": {"type": "integer"}},
                     "additionalProperties": {"type": "string"}})";
  expect_instances(s, {R"({"id": 1, "x": "y", "z": ""})", R"({"x": "y"})", "{}"},
                   {R"({"id": 1, "x": 2})"});
  generate_and_validate(s, 40, 8);
  expect_instances(R"({"type": "object"})", {R"({"any": [1, {"thing": null}]})"}, {"[]"});
}

TEST(JsonSchema, EmptySchemaIsAnyValueAndTerminates) {
  expect_instances("{}", {"1", "\"s\"", R"({"a": [true]})", "null"}, {"tru", "{"});
  generate_and_validate("{}", 50, 9);
}

TEST(JsonSchema, StrictRules) {
  const char* ok = R"({"type": "object", "properties": {"a": {"type": "string"},
                       "b": {"type": "object", "properties": {"c": {"type": "integer"}},
                             "required": ["c"], "additionalProperties": false}},
                      "required": ["a", "b"], "additionalProperties": false})";
  expect_instances(ok, {R"({"a": "x", "b": {"c": 1}})"}, {R"({"a": "x"})"}, true);
  expect_error(R"({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]})",
               "additionalProperties\": false", true);
  expect_error(R"({"type": "object", "properties": {"a": {"type": "string"}}, "required": [],
                   "additionalProperties": false})",
               "property 'a' must be listed in required", true);
  expect_error(R"({"type": "string"})", "root must be an object", true);
}

TEST(JsonSchema, Errors) {
  expect_error(R"({"type": "string", "not": {}, "if": {}})", "unsupported keywords 'not', 'if'");
  expect_error(R"({"properties": {"x": {"type": "object", "patternProperties": {}}}})",
               "at /properties/x: unsupported keyword 'patternProperties'");
  expect_error(R"({"$ref": "#/$defs/missing"})", "does not resolve");
  expect_error(R"({"$ref": "http://example.com/s.json"})", "only local $ref");
  expect_error(R"({"type": "string", "format": "hostname"})", "unsupported format \"hostname\"");
  expect_error(R"({"type": "string", "pattern": "(?=a)b"})", "lookaround");
  expect_error(R"({"type": "string", "pattern": "foo**"})", "nothing to repeat");
  expect_error(R"({"type": "string", "pattern": "(a)\\1"})", "backreferences");
  expect_error(R"({"type": "number", "minimum": 0})", "integer\" only");
  expect_error(R"({"type": "integer", "minimum": 5, "maximum": 4})", "no integer satisfies");
  expect_error(R"({"type": "strin"})", "unknown type \"strin\"");
  expect_error(R"({"type": "array", "maxItems": 99999999})", "kMaxRepetition");
  expect_error("{\"type\": ", "not valid JSON");
  expect_error("false", "can never be satisfied");
  expect_error(R"({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"})",
               "can never complete");
}

}  // namespace
}  // namespace agora
