// ctest-labels: model
// Structured outputs end to end: for a battery of JSON Schemas, generate with the test models
// under many random seeds through the scheduler, and require every output to parse as JSON and
// validate against its schema (validator below, for the subset the schemas use).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <condition_variable>
#include <mutex>
#include <regex>

#include "engine/grammar/json_schema.h"
#include "engine/scheduler.h"
#include "support/testdata.h"

namespace agora {
namespace {

using nlohmann::json;

// Returns "" when `v` is valid under `s`, else a description of the first violation.
std::string validate(const json& v, const json& s, const json& root, const std::string& path = "$") {
  if (s.contains("$ref")) {
    std::string ref = s["$ref"];
    const std::string prefix = "#/$defs/";
    if (ref.rfind(prefix, 0) != 0) return path + ": unsupported $ref " + ref;
    return validate(v, root["$defs"][ref.substr(prefix.size())], root, path);
  }
  if (s.contains("anyOf")) {
    for (const json& alt : s["anyOf"])
      if (validate(v, alt, root, path).empty()) return "";
    return path + ": matches no anyOf branch";
  }
  if (s.contains("enum")) {
    for (const json& e : s["enum"])
      if (e == v) return "";
    return path + ": not in enum";
  }
  if (s.contains("const") && s["const"] != v) return path + ": not the const";
  if (s.contains("type")) {
    const std::string t = s["type"];
    bool ok = (t == "object" && v.is_object()) || (t == "array" && v.is_array()) || (t == "string" && v.is_string()) ||
              (t == "integer" && v.is_number_integer()) || (t == "number" && v.is_number()) ||
              (t == "boolean" && v.is_boolean()) || (t == "null" && v.is_null());
    if (!ok) return path + ": not of type " + t;
  }
  if (v.is_object()) {
    if (s.contains("required"))
      for (const json& k : s["required"])
        if (!v.contains(k.get<std::string>())) return path + ": missing " + k.get<std::string>();
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (s.contains("properties") && s["properties"].contains(it.key())) {
        std::string e = validate(it.value(), s["properties"][it.key()], root, path + "." + it.key());
        if (!e.empty()) return e;
      } else if (s.contains("additionalProperties") && s["additionalProperties"] == false) {
        return path + ": unexpected property " + it.key();
      }
    }
  }
  if (v.is_array()) {
    if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) return path + ": too few items";
    if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) return path + ": too many items";
    if (s.contains("items"))
      for (size_t i = 0; i < v.size(); ++i) {
        std::string e = validate(v[i], s["items"], root, path + "[" + std::to_string(i) + "]");
        if (!e.empty()) return e;
      }
  }
  if (v.is_string()) {
    const std::string str = v;
    // Lengths count code points.
    size_t n_cp = 0;
    for (unsigned char c : str) n_cp += (c & 0xC0) != 0x80;
    if (s.contains("minLength") && n_cp < s["minLength"].get<size_t>()) return path + ": too short";
    if (s.contains("maxLength") && n_cp > s["maxLength"].get<size_t>()) return path + ": too long";
    if (s.contains("pattern") && !std::regex_match(str, std::regex(s["pattern"].get<std::string>())))
      return path + ": does not match the pattern";
    if (s.contains("format") && s["format"] == "date" &&
        !std::regex_match(str, std::regex(R"(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]))")))
      return path + ": not a date";
  }
  if (v.is_number()) {
    if (s.contains("minimum") && v.get<double>() < s["minimum"].get<double>()) return path + ": below minimum";
    if (s.contains("maximum") && v.get<double>() > s["maximum"].get<double>()) return path + ": above maximum";
  }
  return "";
}

