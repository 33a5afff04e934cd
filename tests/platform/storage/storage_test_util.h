// Shared helpers for the storage and accounts tests: scratch data directories and a store with
// a user in it.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "platform/storage/store.h"

namespace agora::storage::test {

// A fresh, empty directory under the system temp dir, removed when the object dies.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name) {
    static std::atomic<int> n{0};
    path_ = (std::filesystem::temp_directory_path() /
             ("agora-store-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++)))
                .string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::unique_ptr<Store> open_or_die(const StoreOptions& opts) {
  auto s = open_store(opts);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? std::move(*s) : nullptr;
}

inline std::unique_ptr<Store> open_or_die(const std::string& dir) {
  StoreOptions opts;
  opts.data_dir = dir;
  return open_or_die(opts);
}

// Creates a user named `name` and returns its Owner.
inline Owner make_owner(Store& store, const std::string& name) {
  auto u = store.create_user(name, std::nullopt, "");
  EXPECT_TRUE(u.ok()) << u.status().message();
  return Owner(u.ok() ? u->id : std::string("user_missing"));
}

inline Assistant sample_assistant(const std::string& name = "helper") {
  Assistant a;
  a.name = name;
  a.model = "tiny";
  a.instructions = "Be brief.";
  a.tools = R"([{"type":"function","function":{"name":"f"}}])";
  a.metadata = R"({"k":"v"})";
  a.temperature = 0.5;
  return a;
}

inline Message text_message(const std::string& text, const std::string& thread_id = "") {
  Message m;
  m.thread_id = thread_id;
  m.role = "user";
  // Tests use plain ASCII without quotes or backslashes, so no escaping is needed.
  m.content = R"([{"type":"text","text":{"value":")" + text + R"(","annotations":[]}}])";
  return m;
}

inline Run sample_run(const std::string& thread_id, const std::string& assistant_id) {
  Run r;
  r.thread_id = thread_id;
  r.assistant_id = assistant_id;
  r.model = "tiny";
  r.instructions = "Be brief.";
  return r;
}

}  // namespace agora::storage::test
