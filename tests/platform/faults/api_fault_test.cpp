// ctest-labels: unit
// Storage faults through the HTTP API (RELIABILITY.md test 7): a real `agora serve` runs with an
// LD_PRELOAD shim (fault_preload.cpp) that makes every write and fsync under its data directory
// fail with ENOSPC or EIO while a flag file exists. While the disk fails, every state-changing
// call answers 5xx with an OpenAI error object (never 2xx), reads keep answering, and the process
// stays up; once the fault clears, writes succeed again and everything acknowledged is there.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "platform/serve_process.h"
#include "platform/storage/storage_test_util.h"
#include "platform/test_http.h"

namespace agora::test {
namespace {

using nlohmann::json;

std::string multipart_upload(const std::string& name, const std::string& bytes) {
  const std::string b = "agoraFaultBoundary";
  const std::string body = "--" + b + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n--" + b +
                           "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name +
                           "\"\r\nContent-Type: text/plain\r\n\r\n" + bytes + "\r\n--" + b + "--\r\n";
  return "POST /v1/files HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=" + b +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Every write the test can make through the API, as raw requests.
std::vector<std::pair<std::string, std::string>> writes(const std::string& thread_id) {
  return {
      {"create assistant", post_request("/v1/assistants", R"({"model":"stories260K","name":"during"})")},
      {"create thread", post_request("/v1/threads", R"({"messages":[{"role":"user","content":"during"}]})")},
      {"create message", post_request("/v1/threads/" + thread_id + "/messages", R"({"role":"user","content":"during"})")},
      {"create conversation", post_request("/v1/conversations", R"({"items":[{"role":"user","content":"during"}]})")},
      {"upload file", multipart_upload("during.txt", std::string(4096, 'x'))},
  };
}

TEST(ApiStorageFaults, WritesFailWith5xxReadsWorkAndTheServerRecovers) {
  storage::test::ScratchDir data("api-fault-data"), flags("api-fault-flag");
  const std::string dir = std::filesystem::canonical(data.path()).string();
  const std::string flag = flags.path() + "/fail";
  ::setenv("AGORA_FAULT_FLAG", flag.c_str(), 1);
  ::setenv("AGORA_FAULT_DIR", dir.c_str(), 1);
  ::setenv("LD_PRELOAD", AGORA_FAULT_PRELOAD, 1);
  ::setenv("ASAN_OPTIONS", "verify_asan_link_order=0:detect_leaks=0", 1);
  ServeProcess s({"serve", "--port", "0", "--threads", "1", "--no-auth", "--model", testdata_path("models/stories260K.gguf"),
                  "--data-dir", dir});
  ::unsetenv("LD_PRELOAD");
  ASSERT_NE(s.port(), 0) << s.log();

  std::set<std::string> acknowledged;
  auto create_assistant = [&](const std::string& name) {
    auto r = roundtrip(s.port(), post_request("/v1/assistants", json{{"model", "stories260K"}, {"name", name}}.dump()));
    if (r.status == 200) acknowledged.insert(json::parse(r.body)["id"].get<std::string>());
    return r;
  };
  ASSERT_EQ(create_assistant("before").status, 200);
  auto thread = roundtrip(s.port(), post_request("/v1/threads", R"({"messages":[{"role":"user","content":"hi"}]})"));
  ASSERT_EQ(thread.status, 200) << thread.body;
  const std::string thread_id = json::parse(thread.body)["id"];

  for (const char* fault : {"ENOSPC", "EIO"}) {
    SCOPED_TRACE(fault);
    std::ofstream(flag) << fault;
    for (const auto& [what, raw] : writes(thread_id)) {
      auto r = roundtrip(s.port(), raw);
      EXPECT_GE(r.status, 500) << what << " answered " << r.status << " while the disk failed: " << r.body;
      EXPECT_LE(r.status, 599) << what;
      if (r.status >= 500) {
        auto err = json::parse(r.body, nullptr, false);
        ASSERT_FALSE(err.is_discarded()) << what << ": " << r.body;
        EXPECT_TRUE(err.contains("error") && err["error"].contains("message")) << what << ": " << r.body;
      }
    }
    // Reads keep working while writes fail.
    EXPECT_EQ(roundtrip(s.port(), get_request("/v1/assistants")).status, 200);
    EXPECT_EQ(roundtrip(s.port(), get_request("/v1/threads/" + thread_id + "/messages")).status, 200);
    EXPECT_EQ(roundtrip(s.port(), get_request("/health")).status, 200);

    // The fault clears: the same server writes again.
    std::filesystem::remove(flag);
    auto healed = create_assistant(std::string("after ") + fault);
    EXPECT_EQ(healed.status, 200) << healed.body;
    EXPECT_EQ(roundtrip(s.port(), post_request("/v1/threads/" + thread_id + "/messages",
                                               R"({"role":"user","content":"after"})")).status, 200);
  }

  // Every acknowledged assistant is there.
  auto list = roundtrip(s.port(), get_request("/v1/assistants?limit=100"));
  ASSERT_EQ(list.status, 200);
  std::set<std::string> listed;
  const json page = json::parse(list.body);
  for (const auto& a : page["data"]) listed.insert(a["id"].get<std::string>());
  for (const auto& id : acknowledged) EXPECT_TRUE(listed.count(id)) << "acknowledged assistant " << id << " is missing";
  EXPECT_EQ(s.terminate(std::chrono::seconds(20)), 0) << s.log();
}

}  // namespace
}  // namespace agora::test
