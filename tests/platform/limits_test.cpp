// ctest-labels: unit
// Every limit in src/platform/limits.h, crossed once (STYLE.md rule 8), plus RELIABILITY.md test
// 16 (HTTP abuse: big heads, many headers, big bodies, slowloris, idle sockets) and 11 (depth).
#include <nlohmann/json.hpp>

#include "platform/openai/chat_request.h"
#include "platform/openai/completion_request.h"
#include "platform/test_http.h"

using namespace agora;
using namespace agora::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {
platform::ServerLimits small_limits() {
  platform::ServerLimits l;
  l.header_timeout = 300ms;
  l.idle_timeout = 300ms;
  l.body_timeout = 300ms;
  l.max_body_bytes = 64 * 1024;
  l.max_connections = 50;
  return l;
}
std::string chat_with(const std::string& extra) {
  return R"({"model":"fake","messages":[{"role":"user","content":"x"}])" + extra + "}";
}
int parse_status(const std::string& body) {
  auto r = platform::parse_chat_request(body, platform::ServerLimits{});
  return r.ok() ? 200 : r.error().http_status();
}
}  // namespace

TEST(Limits, HeaderBytes) {
  TestServer s({}, small_limits());
  auto r = roundtrip(s.port(), get_request("/health", "X-Big: " + std::string(9000, 'a') + "\r\n"));
  EXPECT_EQ(r.status, 431);
  r = roundtrip(s.port(), "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");  // long URI
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(roundtrip(s.port(), get_request("/health", "X-Ok: " + std::string(4000, 'a') + "\r\n")).status, 200);
}

TEST(Limits, HeaderCount) {
  TestServer s({}, small_limits());
  std::string h;
  for (int i = 0; i < 101; ++i) h += "X-H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(roundtrip(s.port(), get_request("/health", h)).status, 431);
  h.clear();
  for (int i = 0; i < 90; ++i) h += "X-H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(roundtrip(s.port(), get_request("/health", h)).status, 200);
}

TEST(Limits, BodyBytes) {
  TestServer s({}, small_limits());
  const std::string big = chat_with(R"(,"user":")" + std::string(70 * 1024, 'a') + "\"");
  auto r = roundtrip(s.port(), post_request("/v1/chat/completions", big));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(json::parse(r.body)["error"]["type"], "invalid_request_error");
  // Chunked bodies are bounded too.
  Conn c(s.port());
  c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  std::string chunk(16 * 1024, ' ');
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
  for (int i = 0; i < 5; ++i) c.send(size + chunk + "\r\n");
  EXPECT_EQ(c.read_response().status, 413);
}

TEST(Limits, SlowlorisAndIdleTimeouts) {
  TestServer s({}, small_limits());
  Conn slow(s.port());
  slow.send("GET /health HTTP/1.1\r\n");
  const auto t0 = std::chrono::steady_clock::now();
  // Keep trickling; the server closes once header_timeout passes.
  while (!slow.eof() && std::chrono::steady_clock::now() - t0 < 3s) {
    slow.send("X");
    slow.read_until([](const std::string&) { return false; }, 50ms);
  }
  EXPECT_TRUE(slow.eof());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  // /health stays fast meanwhile.
  const auto t1 = std::chrono::steady_clock::now();
  EXPECT_EQ(roundtrip(s.port(), get_request("/health")).status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - t1, 1000ms);
  Conn idle(s.port());
  idle.send(get_request("/health"));
  EXPECT_EQ(idle.read_response().status, 200);
  idle.read_until([](const std::string&) { return false; }, 1s);
  EXPECT_TRUE(idle.eof());
}

TEST(Limits, MaxConnections) {
  TestServer s({}, small_limits());
  std::vector<std::unique_ptr<Conn>> idle;
  for (int i = 0; i < 50; ++i) idle.push_back(std::make_unique<Conn>(s.port()));
  std::this_thread::sleep_for(50ms);
  auto r = roundtrip(s.port(), get_request("/health"));
  EXPECT_EQ(r.status, 503);
  EXPECT_TRUE(r.headers.count("retry-after"));
  idle.clear();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(roundtrip(s.port(), get_request("/health")).status, 200);
}

TEST(Limits, JsonDepth) {
  TestServer s;
  for (const char* field : {"messages", "tools", "response_format", "metadata"}) {
    std::string deep = std::string("{\"") + field + "\":" + std::string(60000, '[') + std::string(60000, ']') + "}";
    const auto t0 = std::chrono::steady_clock::now();
    auto r = roundtrip(s.port(), post_request("/v1/chat/completions", deep));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1000ms);
    EXPECT_EQ(r.status, 400) << field;
    EXPECT_NE(json::parse(r.body)["error"]["message"].get<std::string>().find("64 levels"), std::string::npos);
  }
}

TEST(Limits, RequestFields) {
  platform::ServerLimits L;
  std::string msgs = R"({"model":"m","messages":[)";
  for (size_t i = 0; i <= L.max_messages; ++i) msgs += std::string(i ? "," : "") + R"({"role":"user","content":"x"})";
  EXPECT_EQ(parse_status(msgs + "]}"), 400);
  EXPECT_EQ(parse_status(chat_with(R"(,"stop":["a","b","c","d","e"])")), 400);
  EXPECT_EQ(parse_status(chat_with(R"(,"stop":["a","b","c","d"])")), 200);
  EXPECT_EQ(parse_status(chat_with(R"(,"stop":")" + std::string(L.max_stop_bytes + 1, 'a') + "\"")), 400);
  EXPECT_EQ(parse_status(chat_with(",\"n\":" + std::to_string(L.max_n + 1))), 400);
  EXPECT_EQ(parse_status(chat_with(",\"n\":" + std::to_string(L.max_n))), 200);
  EXPECT_EQ(parse_status(chat_with(R"(,"logprobs":true,"top_logprobs":21)")), 400);
  EXPECT_EQ(parse_status(chat_with(R"(,"logprobs":true,"top_logprobs":20)")), 200);
  std::string bias = R"(,"logit_bias":{)";
  for (size_t i = 0; i <= L.max_logit_bias; ++i) bias += (i ? "," : "") + ("\"" + std::to_string(i) + "\":1");
  EXPECT_EQ(parse_status(chat_with(bias + "}")), 400);
  std::string tools = R"(,"tools":[)";
  for (size_t i = 0; i <= L.max_tools; ++i) tools += std::string(i ? "," : "") + R"({"type":"function","function":{"name":"f)" + std::to_string(i) + "\"}}";
  EXPECT_EQ(parse_status(chat_with(tools + "]")), 400);
  EXPECT_EQ(parse_status(chat_with(R"(,"grammar":")" + std::string(L.max_grammar_bytes + 1, 'a') + "\"")), 400);
  std::string prompts = R"({"model":"m","prompt":[)";
  for (size_t i = 0; i <= L.max_prompts; ++i) prompts += std::string(i ? "," : "") + "\"p\"";
  EXPECT_FALSE(platform::parse_completion_request(prompts + "]}", L).ok());
}

TEST(Limits, MaxTokensCapClamps) {
  FakeBackend::Options fo;
  fo.n_ctx = 1 << 22;
  fo.tick = std::chrono::milliseconds(0);
  platform::ServerLimits l;
  l.max_tokens_cap = 50;
  TestServer s(fo, l);
  auto r = roundtrip(s.port(), post_request("/v1/chat/completions", chat_with(R"(,"max_tokens":100000)")));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["usage"]["completion_tokens"], 50);
}
