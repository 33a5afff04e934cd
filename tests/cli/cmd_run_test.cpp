// ctest-labels: unit model
// The CLI contracts of `agora run`, `inspect`, `render-template` and `chat`: output formats,
// exit codes, and greedy parity of `run --prompt-ids --print-ids` with the reference ids.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_test_util.h"

namespace agora {
namespace {

using test::run_agora;

std::string model(const char* name) { return test::testdata_path(std::string("models/") + name); }

TEST(CliRun, PrintIdsMatchesTheReferenceGreedyTokens) {
  // Every F16 reference model, first prompt, up to the first near-tie of the reference.
  for (const char* ref_name : {"rand-llama", "rand-qwen2", "rand-phi3", "rand-gemma2", "stories260K"}) {
    auto ref = nlohmann::json::parse(test::read_file(test::testdata_path(std::string("reference/") + ref_name + ".json")));
    const auto& var = ref["variants"][0];
    const auto& pr = var["prompts"][0];
    std::string ids;
    for (int t : pr["prompt_tokens"]) ids += (ids.empty() ? "" : ",") + std::to_string(t);
    const auto want = pr["generated_tokens"].get<std::vector<int>>();
    const auto margins = pr["top1_margins"].get<std::vector<double>>();
    size_t exact = 0;
    while (exact < want.size() && margins[exact] >= 0.02) ++exact;
    auto r = run_agora({"run", "-m", test::testdata_path(var["file"].get<std::string>()), "--prompt-ids", ids, "-n",
                        std::to_string(want.size()), "--temp", "0", "--ignore-eos", "--print-ids", "-t", "2"});
    ASSERT_EQ(r.code, 0) << r.err;
    // stdout: the JSON array alone on the last line.
    std::string last = r.out.substr(0, r.out.size() - 1);
    last = last.substr(last.rfind('\n') == std::string::npos ? 0 : last.rfind('\n') + 1);
    auto got = nlohmann::json::parse(last).get<std::vector<int>>();
    ASSERT_EQ(got.size(), want.size()) << ref_name;
    for (size_t i = 0; i < exact; ++i) EXPECT_EQ(got[i], want[i]) << ref_name << " step " << i;
    EXPECT_NE(r.err.find("tok/s"), std::string::npos);
  }
}

TEST(CliRun, StreamsOnlyTheCompletion) {
  auto r = run_agora({"run", "-m", model("stories260K.gguf"), "-p", "Once upon a time", "-n", "20", "--temp", "0"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find("Once upon a time"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.rfind(", there was a little girl", 0), 0u) << r.out;
  EXPECT_NE(r.err.find("loaded"), std::string::npos);
  // Same seed, same text; sampling at temperature.
  auto a = run_agora({"run", "-m", model("stories260K.gguf"), "-p", "The dog", "-n", "30", "--temp", "1", "--seed", "5"});
  auto b = run_agora({"run", "-m", model("stories260K.gguf"), "-p", "The dog", "-n", "30", "--temp", "1", "--seed", "5"});
  EXPECT_EQ(a.out, b.out);
}

TEST(CliRun, GrammarAndSchemaOutputIsExactlyTheDocument) {
  const std::string dir = test::scratch_dir("run-grammar");
  std::ofstream(dir + "/g.gbnf") << "root ::= (\"yes\" | \"no\") \"!\"\n";
  auto r = run_agora({"run", "-m", model("stories260K.gguf"), "-p", "Is it", "--grammar", dir + "/g.gbnf", "--seed", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.out == "yes!" || r.out == "no!") << r.out;
  std::ofstream(dir + "/s.json") << R"({"type":"object","properties":{"n":{"type":"integer","minimum":1,"maximum":9}},"required":["n"],"additionalProperties":false})";
  r = run_agora({"run", "-m", model("stories260K.gguf"), "-p", "Number:", "--json-schema", dir + "/s.json", "--seed", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_GE(j["n"].get<int>(), 1);
  EXPECT_LE(j["n"].get<int>(), 9);
  std::ofstream(dir + "/bad.gbnf") << "root ::= (\"a\"\n";
  r = run_agora({"run", "-m", model("stories260K.gguf"), "-p", "x", "--grammar", dir + "/bad.gbnf"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("line"), std::string::npos) << r.err;
  std::filesystem::remove_all(dir);
}

TEST(CliRun, BadInputIsAOneLineErrorWithExitCode2) {
  const std::vector<std::vector<std::string>> cases = {
      {"run", "-m", "/nonexistent/model.gguf", "-p", "x"},
      {"run", "-m", model("stories260K.gguf"), "--prompt-ids", "1,abc"},
      {"run", "-m", model("stories260K.gguf"), "--prompt-ids", "1,99999"},
      {"run", "-m", model("stories260K.gguf"), "-p", "x", "--prompt-ids", "1"},
      {"run", "-m", model("stories260K.gguf"), "-p", "x", "--kv-type", "q3"},
      {"run", "-p", "x"},
      {"run", "-m", model("stories260K.gguf"), "-p", "x", "--no-such-flag"},
      {"inspect", "/nonexistent.gguf"},
      {"run", "-m", test::testdata_path("reference/stories260K.json"), "-p", "x"},
  };
  for (const auto& args : cases) {
    auto r = run_agora(args);
    EXPECT_EQ(r.code, 2) << args[0] << " " << (args.size() > 2 ? args[2] : "");
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("agora: ", 0), 0u) << r.err;
  }
}

TEST(CliInspect, PrintsMetadataAndTensors) {
  auto r = run_agora({"inspect", model("rand-qwen2.gguf")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("general.architecture"), std::string::npos);
  EXPECT_NE(r.out.find("\"qwen2\""), std::string::npos);
  EXPECT_NE(r.out.find("token_embd.weight"), std::string::npos);
  EXPECT_NE(r.out.find("F16"), std::string::npos);
  EXPECT_NE(r.out.find("[256 x 4099]"), std::string::npos);
}

TEST(CliRenderTemplate, RendersExactlyAndFailsWithExitCode1) {
  const std::string dir = test::scratch_dir("render");
  std::ofstream(dir + "/ctx.json") << R"({"messages":[{"role":"user","content":"Hi"}],"add_generation_prompt":true,"now":"2025-01-15T12:00:00"})";
  auto r = run_agora({"render-template", test::testdata_path("templates/Qwen-Qwen2.5-7B-Instruct.jinja"), dir + "/ctx.json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.substr(r.out.size() - 22), "<|im_start|>assistant\n");
  EXPECT_NE(r.out.find("<|im_start|>user\nHi<|im_end|>\n"), std::string::npos) << r.out;
  std::ofstream(dir + "/bad.jinja") << "{{ raise_exception('nope') }}";
  r = run_agora({"render-template", dir + "/bad.jinja", dir + "/ctx.json"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("nope"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  std::filesystem::remove_all(dir);
}

TEST(CliChat, AnswersEachLineUsingTheTemplate) {
  const std::string dir = test::scratch_dir("chat");
  std::ofstream(dir + "/in.txt") << "Hello\n/reset\nAgain\n/exit\n";
  const std::string cmd = test::shell_quote(test::agora_binary()) + " chat -m " + test::shell_quote(model("rand-qwen2.gguf")) +
                          " -n 8 --seed 3 -t 2 <" + dir + "/in.txt >" + dir + "/out.txt 2>" + dir + "/err.txt";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << test::slurp(dir + "/err.txt");
  const std::string out = test::slurp(dir + "/out.txt");
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;  // one reply line per message
  EXPECT_NE(test::slurp(dir + "/err.txt").find("conversation reset"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace agora
