// Crash consistency of the Responses API (RELIABILITY.md test 6 extended): a real `agora serve`
// is killed with SIGKILL while a background response streams and a foreground one streams into a
// conversation; after a restart on the same data directory both responses are `failed` (never
// stuck in progress), the background one replays its stored events with contiguous sequence
// numbers ending in response.failed, the conversation holds no half-appended exchange, and the
// database passes integrity_check.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "platform/serve_process.h"
#include "platform/storage/store.h"
#include "platform/test_http.h"
#include "platform/storage/storage_test_util.h"

namespace agora::test {
namespace {

using nlohmann::json;

std::vector<std::string> serve_args(const std::string& dir) {
  return {"serve", "--port", "0", "--threads", "1", "--model", testdata_path("models/stories260K.gguf"), "--data-dir", dir};
}

// Starts a streaming response on `c` and reads until `n_deltas` text deltas arrived; its id.
std::string start_stream(Conn& c, const json& body, int n_deltas) {
  EXPECT_TRUE(c.send(post_request("/v1/responses", body.dump())));
  std::string id;
  EXPECT_TRUE(c.read_until([&](const std::string& b) {
    size_t count = 0, pos = 0;
    while ((pos = b.find("response.output_text.delta\n", pos)) != std::string::npos) ++count, ++pos;
    return static_cast<int>(count) >= n_deltas;
  }, std::chrono::seconds(30)));
  const std::string& b = c.buffer();
  const size_t at = b.find("\"id\":\"resp_");
  if (at != std::string::npos) id = b.substr(at + 6, b.find('"', at + 6) - at - 6);
  return id;
}

TEST(ResponsesCrash, KillDuringStreamingLeavesFailedResponsesAndWholeConversations) {
  storage::test::ScratchDir dir("resp-crash");
  std::string bg_id, fg_id, conv_id;
  for (int cycle = 0; cycle < 3; ++cycle) {
    {
      ServeProcess s(serve_args(dir.path()));
      ASSERT_NE(s.port(), 0) << s.log();
      if (cycle > 0) {
        // The previous cycle's responses ended failed; replay is whole and ends in response.failed.
        auto r = roundtrip(s.port(), get_request("/v1/responses/" + bg_id));
        ASSERT_EQ(r.status, 200) << r.body;
        EXPECT_EQ(json::parse(r.body)["status"], "failed");
        auto replay = roundtrip(s.port(), get_request("/v1/responses/" + bg_id + "?stream=true"));
        ASSERT_EQ(replay.status, 200);
        int64_t expect = 0;
        std::string last;
        for (const auto& data : sse_events(replay.body)) {
          const json e = json::parse(data);
          EXPECT_EQ(e["sequence_number"], expect++);
          last = e["type"];
        }
        EXPECT_GE(expect, 3);
        EXPECT_EQ(last, "response.failed");
        auto fg = roundtrip(s.port(), get_request("/v1/responses/" + fg_id));
        EXPECT_EQ(json::parse(fg.body)["status"], "failed");
        auto items = roundtrip(s.port(), get_request("/v1/conversations/" + conv_id + "/items?order=asc"));
        ASSERT_EQ(items.status, 200);
        // Only whole exchanges from completed turns: the seed item plus pairs.
        EXPECT_EQ(json::parse(items.body)["data"].size() % 2, 1u) << items.body;
      }
      auto conv = roundtrip(s.port(), post_request("/v1/conversations", R"({"items":[{"role":"user","content":"Once"}]})"));
      ASSERT_EQ(conv.status, 200) << conv.body;
      conv_id = json::parse(conv.body)["id"];
      // One completed exchange in the conversation first.
      auto done = roundtrip(s.port(), post_request("/v1/responses", json{{"model", "stories260K"}, {"input", "a"},
                                                                          {"conversation", conv_id}, {"max_output_tokens", 4}}.dump()));
      ASSERT_EQ(done.status, 200) << done.body;
      Conn bg(s.port()), fg(s.port());
      bg_id = start_stream(bg, {{"model", "stories260K"}, {"input", "Once upon"}, {"background", true}, {"stream", true},
                                {"max_output_tokens", 100000}}, 5);
      fg_id = start_stream(fg, {{"model", "stories260K"}, {"input", "Once"}, {"stream", true}, {"conversation", conv_id},
                                {"max_output_tokens", 100000}}, 3);
      ASSERT_FALSE(bg_id.empty());
      ASSERT_FALSE(fg_id.empty());
      std::this_thread::sleep_for(std::chrono::milliseconds(300 + 50 * cycle));  // some events flushed
      ::kill(s.pid(), SIGKILL);
    }
  }
  auto store = storage::open_store({.data_dir = dir.path()});
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE((*store)->check_integrity().ok());
}

}  // namespace
}  // namespace agora::test
