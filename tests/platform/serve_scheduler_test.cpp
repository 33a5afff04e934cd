// ctest-labels: unit model
// The server over the REAL Scheduler (stories260K), RELIABILITY.md tests 4, 5 and 14:
//  4. streaming clients killed at random token offsets: each request is cancelled within 200 ms
//     of the disconnect, at most one token is decoded after its cancel, and the scheduler's KV
//     blocks in sequences return to 0 (pool back to baseline once the prefix cache is cleared);
//  5. requests cancelled while queued decode 0 tokens, and the seeded control requests that
//     held the slots answer byte-identically to a run without the cancellations;
// 14. with logit_bias or a grammar forcing byte-fallback tokens (partial UTF-8 sequences),
//     every SSE chunk is valid UTF-8 and JSON.
#include <algorithm>
#include <future>
#include <nlohmann/json.hpp>
#include <random>

#include "platform/real_server.h"
#include "platform/test_http.h"

using namespace agora;
using namespace agora::test;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = s[i];
    int n;
    uint32_t cp;
    if (c < 0x80) {
      n = 0;
      cp = c;
    } else if ((c >> 5) == 6) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c >> 4) == 14) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c >> 3) == 30) {
      n = 3;
      cp = c & 0x07;
    } else
      return false;
    if (i + n >= s.size() && n > 0) return false;
    for (int k = 1; k <= n; ++k) {
      const unsigned char d = s[i + k];
      if ((d >> 6) != 2) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
      return false;
    if (cp >= 0xd800 && cp <= 0xdfff) return false;
    i += n + 1;
  }
  return true;
}

std::string chat_body(const json& extra) {
  json b = {{"model", "m"},
            {"messages", json::array({{{"role", "user"}, {"content", "Once upon a time"}}})}};
  for (auto& [k, v] : extra.items()) b[k] = v;
  return b.dump();
}

