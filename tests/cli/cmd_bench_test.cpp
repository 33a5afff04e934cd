// ctest-labels: unit
// `agora bench` output contract on a tiny synthesized model: the markdown table's header and
// rows, and with --json one JSON array of {"test","threads","sequences","tps_mean","tps_stddev"}
// with the test names pp<P>, tg<N>, tg<N>@b<B>. Bad arguments exit with 2.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_test_util.h"

namespace agora {
namespace {

using test::run_agora;

std::string tiny_model(const std::string& dir) {
  const std::string out = dir + "/tiny.gguf";
  auto r = run_agora({"synth", "--arch", "llama", "--n-embd", "128", "--n-layer", "2", "--n-head", "4", "--n-head-kv",
                      "2", "--n-ff", "256", "--vocab-from", test::testdata_path("models/stories260K.gguf"), "--type",
                      "Q4_0", out});
  EXPECT_EQ(r.code, 0) << r.err;
  return out;
}

TEST(CliBench, JsonContract) {
  const std::string dir = test::scratch_dir("bench");
  const std::string model = tiny_model(dir);
  auto r = run_agora({"bench", "-m", model, "-t", "2", "-p", "32", "-n", "8", "-r", "2", "-b", "1,4", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 3u);
  const char* names[] = {"pp32", "tg8", "tg8@b4"};
  const int seqs[] = {1, 1, 4};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(j[i].size(), 5u) << j[i].dump();
    EXPECT_EQ(j[i]["test"], names[i]);
    EXPECT_EQ(j[i]["threads"], 2);
    EXPECT_EQ(j[i]["sequences"], seqs[i]);
    EXPECT_GT(j[i]["tps_mean"].get<double>(), 0.0);
    EXPECT_GE(j[i]["tps_stddev"].get<double>(), 0.0);
  }
  std::filesystem::remove_all(dir);
}

TEST(CliBench, MarkdownTable) {
  const std::string dir = test::scratch_dir("bench-md");
  const std::string model = tiny_model(dir);
  auto r = run_agora({"bench", "-m", model, "-t", "1", "-p", "16", "-n", "4", "-r", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("| model | size | params | threads | sequences | test | t/s |\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("| 1 | 1 | pp16 | "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| 1 | 1 | tg4 | "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" ± "), std::string::npos) << r.out;
  // -p 0 skips prompt processing.
  r = run_agora({"bench", "-m", model, "-t", "1", "-p", "0", "-n", "4", "-r", "1", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).size(), 1u);
  std::filesystem::remove_all(dir);
}

TEST(CliBench, BadArguments) {
  const std::string dir = test::scratch_dir("bench-bad");
  const std::string model = tiny_model(dir);
  EXPECT_EQ(run_agora({"bench", "-m", dir + "/missing.gguf"}).code, 2);
  EXPECT_EQ(run_agora({"bench", "-m", model, "-b", "0"}).code, 2);
  EXPECT_EQ(run_agora({"bench", "-m", model, "-b", "1,x"}).code, 2);
  EXPECT_EQ(run_agora({"bench", "-m", model, "-r", "0"}).code, 2);
  EXPECT_EQ(run_agora({"bench", "-m", model, "-p", "0", "-n", "0"}).code, 2);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace agora
