// ctest-labels: unit
// The server end to end over loopback with a FakeBackend: OpenAI response and SSE shapes,
// errors, auth, keep-alive, and RELIABILITY.md tests 1 (burst admission), 4 and 5 (disconnects),
// 9 (graceful drain), 12 (token limits) and 14 (every SSE chunk valid UTF-8).
#include <atomic>
#include <future>

#include <nlohmann/json.hpp>

#include "platform/test_http.h"

using namespace agora;
using namespace agora::test;
using nlohmann::json;

namespace {

const std::string k_chat = R"({"model":"fake","messages":[{"role":"user","content":"hi"}],"max_tokens":5})";
const std::string k_chat_stream =
    R"({"model":"fake","messages":[{"role":"user","content":"hi"}],"max_tokens":5,"stream":true,"stream_options":{"include_usage":true}})";

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = s[i];
    int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (n < 0 || i + n >= s.size() + (n == 0 ? 1 : 0)) return n == 0;
    for (int k = 1; k <= n; ++k)
      if (i + k >= s.size() || (static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace

TEST(HttpServer, ModelsAndHealth) {
  TestServer s;
  auto r = roundtrip(s.port(), get_request("/v1/models"));
  ASSERT_EQ(r.status, 200);
  auto j = json::parse(r.body);
  EXPECT_EQ(j["object"], "list");
  EXPECT_EQ(j["data"][0]["id"], "fake");
  EXPECT_EQ(j["data"][0]["object"], "model");
  r = roundtrip(s.port(), get_request("/v1/models/fake"));
  EXPECT_EQ(r.status, 200);
  r = roundtrip(s.port(), get_request("/v1/models/nope"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "model_not_found");
  EXPECT_EQ(roundtrip(s.port(), get_request("/health")).status, 200);
  EXPECT_EQ(roundtrip(s.port(), get_request("/nope")).status, 404);
  EXPECT_EQ(roundtrip(s.port(), get_request("/v1/chat/completions")).status, 405);
  r = roundtrip(s.port(), get_request("/metrics"));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("agora_requests_total{route=\"/v1/models\",status=\"200\"}"), std::string::npos);
  EXPECT_NE(r.body.find("agora_queue_depth{model=\"fake\"}"), std::string::npos);
}

TEST(HttpServer, ChatCompletion) {
  TestServer s;
  auto r = roundtrip(s.port(), post_request("/v1/chat/completions", k_chat));
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_TRUE(j["id"].get<std::string>().starts_with("chatcmpl-"));
  EXPECT_EQ(j["model"], "fake");
  EXPECT_EQ(j["system_fingerprint"], "fp_test");
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(j["choices"][0]["message"]["content"], "Hello world!Hello world");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["completion_tokens"], 5);
  EXPECT_EQ(j["usage"]["total_tokens"], j["usage"]["prompt_tokens"].get<int>() + 5);
  EXPECT_EQ(j["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
}

TEST(HttpServer, ChatStreamMatchesOpenAiShape) {
  TestServer s;
  auto r = roundtrip(s.port(), post_request("/v1/chat/completions", k_chat_stream));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/event-stream; charset=utf-8");
  auto ev = sse_events(r.body);
  ASSERT_GE(ev.size(), 4u);
  EXPECT_EQ(ev.back(), "[DONE]");
  auto first = json::parse(ev[0]);
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  EXPECT_TRUE(first["usage"].is_null());
  std::string text;
  std::string finish;
  for (size_t i = 1; i + 2 < ev.size(); ++i) {
    auto c = json::parse(ev[i]);
    auto& d = c["choices"][0]["delta"];
    if (d.contains("content")) text += d["content"].get<std::string>();
    if (!c["choices"][0]["finish_reason"].is_null()) finish = c["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(text, "Hello world!Hello world");
  EXPECT_EQ(finish, "length");
  auto usage = json::parse(ev[ev.size() - 2]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 5);
  for (const auto& e : ev) EXPECT_TRUE(valid_utf8(e));  // test 14
}

TEST(HttpServer, NChoicesAndLogprobs) {
  TestServer s;
  auto r = roundtrip(s.port(), post_request("/v1/chat/completions",
                                            R"({"model":"fake","messages":[{"role":"user","content":"hi"}],"max_tokens":3,"n":3,"logprobs":true,"top_logprobs":2})"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  ASSERT_EQ(j["choices"].size(), 3u);
  EXPECT_EQ(j["choices"][2]["index"], 2);
  auto& lp = j["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(lp.size(), 3u);
  EXPECT_EQ(lp[0]["top_logprobs"].size(), 2u);
  EXPECT_EQ(j["usage"]["completion_tokens"], 9);
}

TEST(HttpServer, CompletionsAndEmbeddings) {
  TestServer s;
  auto r = roundtrip(s.port(), post_request("/v1/completions", R"({"model":"fake","prompt":["a","b"],"max_tokens":2,"echo":true,"logprobs":1})"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["object"], "text_completion");
  ASSERT_EQ(j["choices"].size(), 2u);
  EXPECT_EQ(j["choices"][1]["text"], "bHello world");
  EXPECT_EQ(j["choices"][0]["logprobs"]["tokens"].size(), 2u);
  r = roundtrip(s.port(), post_request("/v1/embeddings", R"({"model":"fake","input":["a b","c"],"encoding_format":"base64"})"));
  ASSERT_EQ(r.status, 200) << r.body;
  j = json::parse(r.body);
  EXPECT_EQ(j["data"].size(), 2u);
  EXPECT_TRUE(j["data"][0]["embedding"].is_string());
  EXPECT_EQ(j["data"][0]["embedding"].get<std::string>().size(), 44u);  // 8 floats = 32 bytes
  r = roundtrip(s.port(), post_request("/v1/embeddings", R"({"model":"fake","input":"a"})"));
  EXPECT_EQ(json::parse(r.body)["data"][0]["embedding"].size(), 8u);
}

TEST(HttpServer, ErrorsAreOpenAiObjects) {
  TestServer s;
  auto r = roundtrip(s.port(), post_request("/v1/chat/completions", "{nope"));
  EXPECT_EQ(r.status, 400);
  auto j = json::parse(r.body);
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_TRUE(j["error"].contains("param"));
  EXPECT_TRUE(j["error"].contains("code"));
  r = roundtrip(s.port(), post_request("/v1/chat/completions", R"({"model":"other","messages":[{"role":"user","content":"x"}]})"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "model_not_found");
}

TEST(HttpServer, ApiKey) {
  TestServer s({}, {}, "sk-test");
  EXPECT_EQ(roundtrip(s.port(), get_request("/v1/models")).status, 401);
  EXPECT_EQ(roundtrip(s.port(), get_request("/v1/models", "Authorization: Bearer wrong\r\n")).status, 401);
  EXPECT_EQ(roundtrip(s.port(), get_request("/v1/models", "Authorization: Bearer sk-test\r\n")).status, 200);
  EXPECT_EQ(roundtrip(s.port(), get_request("/health")).status, 200);
}

TEST(HttpServer, KeepAliveServesManyRequests) {
  TestServer s;
  Conn c(s.port());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(c.send(post_request("/v1/chat/completions", k_chat)));
    EXPECT_EQ(c.read_response().status, 200);
  }
}

// Reliability 12: token limits.
TEST(HttpServer, TokenLimits) {
  TestServer s;
  auto r = roundtrip(s.port(), post_request("/v1/chat/completions", R"({"model":"fake","messages":[{"role":"user","content":"hi"}],"max_tokens":2147483647})"));
  ASSERT_EQ(r.status, 200);
  auto j = json::parse(r.body);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");  // clamped to n_ctx - prompt
  EXPECT_EQ(j["usage"]["total_tokens"], 256);
  EXPECT_EQ(roundtrip(s.port(), post_request("/v1/chat/completions", R"({"model":"fake","messages":[{"role":"user","content":"hi"}],"max_tokens":-1})")).status, 400);
  EXPECT_EQ(roundtrip(s.port(), post_request("/v1/chat/completions", R"({"model":"fake","messages":[{"role":"user","content":"hi"}],"max_tokens":0})")).status, 400);
  std::string long_text(4000, 'a');
  for (size_t i = 1; i < long_text.size(); i += 2) long_text[i] = ' ';
  r = roundtrip(s.port(), post_request("/v1/chat/completions", R"({"model":"fake","messages":[{"role":"user","content":")" + long_text + R"("}]})"));
  EXPECT_EQ(r.status, 400);
  j = json::parse(r.body);
  EXPECT_EQ(j["error"]["code"], "context_length_exceeded");
  EXPECT_NE(j["error"]["message"].get<std::string>().find("256"), std::string::npos);
  EXPECT_TRUE(s.backend().requests().empty() || s.backend().requests().size() == 1u);  // no slot taken for the long one
}

// Reliability 1: burst admission. S=4 slots, Q=8 queue; S+Q+200 concurrent streams.
TEST(HttpServer, BurstAdmission) {
  FakeBackend::Options fo;
  fo.n_parallel = 4;
  fo.max_queue = 8;
  fo.tick = std::chrono::milliseconds(5);
  TestServer s(fo);
  const int total = 4 + 8 + 200;
  std::vector<std::unique_ptr<Conn>> conns;
  for (int i = 0; i < total; ++i) conns.push_back(std::make_unique<Conn>(s.port()));
  const auto t0 = std::chrono::steady_clock::now();
  for (auto& c : conns) c->send(post_request("/v1/chat/completions", R"({"model":"fake","messages":[{"role":"user","content":"hi"}],"max_tokens":20,"stream":true})"));
  int ok = 0, rejected = 0, other = 0;
  std::vector<double> reject_ms;
  for (auto& c : conns) {
    auto r = c->read_response(std::chrono::seconds(30));
    if (r.status == 200) ++ok;
    else if (r.status == 429 && r.headers.count("retry-after") && json::parse(r.body)["error"].contains("type")) {
      ++rejected;
      reject_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    } else ++other;
  }
  EXPECT_EQ(other, 0);
  EXPECT_EQ(ok + rejected, total);
  EXPECT_GE(ok, 12);
  EXPECT_LE(s.backend().max_running_seen, 4);
  EXPECT_LE(s.backend().max_queued_seen, 8);
  std::printf("burst: %d ok, %d rejected with 429\n", ok, rejected);
}

// Reliability 4: disconnect mid-generation frees the request at once.
TEST(HttpServer, DisconnectMidStreamCancels) {
  FakeBackend::Options fo;
  fo.n_parallel = 32;
  fo.max_queue = 32;
  fo.n_ctx = 100000;
  fo.tick = std::chrono::milliseconds(5);
  TestServer s(fo);
  const int n = 20;
  std::vector<std::unique_ptr<Conn>> conns;
  for (int i = 0; i < n; ++i) {
    conns.push_back(std::make_unique<Conn>(s.port()));
    conns.back()->send(post_request("/v1/chat/completions", R"({"model":"fake","messages":[{"role":"user","content":"hi"}],"max_tokens":100000,"stream":true})"));
  }
  // Read a few events from each, then kill them.
  for (auto& c : conns) c->read_until([](const std::string& b) { return b.find("Hello") != std::string::npos; });
  for (auto& c : conns) c->reset();
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    bool all = true;
    for (auto& r : s.backend().requests()) all &= r->finished.load();
    if (all) break;
    ASSERT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("disconnect: %d streams cancelled within %.1f ms\n", n, ms);
  EXPECT_LT(ms, 2000.0);
  for (auto& r : s.backend().requests()) EXPECT_TRUE(r->cancelled.load()) << "emitted " << r->emitted;
}

// Reliability 5: disconnect while queued: never runs, controls unaffected.
TEST(HttpServer, DisconnectWhileQueued) {
  FakeBackend::Options fo;
  fo.n_parallel = 2;
  fo.max_queue = 64;
  fo.tick = std::chrono::milliseconds(5);
  TestServer s(fo);
  const std::string control = R"({"model":"fake","messages":[{"role":"user","content":"hi"}],"max_tokens":40,"seed":1})";
  auto f1 = std::async(std::launch::async, [&] { return roundtrip(s.port(), post_request("/v1/chat/completions", control)); });
  auto f2 = std::async(std::launch::async, [&] { return roundtrip(s.port(), post_request("/v1/chat/completions", control)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::vector<std::unique_ptr<Conn>> queued;
  for (int i = 0; i < 50; ++i) {
    queued.push_back(std::make_unique<Conn>(s.port()));
    queued.back()->send(post_request("/v1/chat/completions", R"({"model":"fake","messages":[{"role":"user","content":"hi"}],"max_tokens":10,"stream":true})"));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (auto& c : queued) c->reset();
  auto r1 = f1.get(), r2 = f2.get();
  ASSERT_EQ(r1.status, 200);
  EXPECT_EQ(json::parse(r1.body)["choices"][0]["message"]["content"], json::parse(r2.body)["choices"][0]["message"]["content"]);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  int tokens_for_cancelled = 0;
  for (auto& r : s.backend().requests())
    if (r->cancelled) tokens_for_cancelled += r->emitted;
  EXPECT_EQ(tokens_for_cancelled, 0);
}

// Reliability 9: graceful drain.
TEST(HttpServer, GracefulDrain) {
  FakeBackend::Options fo;
  fo.tick = std::chrono::milliseconds(5);
  TestServer s(fo);
  Conn stream(s.port());
  stream.send(post_request("/v1/chat/completions", R"({"model":"fake","messages":[{"role":"user","content":"hi"}],"max_tokens":60,"stream":true})"));
  stream.read_until([](const std::string& b) { return b.find("Hello") != std::string::npos; });
  s.server().begin_drain();
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto t0 = std::chrono::steady_clock::now();
  auto r = roundtrip(s.port(), post_request("/v1/chat/completions", k_chat));
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.status, 503);
  EXPECT_TRUE(r.headers.count("retry-after"));
  EXPECT_LT(ms, 1000.0);
  // The in-flight stream finishes normally.
  auto rest = stream.read_response();
  EXPECT_NE(rest.body.find("\"finish_reason\":\"length\""), std::string::npos);
  EXPECT_NE(rest.body.find("data: [DONE]"), std::string::npos);
  for (int i = 0; i < 200 && !s.exited(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(s.exited());
}