size_t count_of(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + needle.size()))
    ++n;
  return n;
}

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  const auto end = clock_type::now() + limit;
  while (!pred()) {
    if (clock_type::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace

// Reliability 4: 100 streaming clients killed at random token offsets.
TEST(ServeScheduler, DisconnectMidGenerationFreesSlotsAndKv) {
  platform::LocalBackendOptions bo;
  bo.n_parallel = 8;
  bo.max_queue = 128;
  bo.n_threads = 1;
  RealServer s("models/stories260K.gguf", bo);
  ASSERT_EQ(s.scheduler().kv_pool_used(), 0);
  const int n = 100;
  std::mt19937 rng(42);
  std::vector<int> offsets(n);
  for (auto& k : offsets) k = 1 + static_cast<int>(rng() % 40);
  std::vector<clock_type::time_point> killed_at(n);
  std::vector<int> seen(n, 0);
  std::vector<std::thread> clients;
  for (int i = 0; i < n; ++i) {
    clients.emplace_back([&, i] {
      Conn c(s.port());
      c.send(post_request("/v1/chat/completions", chat_body({{"stream", true},
                                                             {"max_tokens", 400},
                                                             {"ignore_eos", true},
                                                             {"seed", i},
                                                             {"temperature", 1.0}})));
      // The role chunk, then `offsets[i]` content chunks.
      c.read_until(
          [&](const std::string& b) {
            return count_of(b, "\"content\":\"") >= static_cast<size_t>(offsets[i]) + 1;
          },
          std::chrono::seconds(60));
      seen[i] = static_cast<int>(count_of(c.buffer(), "\"content\":\"")) - 1;
      killed_at[i] = clock_type::now();
      c.reset();
    });
  }
  for (auto& t : clients) t.join();
  ASSERT_TRUE(wait_for(
      [&] {
        for (auto& r : s.probe().records())
          if (!r->finished) return false;
        return true;
      },
      std::chrono::seconds(10)));
  s.scheduler().wait_idle();
  const auto last_kill = *std::max_element(killed_at.begin(), killed_at.end());
  double max_cancel_to_finish_ms = 0, max_kill_to_finish_ms = 0;
  int max_after = 0, total_after = 0;
  auto records = s.probe().records();
  ASSERT_EQ(records.size(), static_cast<size_t>(n));
  for (auto& r : records) {
    EXPECT_TRUE(r->cancelled) << "a request ran to its end: its client was killed after "
                              << r->tokens << " tokens";
    std::lock_guard l(r->mu);
    max_cancel_to_finish_ms =
        std::max(max_cancel_to_finish_ms,
                 std::chrono::duration<double, std::milli>(r->finish_at - r->cancel_at).count());
    max_kill_to_finish_ms =
        std::max(max_kill_to_finish_ms,
                 std::chrono::duration<double, std::milli>(r->finish_at - last_kill).count());
    max_after = std::max(max_after, r->tokens_after_cancel.load());
    total_after += r->tokens_after_cancel;
  }
  for (int i = 0; i < n; ++i) EXPECT_GE(seen[i], offsets[i]) << "client " << i << " was cut short";
  EXPECT_LE(max_after, 1) << "tokens decoded after a cancel (one step at most)";
  EXPECT_LT(max_cancel_to_finish_ms, 2000.0);
  EXPECT_LT(max_kill_to_finish_ms, 2000.0) << "the last disconnect took this long to free its slot";
  EXPECT_EQ(s.scheduler().kv_blocks_in_sequences(), 0);
  EXPECT_EQ(s.scheduler().stats().n_running, 0);
  s.scheduler().clear_prefix_cache();
  EXPECT_EQ(s.scheduler().kv_pool_used(), 0) << "KV pool back to baseline";
  std::printf(
      "reliability 4 (real scheduler): %d streams killed at token 1..40; cancel->slot free max "
      "%.1f ms, "
      "last kill->all free %.1f ms; tokens after cancel max %d (total %d)\n",
      n, max_cancel_to_finish_ms, max_kill_to_finish_ms, max_after, total_after);
}

// Reliability 5: queued requests disconnected; the controls are unaffected.
TEST(ServeScheduler, DisconnectWhileQueuedDecodesNothing) {
  platform::LocalBackendOptions bo;
  bo.n_parallel = 2;
  bo.max_queue = 64;
  bo.n_threads = 1;
  auto control = [](int seed) {
    return post_request("/v1/chat/completions", chat_body({{"max_tokens", 480},
                                                           {"ignore_eos", true},
                                                           {"seed", seed},
                                                           {"temperature", 0.9},
                                                           {"logprobs", true},
                                                           {"top_logprobs", 5}}));
  };
  // The reference: the controls alone.
  std::string ref[2];
  {
    RealServer s("models/stories260K.gguf", bo);
    auto a = std::async(std::launch::async, [&] { return roundtrip(s.port(), control(11)); });
    auto b = std::async(std::launch::async, [&] { return roundtrip(s.port(), control(12)); });
    auto ra = a.get(), rb = b.get();
    ASSERT_EQ(ra.status, 200) << ra.body;
    ASSERT_EQ(rb.status, 200) << rb.body;
    ref[0] = json::parse(ra.body)["choices"][0].dump();
    ref[1] = json::parse(rb.body)["choices"][0].dump();
  }
  RealServer s("models/stories260K.gguf", bo);
  auto a = std::async(std::launch::async, [&] { return roundtrip(s.port(), control(11)); });
  auto b = std::async(std::launch::async, [&] { return roundtrip(s.port(), control(12)); });
  ASSERT_TRUE(
      wait_for([&] { return s.scheduler().stats().n_running == 2; }, std::chrono::seconds(10)));
  // 50 streaming requests queue behind them; each gets its role chunk (it is submitted), then dies.
  std::vector<std::unique_ptr<Conn>> queued;
  for (int i = 0; i < 50; ++i) {
    queued.push_back(std::make_unique<Conn>(s.port()));
    queued.back()->send(
        post_request("/v1/chat/completions",
                     chat_body({{"stream", true}, {"max_tokens", 50}, {"seed", 100 + i}})));
  }
  for (auto& c : queued)
    ASSERT_TRUE(c->read_until([](const std::string& buf) {
      return buf.find("\"role\":\"assistant\"") != std::string::npos;
    }));
  wait_for([&] { return s.scheduler().stats().n_queued == 50; }, std::chrono::seconds(2));
  const int queued_seen = s.scheduler().stats().n_queued;
  EXPECT_EQ(s.scheduler().stats().n_running, 2);
  for (auto& c : queued) c->reset();
  ASSERT_TRUE(wait_for(
      [&] {
        int done = 0;
        for (auto& r : s.probe().records()) done += r->cancelled && r->finished;
        return done == 50;
      },
      std::chrono::seconds(10)));
  int controls_running = 0;
  for (auto& r : s.probe().records()) controls_running += !r->cancelled && !r->finished;
  EXPECT_EQ(controls_running, 2)
      << "the controls must still hold the slots while the queue is cancelled";
  auto ra = a.get(), rb = b.get();
  ASSERT_EQ(ra.status, 200);
  ASSERT_EQ(rb.status, 200);
  EXPECT_EQ(json::parse(ra.body)["choices"][0].dump(), ref[0]) << "control output changed";
  EXPECT_EQ(json::parse(rb.body)["choices"][0].dump(), ref[1]) << "control output changed";
  int cancelled = 0, tokens_for_cancelled = 0;
  for (auto& r : s.probe().records())
    if (r->cancelled) {
      ++cancelled;
      tokens_for_cancelled += r->tokens;
    }
  EXPECT_EQ(cancelled, 50);
  EXPECT_EQ(tokens_for_cancelled, 0);
  s.scheduler().wait_idle();
  EXPECT_EQ(s.scheduler().kv_blocks_in_sequences(), 0);
  std::printf(
      "reliability 5 (real scheduler): %d queued (seen %d) cancelled, %d tokens decoded for them; "
      "2 controls x 480 tokens byte-identical to the reference run\n",
      cancelled, queued_seen, tokens_for_cancelled);
}

// Reliability 14: byte-fallback tokens forced; every SSE chunk is valid UTF-8 and JSON.
TEST(ServeScheduler, ForcedByteTokensStreamValidUtf8) {
  platform::LocalBackendOptions bo;
  bo.n_parallel = 4;
  bo.n_threads = 1;
  RealServer s("models/stories260K.gguf", bo);
  auto vocab = Vocab::load_file(testdata_path("models/stories260K.gguf"));
  ASSERT_TRUE(vocab.ok());
  json bias = json::object();
  for (const char* t :
       {"<0xE2>", "<0x82>", "<0xAC>", "<0xF0>", "<0x9F>", "<0x98>", "<0xC3>", "<0xBC>"}) {
    const auto id = vocab.value()->find_token(t);
    ASSERT_GE(id, 0) << t;
    bias[std::to_string(id)] = 100;
  }
  auto check_stream = [](const HttpResponse& r, const char* key, std::string& text) {
    ASSERT_EQ(r.status, 200) << r.body;
    const auto events = sse_events(r.body);
    ASSERT_GT(events.size(), 2u);
    EXPECT_EQ(events.back(), "[DONE]");
    for (const auto& e : events) {
      EXPECT_TRUE(valid_utf8(e)) << "invalid UTF-8 in SSE chunk: " << e;
      if (e == "[DONE]") continue;
      json j = json::parse(e, nullptr, false);
      ASSERT_FALSE(j.is_discarded()) << e;
      for (const auto& c : j["choices"]) {
        if (key == std::string("delta") && c["delta"].contains("content") &&
            c["delta"]["content"].is_string())
          text += c["delta"]["content"].get<std::string>();
        if (key == std::string("text") && c.contains("text")) text += c["text"].get<std::string>();
      }
    }
  };
  int chunks = 0;
  for (int seed = 0; seed < 8; ++seed) {
    // Random byte tokens: most sequences are broken (lone continuations, truncated leads).
    std::string text;
    auto r = roundtrip(s.port(),
                       post_request("/v1/chat/completions", chat_body({{"stream", true},
                                                                       {"max_tokens", 48},
                                                                       {"seed", seed},
                                                                       {"logit_bias", bias},
                                                                       {"temperature", 1.0}})));
    check_stream(r, "delta", text);
    chunks += static_cast<int>(sse_events(r.body).size());
    EXPECT_TRUE(valid_utf8(text));
    EXPECT_FALSE(text.empty());
    std::string ctext;
    auto rc = roundtrip(s.port(), post_request("/v1/completions", json{{"model", "m"},
                                                                       {"prompt", "Once"},
                                                                       {"stream", true},
                                                                       {"max_tokens", 48},
                                                                       {"seed", seed},
                                                                       {"logit_bias", bias}}
                                                                      .dump()));
    check_stream(rc, "text", ctext);
    EXPECT_TRUE(valid_utf8(ctext));
  }
  // A grammar that only allows multi-byte characters: the model (which has no merged tokens
  // for them) spells them byte by byte; partial sequences are held back, never sent or mangled.
  const std::string grammar = R"(root ::= ("€" | "ü" | "日本" | "😀")+)";
  for (int seed = 0; seed < 4; ++seed) {
    std::string text;
    auto r = roundtrip(s.port(),
                       post_request("/v1/chat/completions", chat_body({{"stream", true},
                                                                       {"max_tokens", 40},
                                                                       {"seed", seed},
                                                                       {"grammar", grammar}})));
    check_stream(r, "delta", text);
    chunks += static_cast<int>(sse_events(r.body).size());
    ASSERT_FALSE(text.empty());
    EXPECT_TRUE(valid_utf8(text)) << text;
    for (size_t i = 0; i < text.size();) {
      bool ok = false;
      for (const char* w : {"€", "ü", "日本", "😀"})
        if (text.compare(i, std::strlen(w), w) == 0) {
          i += std::strlen(w);
          ok = true;
          break;
        }
      // The last character may be cut by max_tokens; a cut one is never emitted.
      ASSERT_TRUE(ok || text.compare(i, 3, "日") == 0)
          << "unexpected text at " << i << ": " << text;
      if (!ok) i += 3;
    }
  }
  std::printf(
      "reliability 14 (real scheduler): %d SSE chunks with forced byte tokens, all valid UTF-8\n",
      chunks);
}
