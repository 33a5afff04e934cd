// ctest-labels: unit
// Parsing chat/completions/embeddings bodies into typed requests: shapes, strict validation,
// error messages that name the parameter.
#include <gtest/gtest.h>

#include "platform/openai/chat_request.h"
#include "platform/openai/completion_request.h"
#include "platform/openai/json_body.h"

using namespace agora;
using namespace agora::platform;

namespace {
ServerLimits L;

std::string err_param(std::string_view body) {
  auto r = parse_chat_request(body, L);
  EXPECT_FALSE(r.ok()) << body;
  return r.ok() ? "<ok>" : r.error().param;
}
}  // namespace

TEST(ChatRequest, ParsesFullRequest) {
  auto r = parse_chat_request(R"({
    "model":"m","messages":[
      {"role":"system","content":"be brief"},
      {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
      {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}}]},
      {"role":"tool","tool_call_id":"c1","content":"42"}],
    "stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":7,"temperature":0.5,"top_p":0.9,
    "n":2,"stop":["\n"],"seed":3,"presence_penalty":0.1,"frequency_penalty":0.2,"logit_bias":{"5":-100},
    "logprobs":true,"top_logprobs":2,"response_format":{"type":"json_object"},
    "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"x":{"type":"integer"}}}}}],
    "tool_choice":"auto","parallel_tool_calls":false,"user":"u","top_k":5,"min_p":0.1,"repeat_penalty":1.1,"ignore_eos":true})",
                              L);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const ChatRequest& q = r.value();
  EXPECT_EQ(q.messages.size(), 4u);
  EXPECT_EQ(*q.messages[1].content, "a\nb");
  EXPECT_FALSE(q.messages[2].content.has_value());
  EXPECT_EQ(q.messages[2].tool_calls[0].name, "f");
  EXPECT_EQ(q.messages[3].tool_call_id, "c1");
  EXPECT_TRUE(q.gen.stream);
  EXPECT_TRUE(q.gen.include_usage);
  EXPECT_EQ(*q.gen.max_tokens, 7);
  EXPECT_EQ(q.gen.n, 2);
  EXPECT_EQ(q.gen.top_logprobs, 2);
  EXPECT_EQ(q.gen.logit_bias.size(), 1u);
  EXPECT_EQ(q.gen.top_k, 5);
  EXPECT_TRUE(q.gen.ignore_eos);
  EXPECT_EQ(q.tools.size(), 1u);
  EXPECT_FALSE(q.parallel_tool_calls);
  EXPECT_EQ(q.response_format.kind, ResponseFormat::Kind::json_object);
}

TEST(ChatRequest, ErrorsNameTheParameter) {
  EXPECT_EQ(err_param(R"({"messages":[{"role":"user","content":"x"}]})"), "model");
  EXPECT_EQ(err_param(R"({"model":"m"})"), "messages");
  EXPECT_EQ(err_param(R"({"model":"m","messages":[]})"), "messages");
  EXPECT_EQ(err_param(R"({"model":"m","messages":[{"role":"wizard","content":"x"}]})"), "messages[0].role");
  EXPECT_EQ(err_param(R"({"model":"m","messages":[{"role":"user","content":5}]})"), "messages[0].content");
  EXPECT_EQ(err_param(R"({"model":"m","messages":[{"role":"user"}]})"), "messages[0].content");
  EXPECT_EQ(err_param(R"({"model":"m","messages":[{"role":"tool","content":"x"}]})"), "messages[0].tool_call_id");
  EXPECT_EQ(err_param(R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]})"),
            "messages[0].content[0].type");
  const std::string ok_msgs = R"("messages":[{"role":"user","content":"x"}])";
  EXPECT_EQ(err_param(R"({"model":"m",)" + ok_msgs + R"(,"temperature":"hot"})"), "temperature");
  EXPECT_EQ(err_param(R"({"model":"m",)" + ok_msgs + R"(,"temperature":3})"), "temperature");
  EXPECT_EQ(err_param(R"({"model":"m",)" + ok_msgs + R"(,"max_tokens":-1})"), "max_tokens");
  EXPECT_EQ(err_param(R"({"model":"m",)" + ok_msgs + R"(,"max_tokens":0})"), "max_tokens");
  EXPECT_EQ(err_param(R"({"model":"m",)" + ok_msgs + R"(,"max_tokens":1.5})"), "max_tokens");
  EXPECT_EQ(err_param(R"({"model":"m",)" + ok_msgs + R"(,"n":0})"), "n");
  EXPECT_EQ(err_param(R"({"model":"m",)" + ok_msgs + R"(,"stop":[1]})"), "stop");
  EXPECT_EQ(err_param(R"({"model":"m",)" + ok_msgs + R"(,"logit_bias":{"x":1}})"), "logit_bias");
  EXPECT_EQ(err_param(R"({"model":"m",)" + ok_msgs + R"(,"top_logprobs":3})"), "top_logprobs");
  EXPECT_EQ(err_param(R"({"model":"m",)" + ok_msgs + R"(,"stream_options":{"include_usage":true}})"), "stream_options");
  EXPECT_EQ(err_param(R"({"model":"m",)" + ok_msgs + R"(,"tool_choice":"required"})"), "tool_choice");
  EXPECT_EQ(err_param(R"({"model":"m",)" + ok_msgs + R"(,"response_format":{"type":"xml"}})"), "response_format.type");
  EXPECT_EQ(err_param(R"({"model":"m",)" + ok_msgs + R"(,"frobnicate":1})"), "frobnicate");
  EXPECT_EQ(err_param(R"({"model":"m",)" + ok_msgs + R"(,"model":"n"})"), "model");  // duplicate key
}

