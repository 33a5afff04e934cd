// ctest-labels: unit model
// The agent turn on real models: conversation items → template → generation → output items;
// streamed text equals the final message; forced function calls produce valid JSON arguments;
// json_schema output parses; truncation drops the oldest items to fit; cancel ends the turn.
#include "platform/agent/agent_turn.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <future>

#include "platform/local_backend.h"
#include "support/testdata.h"

namespace agora::platform::agent {
namespace {

std::unique_ptr<ServedModel> load(const std::string& file, int64_t n_ctx = 0) {
  auto m = std::make_unique<ServedModel>();
  m->id = file;
  auto f = GgufFile::open(test::testdata_path("models/" + file));
  EXPECT_TRUE(f.ok());
  auto v = Vocab::load(*f.value());
  EXPECT_TRUE(v.ok());
  m->vocab = std::move(v.value());
  auto model = Model::from_file(std::move(f.value()));
  EXPECT_TRUE(model.ok());
  m->model = std::move(model.value());
  auto b = create_local_backend(*m->model, *m->vocab, {.n_parallel = 2, .n_ctx = n_ctx, .n_threads = 2});
  EXPECT_TRUE(b.ok());
  m->backend = std::move(b.value());
  EXPECT_TRUE(prepare_chat(*m).ok());
  return m;
}

struct Outcome {
  std::string streamed;
  TurnResult result;
};

Outcome run(const ServedModel& m, const TurnRequest& req) {
  auto done = std::make_shared<std::promise<TurnResult>>();
  auto streamed = std::make_shared<std::string>();
  auto t = start_turn(m, req, {.on_text = [streamed](const std::string& d) { *streamed += d; },
                               .on_done = [done](TurnResult&& r) { done->set_value(std::move(r)); }});
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  Outcome o;
  if (!t.ok()) return o;
  o.result = done->get_future().get();
  o.streamed = *streamed;
  return o;
}

TEST(AgentTurn, MessageOutputAndStreamAgree) {
  auto m = load("rand-qwen2.gguf");
  TurnRequest req;
  req.instructions = "You are terse.";
  req.items = {{.kind = Item::Kind::message, .role = "user", .text = "Hello there"}};
  req.max_output_tokens = 12;
  req.seed = 4;
  Outcome o = run(*m, req);
  ASSERT_EQ(o.result.reason, FinishReason::length) << o.result.error;
  EXPECT_TRUE(o.result.incomplete);
  ASSERT_EQ(o.result.output.size(), 1u);
  EXPECT_EQ(o.result.output[0].kind, Item::Kind::message);
  EXPECT_EQ(o.result.output[0].text, o.streamed);
  EXPECT_EQ(o.result.usage.completion_tokens, 12);
  // Same seed, same output.
  EXPECT_EQ(run(*m, req).result.output[0].text, o.result.output[0].text);
}

TEST(AgentTurn, ForcedFunctionCallHasValidArguments) {
  auto m = load("rand-qwen2.gguf");
  TurnRequest req;
  req.items = {{.kind = Item::Kind::message, .role = "user", .text = "Weather in Paris?"},
               {.kind = Item::Kind::function_call, .call_id = "call_1", .name = "get_weather", .arguments = "{\"city\":\"Paris\"}"},
               {.kind = Item::Kind::function_call_output, .call_id = "call_1", .output = "sunny"},
               {.kind = Item::Kind::message, .role = "user", .text = "And Rome?"}};
  req.tools = {{.name = "get_weather", .description = "Weather for a city",
                .parameters_json = R"({"type":"object","properties":{"city":{"type":"string","maxLength":10}},"required":["city"],"additionalProperties":false})",
                .strict = true}};
  req.tool_choice = ToolChoice::function;
  req.tool_choice_name = "get_weather";
  req.max_output_tokens = 200;
  for (uint64_t seed : {1, 2, 3}) {
    req.seed = seed;
    Outcome o = run(*m, req);
    ASSERT_NE(o.result.reason, FinishReason::error) << o.result.error;
    ASSERT_EQ(o.result.output.size(), 1u);
    const Item& call = o.result.output[0];
    EXPECT_EQ(call.kind, Item::Kind::function_call);
    EXPECT_EQ(call.name, "get_weather");
    EXPECT_FALSE(call.call_id.empty());
    auto args = nlohmann::json::parse(call.arguments);
    EXPECT_TRUE(args["city"].is_string());
    EXPECT_EQ(o.streamed, "");  // a forced call streams no text
  }
  req.tool_choice_name = "nope";
  auto bad = start_turn(*m, req, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().param, "tool_choice");
}

TEST(AgentTurn, JsonSchemaOutputParses) {
  auto m = load("stories260K.gguf");
  TurnRequest req;
  req.items = {{.kind = Item::Kind::message, .role = "user", .text = "Give me a number"}};
  req.format = TextFormat::json_schema;
  req.schema_json = R"({"type":"object","properties":{"n":{"type":"integer","minimum":0,"maximum":99}},"required":["n"],"additionalProperties":false})";
  req.max_output_tokens = 100;
  req.seed = 9;
  Outcome o = run(*m, req);
  ASSERT_EQ(o.result.reason, FinishReason::stop) << o.result.error;
  auto j = nlohmann::json::parse(o.result.output[0].text);
  EXPECT_LE(j["n"].get<int>(), 99);
}

TEST(AgentTurn, TruncationDropsOldestItemsToFit) {
  auto m = load("stories260K.gguf", 128);
  TurnRequest req;
  for (int i = 0; i < 20; ++i)
    req.items.push_back({.kind = Item::Kind::message, .role = i % 2 ? "assistant" : "user", .text = "Once upon a time there was a dog."});
  req.max_output_tokens = 8;
  // Without truncation: the context is exceeded (400 context_length_exceeded).
  auto t = start_turn(*m, req, {});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().kind, ApiErrorKind::context_length_exceeded);
  req.truncate_auto = true;
  Outcome o = run(*m, req);
  EXPECT_NE(o.result.reason, FinishReason::error) << o.result.error;
  EXPECT_GT(o.result.items_dropped, 0u);
}

TEST(AgentTurn, CancelEndsTheTurn) {
  auto m = load("stories260K.gguf");
  TurnRequest req;
  req.items = {{.kind = Item::Kind::message, .role = "user", .text = "Tell a story"}};
  auto done = std::make_shared<std::promise<TurnResult>>();
  auto t = start_turn(*m, req, {.on_done = [done](TurnResult&& r) { done->set_value(std::move(r)); }});
  ASSERT_TRUE(t.ok());
  t.value()->cancel();
  TurnResult r = done->get_future().get();
  EXPECT_EQ(r.reason, FinishReason::cancelled);
}

}  // namespace
}  // namespace agora::platform::agent
