// ctest-labels: unit
// `agora quantize` against files the reference's llama-quantize made from the same inputs (test
// data): the whole output file must be byte-identical (metadata, tensor order and types, and
// the quantized bytes: these quantizers are deterministic), including the per-tensor fallbacks
// of stories260K Q4_K_M. The quantized files then load and run, and their greedy tokens and
// logits are compared with the F16 original (figures printed). Bad arguments exit with 2.
#include <gtest/gtest.h>

#include <cmath>

#include "cli_test_util.h"
#include "engine/context.h"
#include "engine/model.h"
#include "engine/sample/sampler.h"

namespace agora {
namespace {

using test::run_agora;

TEST(CliQuantize, RandLlamaMatchesReferenceFiles) {
  const std::string dir = test::scratch_dir("quantize");
  const std::string src = test::testdata_path("models/rand-llama.gguf");
  for (const char* type : {"Q8_0", "Q4_0", "Q4_K_M"}) {
    const std::string out = dir + "/rand-llama-" + type + ".gguf";
    auto r = run_agora({"quantize", src, out, type, "-t", "2"});
    ASSERT_EQ(r.code, 0) << r.err;
    const std::string want = test::read_file(test::testdata_path(std::string("models/rand-llama-") + type + ".gguf"));
    const std::string got = test::slurp(out);
    EXPECT_EQ(got.size(), want.size()) << type;
    EXPECT_TRUE(got == want) << type << ": output differs from the reference-made file";
  }
  std::filesystem::remove_all(dir);
}

TEST(CliQuantize, Stories260KQ4KMFallbacksMatchReference) {
  const std::string dir = test::scratch_dir("quantize-stories");
  const std::string out = dir + "/s.gguf";
  auto r = run_agora({"quantize", test::testdata_path("models/stories260K.gguf"), out, "Q4_K_M"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(test::slurp(out) == test::read_file(test::testdata_path("models/stories260K-Q4_K_M.gguf")));
  // Q8_0 has no fallback for the 172-wide ffn_down rows: refused, as by the reference.
  r = run_agora({"quantize", test::testdata_path("models/stories260K.gguf"), dir + "/q8.gguf", "Q8_0"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("ffn_down"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/q8.gguf"));
  std::filesystem::remove_all(dir);
}

TEST(CliQuantize, BadArguments) {
  const std::string dir = test::scratch_dir("quantize-bad");
  const std::string src = test::testdata_path("models/rand-llama.gguf");
  auto r = run_agora({"quantize", src, dir + "/x.gguf", "Q4_Z"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown type"), std::string::npos) << r.err;
  r = run_agora({"quantize", dir + "/missing.gguf", dir + "/x.gguf", "Q8_0"});
  EXPECT_EQ(r.code, 2);
  // Already quantized input.
  r = run_agora({"quantize", test::testdata_path("models/rand-llama-Q8_0.gguf"), dir + "/x.gguf", "Q4_0"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("allow-requantize"), std::string::npos) << r.err;
  r = run_agora({"quantize", src});
  EXPECT_NE(r.code, 0);
  std::filesystem::remove_all(dir);
}

// Greedy continuation of a fixed prompt; returns the logits of every step. With `forced`, the
// next input is forced[step] (teacher forcing) instead of the model's own choice; `chosen`
// receives the greedy tokens.
std::vector<std::vector<float>> run_model(const std::string& path, int n_steps,
                                          const std::vector<int32_t>* forced = nullptr,
                                          std::vector<int32_t>* chosen = nullptr) {
  auto model = Model::load(path);
  EXPECT_TRUE(model.ok()) << model.status().message();
  if (!model.ok()) return {};
  ContextParams cp;
  cp.n_ctx = 128;
  cp.n_threads = 2;
  auto ctx = Context::create(*model.value(), cp);
  EXPECT_TRUE(ctx.ok());
  if (!ctx.ok()) return {};
  const int64_t n_vocab = model.value()->params().n_vocab;
  std::vector<BatchEntry> batch = {{1, 0, 0, false}, {450, 1, 0, false}, {2217, 2, 0, false}, {29889, 3, 0, true}};
  for (auto& e : batch) e.token %= static_cast<int32_t>(n_vocab);
  std::vector<std::vector<float>> out;
  int32_t pos = 4;
  for (int s = 0; s < n_steps; ++s) {
    auto l = ctx.value()->decode(batch);
    EXPECT_TRUE(l.ok());
    if (!l.ok()) return out;
    out.emplace_back(l.value().begin(), l.value().end());
    const int32_t tok = argmax(l.value().data(), n_vocab);
    if (chosen) chosen->push_back(tok);
    batch = {{forced ? (*forced)[static_cast<size_t>(s)] : tok, pos++, 0, true}};
  }
  return out;
}

TEST(CliQuantize, QuantizedFilesRunCloseToTheOriginal) {
  const std::string dir = test::scratch_dir("quantize-run");
  const std::string src = test::testdata_path("models/rand-llama.gguf");
  const int n_steps = 16;
  std::vector<int32_t> ref_tokens;
  const auto ref = run_model(src, n_steps, nullptr, &ref_tokens);
  ASSERT_EQ(ref.size(), static_cast<size_t>(n_steps));
  // Bounds on the largest logit error relative to the logits' spread (random weights give
  // flat, hard logits; the bounds are loose and the figures are printed).
  const std::pair<const char*, double> cases[] = {{"Q8_0", 0.05}, {"Q6_K", 0.1}, {"Q5_K_M", 0.2}, {"Q4_K_M", 0.3},
                                                  {"Q5_0", 0.3},  {"Q4_0", 0.4}, {"Q3_K_M", 0.6}, {"Q2_K", 1.0}};
  for (const auto& [type, bound] : cases) {
    const std::string out = dir + "/" + type + ".gguf";
    auto r = run_agora({"quantize", src, out, type});
    ASSERT_EQ(r.code, 0) << type << ": " << r.err;
    const auto got = run_model(out, n_steps, &ref_tokens);
    ASSERT_EQ(got.size(), ref.size()) << type;
    int agree = 0;
    double max_err = 0, spread = 0;
    for (size_t s = 0; s < ref.size(); ++s) {
      const int64_t n = static_cast<int64_t>(ref[s].size());
      agree += argmax(ref[s].data(), n) == argmax(got[s].data(), n);
      float lo = ref[s][0], hi = ref[s][0];
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_TRUE(std::isfinite(got[s][i]));
        max_err = std::max(max_err, static_cast<double>(std::fabs(got[s][i] - ref[s][i])));
        lo = std::min(lo, ref[s][i]);
        hi = std::max(hi, ref[s][i]);
      }
      spread = std::max(spread, static_cast<double>(hi - lo));
    }
    std::printf("[quantize] rand-llama %-6s: greedy top-1 agreement %2d/%d, max |logit error| %.4f (logit range %.2f)\n",
                type, agree, n_steps, max_err, spread);
    EXPECT_LE(max_err, bound * spread) << type;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace agora