TEST(ChatRequest, MaxTokensHugeIsAcceptedForClamping) {
  auto r = parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":2147483647})", L);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r.value().gen.max_tokens, 2147483647);
}

TEST(JsonBody, RejectsBadBodies) {
  for (const char* bad : {"", "{", "[1]", "null", "{\"a\":1,}", "{\"a\":\"\xff\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":1}{"}) {
    auto r = parse_json_body(bad, 64);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) EXPECT_EQ(r.error().http_status(), 400);
  }
}

TEST(JsonBody, DepthIsCheckedBeforeParsing) {
  std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  const auto t0 = std::chrono::steady_clock::now();
  auto r = parse_json_body(deep, 64);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("64"), std::string::npos);
  EXPECT_LT(ms, 100.0);
  // Brackets inside strings do not count.
  EXPECT_TRUE(parse_json_body("{\"a\":\"" + std::string(1000, '[') + "\"}", 64).ok());
  EXPECT_EQ(json_nesting_depth("[[[]]]", 100), 3);
}

TEST(CompletionRequest, PromptShapes) {
  auto a = parse_completion_request(R"({"model":"m","prompt":"hi"})", L);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.value().prompts.size(), 1u);
  EXPECT_EQ(*a.value().gen.max_tokens, 16);
  auto b = parse_completion_request(R"({"model":"m","prompt":["a","b"],"echo":true,"logprobs":2})", L);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b.value().prompts.size(), 2u);
  EXPECT_EQ(b.value().gen.top_logprobs, 2);
  auto c = parse_completion_request(R"({"model":"m","prompt":[1,2,3]})", L);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c.value().prompts[0].is_tokens);
  auto d = parse_completion_request(R"({"model":"m","prompt":[[1,2],[3]]})", L);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.value().prompts.size(), 2u);
  EXPECT_FALSE(parse_completion_request(R"({"model":"m","prompt":[-1]})", L).ok());
  EXPECT_FALSE(parse_completion_request(R"({"model":"m","prompt":{}})", L).ok());
  EXPECT_FALSE(parse_completion_request(R"({"model":"m","prompt":"x","logprobs":6})", L).ok());
}

TEST(EmbeddingRequest, Shapes) {
  auto a = parse_embedding_request(R"({"model":"m","input":["a","b"],"encoding_format":"base64"})", L);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a.value().base64);
  EXPECT_FALSE(parse_embedding_request(R"({"model":"m","input":"a","encoding_format":"hex"})", L).ok());
  EXPECT_FALSE(parse_embedding_request(R"({"model":"m"})", L).ok());
  EXPECT_FALSE(parse_embedding_request(R"({"model":"m","input":""})", L).ok());
}