const std::vector<std::pair<std::string, std::string>> kSchemas = {
    {"nested object", R"({"type":"object","properties":{
        "name":{"type":"string","maxLength":16},
        "address":{"type":"object","properties":{"city":{"type":"string","maxLength":12},"zip":{"type":"string","pattern":"[0-9]{5}"}},
                   "required":["city","zip"],"additionalProperties":false},
        "active":{"type":"boolean"}},
      "required":["name","address","active"],"additionalProperties":false})"},
    {"bounded array", R"({"type":"array","items":{"type":"integer","minimum":-50,"maximum":50},"minItems":2,"maxItems":5})"},
    {"enum and const", R"({"type":"object","properties":{"colour":{"enum":["red","green","blue"]},"version":{"const":2},
        "size":{"enum":["S","M","L",null]}},"required":["colour","version","size"],"additionalProperties":false})"},
    {"recursive tree", R"({"$defs":{"node":{"type":"object","properties":{"label":{"type":"string","maxLength":6},
        "children":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":1}},"required":["label","children"],
        "additionalProperties":false}},"$ref":"#/$defs/node"})"},
    {"numbers", R"({"type":"object","properties":{"x":{"type":"number"},"n":{"type":"integer","minimum":1,"maximum":1000},
        "list":{"type":"array","items":{"type":"number"},"maxItems":3}},"required":["x","n","list"],"additionalProperties":false})"},
    {"formats and patterns", R"({"type":"object","properties":{"day":{"type":"string","format":"date"},
        "code":{"type":"string","pattern":"[A-Z]{2}-[0-9]{3}"},"tag":{"type":"string","minLength":2,"maxLength":5}},
        "required":["day","code","tag"],"additionalProperties":false})"},
    {"anyOf", R"({"type":"object","properties":{"value":{"anyOf":[{"type":"integer"},{"type":"string","maxLength":8},{"type":"null"}]}},
        "required":["value"],"additionalProperties":false})"},
};

struct Done {
  std::mutex mu;
  std::condition_variable cv;
  int remaining = 0;
};

class ConstrainedGeneration : public ::testing::TestWithParam<std::string> {};

TEST_P(ConstrainedGeneration, EveryOutputValidatesAgainstItsSchema) {
  constexpr int kGenerations = 50;
  auto file = GgufFile::open(test::testdata_path("models/" + GetParam()));
  ASSERT_TRUE(file.ok());
  auto vocab = Vocab::load(*file.value());
  ASSERT_TRUE(vocab.ok());
  auto model = Model::from_file(std::move(file.value()));
  ASSERT_TRUE(model.ok());
  auto sched = Scheduler::create(*model.value(), *vocab.value(), {.n_parallel = 8, .n_ctx = 1024, .n_threads = 2});
  ASSERT_TRUE(sched.ok());
  const auto prompt = vocab.value()->tokenize("Once upon a time", true);
  for (const auto& [name, schema_text] : kSchemas) {
    auto grammar = compile_json_schema(schema_text);
    ASSERT_TRUE(grammar.ok()) << name << ": " << grammar.status().message();
    auto g = std::make_shared<const Grammar>(std::move(grammar.value()));
    const json schema = json::parse(schema_text);
    std::vector<std::string> texts(kGenerations);
    std::vector<Event> finishes(kGenerations);
    Done done;
    done.remaining = kGenerations;
    for (int i = 0; i < kGenerations; ++i) {
      GenerateParams gp;
      gp.prompt = prompt;
      gp.grammar = g;
      gp.max_tokens = 900;
      gp.sampling.temperature = 1.0f;
      gp.sampling.top_k = 0;
      gp.sampling.top_p = 1.0f;
      gp.sampling.min_p = 0.0f;
      gp.sampling.seed = 1000 + static_cast<uint64_t>(i);
      auto h = sched.value()->generate(gp, [&, i](Event&& e) {
        std::lock_guard<std::mutex> lock(done.mu);
        texts[i] += e.text;
        if (e.kind == Event::Kind::finish) {
          finishes[i] = std::move(e);
          if (--done.remaining == 0) done.cv.notify_all();
        }
      });
      ASSERT_TRUE(h.ok()) << h.status().message();
    }
    std::unique_lock<std::mutex> lock(done.mu);
    done.cv.wait(lock, [&] { return done.remaining == 0; });
    int valid = 0;
    for (int i = 0; i < kGenerations; ++i) {
      ASSERT_EQ(finishes[i].finish_reason, FinishReason::stop) << name << " seed " << i << ": " << finishes[i].error << "\n"
                                                               << texts[i];
      json v = json::parse(texts[i], nullptr, false);
      ASSERT_FALSE(v.is_discarded()) << name << " seed " << i << ": not JSON: " << texts[i];
      const std::string err = validate(v, schema, schema);
      EXPECT_EQ(err, "") << name << " seed " << i << ": " << texts[i];
      valid += err.empty();
    }
    std::printf("[schema] %s / %s: %d/%d valid\n", GetParam().c_str(), name.c_str(), valid, kGenerations);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, ConstrainedGeneration, ::testing::Values("stories260K.gguf", "rand-qwen2.gguf"),
                         [](const auto& info) { return info.param.substr(0, info.param.find('.')) == "stories260K" ? std::string("stories") : std::string("qwen2"); });

}  // namespace
}  // namespace agora
