// `agora pull` (src/platform/model_pull.cpp, src/cli/cmd_pull.cpp) against a local Hugging
// Face-style server (model_pull_server.py, loopback, started here): full download with the
// checksum from X-Linked-Etag (also through a redirect), an interrupted download resumed with a
// Range request, a resume the server ignores, checksum mismatch, 404, bad specs.
// ctest-labels: unit
#include "platform/model_pull.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cli/cli_test_util.h"

namespace agora::test {
namespace {

namespace fs = std::filesystem;

class PullServer {
 public:
  explicit PullServer(const std::string& dir) : dir_(dir) {
    fs::create_directories(dir_ + "/root");
    fs::copy_file(testdata_path("models/stories260K.gguf"), dir_ + "/root/model.gguf",
                  fs::copy_options::overwrite_existing);
    const std::string script = source_dir() + "/tests/platform/model_pull_server.py";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execlp("python3", "python3", script.c_str(), (dir_ + "/root").c_str(),
               (dir_ + "/port").c_str(), (dir_ + "/log").c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 200 && !fs::exists(dir_ + "/port"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    port_ = std::stoi(slurp(dir_ + "/port").empty() ? "0" : slurp(dir_ + "/port"));
  }
  ~PullServer() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  std::string log() const { return slurp(dir_ + "/log"); }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

class PullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = scratch_dir(std::string("pull-") +
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    server_ = std::make_unique<PullServer>(dir_ + "/srv");
    ASSERT_GT(server_->port(), 0) << "the test server did not start (python3 " << source_dir()
                                  << "/tests/platform/model_pull_server.py)";
    models_ = dir_ + "/models";
    expected_ = slurp(testdata_path("models/stories260K.gguf"));
  }
  CliResult pull(const std::string& spec, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"pull",          spec,           "--from",
                                     server_->base(), "--models-dir", models_};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_agora(args);
  }
  std::string dir_, models_, expected_;
  std::unique_ptr<PullServer> server_;
};

TEST_F(PullTest, FullDownloadVerifiedFromLinkedEtag) {
  auto r = pull("plain/repo/model.gguf");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(models_ + "/model.gguf"), expected_);
  EXPECT_FALSE(fs::exists(models_ + "/model.gguf.part"));
  EXPECT_NE(r.err.find("verified"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("100%"), std::string::npos) << "progress is reported: " << r.err;
  EXPECT_EQ(r.out, models_ + "/model.gguf\n");
  // Again: already there, nothing fetched.
  const size_t requests = server_->log().size();
  auto again = pull("plain/repo/model.gguf");
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.err.find("already"), std::string::npos) << again.err;
  EXPECT_EQ(server_->log().size(), requests);
}

TEST_F(PullTest, RedirectKeepsTheLinkedChecksum) {
  auto r = pull("redirect/repo/model.gguf");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(models_ + "/model.gguf"), expected_);
  EXPECT_NE(r.err.find("verified"), std::string::npos) << r.err;
}

TEST_F(PullTest, InterruptedDownloadResumesWithRange) {
  auto first = pull("cut/repo/model.gguf");
  EXPECT_EQ(first.code, 1);
  EXPECT_NE(first.err.find("resume"), std::string::npos) << first.err;
  EXPECT_FALSE(fs::exists(models_ + "/model.gguf"));
  ASSERT_TRUE(fs::exists(models_ + "/model.gguf.part"));
  const auto half = fs::file_size(models_ + "/model.gguf.part");
  EXPECT_EQ(half, expected_.size() / 2);

  auto second = pull("cut/repo/model.gguf");
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_EQ(slurp(models_ + "/model.gguf"), expected_);
  EXPECT_FALSE(fs::exists(models_ + "/model.gguf.part"));
  EXPECT_NE(second.err.find("resumed"), std::string::npos) << second.err;
  EXPECT_NE(server_->log().find("bytes=" + std::to_string(half) + "-"), std::string::npos)
      << server_->log();
}

TEST_F(PullTest, ResumeIgnoredByServerStartsOver) {
  fs::create_directories(models_);
  {
    std::ofstream part(models_ + "/model.gguf.part", std::ios::binary);
    part << "garbage that is not the start of the file";
  }
  auto r = pull("norange/repo/model.gguf");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(models_ + "/model.gguf"), expected_);
}

TEST_F(PullTest, CompletePartIsNotFetchedAgain) {
  fs::create_directories(models_);
  fs::copy_file(testdata_path("models/stories260K.gguf"), models_ + "/model.gguf.part");
  auto r = pull("plain/repo/model.gguf");
  ASSERT_EQ(r.code, 0) << r.err;  // 416 with the whole size: the .part is complete
  EXPECT_EQ(slurp(models_ + "/model.gguf"), expected_);
}

TEST_F(PullTest, ChecksumMismatchLeavesNoFile) {
  auto r = pull("badsum/repo/model.gguf");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("checksum mismatch"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(models_ + "/model.gguf"));
  EXPECT_FALSE(fs::exists(models_ + "/model.gguf.part"));
}

TEST_F(PullTest, ExplicitSha256IsChecked) {
  auto bad = pull("plain/repo/model.gguf", {"--sha256", std::string(64, 'a')});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("checksum mismatch"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(models_ + "/model.gguf"));
  auto sum = platform::sha256_file(testdata_path("models/stories260K.gguf"));
  ASSERT_TRUE(sum.ok());
  auto good = pull("norange/repo/model.gguf", {"--sha256", sum.value()});
  EXPECT_EQ(good.code, 0) << good.err;
  EXPECT_NE(good.err.find("verified"), std::string::npos) << good.err;
}

TEST_F(PullTest, NotFoundIsOneClearLine) {
  auto r = pull("plain/repo/missing.gguf");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("HTTP 404"), std::string::npos) << r.err;
  size_t lines = 0;
  for (char c : r.err) lines += c == '\n';
  EXPECT_EQ(lines, 2u) << "the URL line and one error line: " << r.err;
  EXPECT_FALSE(fs::exists(models_ + "/missing.gguf"));
  EXPECT_FALSE(fs::exists(models_ + "/missing.gguf.part"));
}

TEST_F(PullTest, BadSpecsAreUsageErrors) {
  EXPECT_EQ(pull("just-a-file.gguf").code, 2);
  EXPECT_EQ(pull("owner/repo/../x.gguf").code, 2);
  EXPECT_EQ(pull("owner/repo/readme.md").code, 2);
  EXPECT_EQ(pull("owner/repo/model.gguf", {"--sha256", "xyz"}).code, 2);
  EXPECT_EQ(run_agora({"pull", "a/b/c.gguf", "--from", "ftp://x"}).code, 2);
}

TEST(PullUrl, HuggingFaceLayout) {
  platform::PullOptions o;
  o.spec = "Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5 q4.gguf";
  EXPECT_EQ(
      platform::pull_url(o).value(),
      "https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5%20q4.gguf");
  o.base_url = "http://mirror:8000/";
  o.revision = "v1";
  o.spec = "a/b/sub/f.gguf";
  EXPECT_EQ(platform::pull_url(o).value(), "http://mirror:8000/a/b/resolve/v1/sub/f.gguf");
  o.spec = "https://example.org/x/f.gguf";
  EXPECT_EQ(platform::pull_url(o).value(), "https://example.org/x/f.gguf");
}

}  // namespace
}  // namespace agora::test
