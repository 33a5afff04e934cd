// Golden test: every entry of testdata/templates/expected.json (template × conversation ×
// add_generation_prompt, rendered by transformers' apply_chat_template) must render byte for
// byte, and entries recorded with an `error` must fail to render.
// ctest-labels: unit
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "engine/chat/chat_template.h"
#include "support/testdata.h"

namespace agora::chat {
namespace {

Value from_json(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return Value::none();
    case nlohmann::json::value_t::boolean: return Value::boolean(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return Value::integer(j.get<int64_t>());
    case nlohmann::json::value_t::number_float: return Value::floating(j.get<double>());
    case nlohmann::json::value_t::string: return Value::string(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      Value l = Value::list();
      for (const auto& x : j) l.list_data().items.push_back(from_json(x));
      return l;
    }
    case nlohmann::json::value_t::object: {
      Value d = Value::dict();
      for (const auto& [k, v] : j.items()) d.dict_data().set(k, from_json(v));
      return d;
    }
    default: return Value();
  }
}

TEST(ChatTemplateGolden, AllEntriesMatchTransformers) {
  auto doc = nlohmann::ordered_json::parse(test::read_file(test::testdata_path("templates/expected.json")));
  auto now = parse_iso_time(doc["strftime_now_fixed_datetime"].get<std::string>());
  ASSERT_TRUE(now.has_value());
  RenderOptions opts;
  opts.now = *now;
  std::map<std::string, ChatTemplate> cache;
  int total = 0, passed = 0;
  for (const auto& e : doc["entries"]) {
    ++total;
    const std::string name = e["template"].get<std::string>();
    auto it = cache.find(name);
    if (it == cache.end()) {
      auto t = ChatTemplate::parse(test::read_file(test::testdata_path("templates/" + name)));
      ASSERT_TRUE(t.ok()) << name << ": " << t.status().message();
      it = cache.emplace(name, std::move(t.value())).first;
    }
    Value ctx = Value::dict();
    ctx.dict_data().set("messages", from_json(e["messages"]));
    ctx.dict_data().set("tools", from_json(e["tools"]));
    ctx.dict_data().set("documents", Value::none());
    ctx.dict_data().set("add_generation_prompt", Value::boolean(e["add_generation_prompt"].get<bool>()));
    ctx.dict_data().set("bos_token", from_json(e["bos_token"]));
    ctx.dict_data().set("eos_token", from_json(e["eos_token"]));
    auto r = it->second.render(ctx, opts);
    const std::string label = name + " / " + e["conversation_id"].get<std::string>() +
                              (e["add_generation_prompt"].get<bool>() ? " / gen" : " / no-gen");
    if (e.contains("error")) {
      EXPECT_FALSE(r.ok()) << label << ": expected error " << e["error"] << ", got output:\n" << r.value();
      if (!r.ok()) ++passed;
      continue;
    }
    if (!r.ok()) {
      ADD_FAILURE() << label << ": render failed: " << r.status().message();
      continue;
    }
    const std::string expected = e["output"].get<std::string>();
    EXPECT_EQ(r.value(), expected) << label;
    if (r.value() == expected) ++passed;
  }
  std::printf("chat template golden: %d/%d entries pass\n", passed, total);
  EXPECT_EQ(total, 306);
}

}  // namespace
}  // namespace agora::chat
