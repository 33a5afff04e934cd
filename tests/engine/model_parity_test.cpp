// ctest-labels: model
// Parity with the reference engine: for every reference JSON in testdata/reference and every
// variant in it, feed the reference prompt ids, generate greedily (teacher-forced with the
// reference tokens so that one near-tie cannot derail the rest), and require
//   * the greedy token to equal the reference at every step up to the first near-tie
//     (reference top-1/top-2 margin below kTieMargin), and
//   * the recorded top-10 logits (and, where present, all logits) to match within tolerance.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/model.h"
#include "engine/sample/sampler.h"
#include "support/testdata.h"

namespace agora {
namespace {

using nlohmann::json;

constexpr double kTieMargin = 0.02;
constexpr double kTolF32 = 1e-3;    // F32 weights with an F32 KV cache
constexpr double kTolOther = 2e-2;  // F16 weights or an F16 KV cache
// Quantized files re-quantize activations to 8 bits before every matrix product, so a last-bit
// difference in an upstream float sum (the reference's tiled GEMM sums in another order) can
// flip one int8 rounding and grow into logit differences of a few 1e-2 (measured up to 0.06;
// see docs/performance.md "Parity"). For them both the logit tolerance and the near-tie margin
// are 0.1; F32/F16 files stay at the strict bounds above.
// Where the reference's summation order is reproduced exactly (the first step of a prompt of at
// most 32 positions) quantized logits must still match closely: that is what checks the
// quantized kernels. (Decode steps then use the reference's AVX2 K-quant kernels, whose lane
// order Agora does not copy, so from there on the wider bound applies.)
constexpr double kTolQuant = 0.15;
constexpr double kTieMarginQuant = 0.15;
constexpr double kTolQuantShort = 2e-3;
constexpr int64_t kShortContext = 32;

struct VariantCase {
  std::string ref_file;
  size_t variant;
};

std::vector<VariantCase> all_variants() {
  std::vector<VariantCase> out;
  const char* env = std::getenv("AGORA_TESTDATA");
  std::string dir = std::string(env && *env ? env : AGORA_TESTDATA_DEFAULT_FOR_LIST) + "/reference";
  if (!std::filesystem::is_directory(dir)) return {{"<missing: " + dir + ">", 0}};
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".json") files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    json j = json::parse(test::read_file(dir + "/" + f));
    for (size_t v = 0; v < j["variants"].size(); ++v) out.push_back({f, v});
  }
  return out;
}

class Parity : public ::testing::TestWithParam<VariantCase> {};

TEST_P(Parity, GreedyTokensAndLogitsMatchReference) {
  const VariantCase& c = GetParam();
  ASSERT_EQ(c.ref_file.rfind("<missing", 0), std::string::npos) << "test data not found: " << c.ref_file;
  json ref = json::parse(test::read_file(test::testdata_path("reference/" + c.ref_file)));
  const json& var = ref["variants"][c.variant];
  const std::string name = var["name"];
  const std::string file = var["file"];
  auto model = Model::load(test::testdata_path(file));
  ASSERT_TRUE(model.ok()) << model.status().message();
  const ModelParams& mp = model.value()->params();
  ASSERT_EQ(mp.n_vocab, var["n_vocab"].get<int64_t>());

  const bool kv_f32 = var["settings"]["kv_cache_type"] == "f32";
  const bool all_f32 = kv_f32 && name.rfind("F32", 0) == 0;
  const bool quantized = name[0] == 'Q';
  const double tol = all_f32 ? kTolF32 : quantized ? kTolQuant : kTolOther;
  const double tie_margin = quantized ? kTieMarginQuant : kTieMargin;

  ContextParams cp;
  cp.n_ctx = 512;
  cp.kv_type = kv_f32 ? KvType::f32 : KvType::f16;
  cp.reference_order = true;
  cp.n_threads = 2;
  auto ctx = Context::create(*model.value(), cp);
  ASSERT_TRUE(ctx.ok()) << ctx.status().message();

  int n_exact_steps = 0, n_checked_logits = 0;
  double max_diff = 0;
  for (const json& pr : var["prompts"]) {
    std::vector<int32_t> prompt = pr["prompt_tokens"].get<std::vector<int32_t>>();
    std::vector<int32_t> gen = pr["generated_tokens"].get<std::vector<int32_t>>();
    std::vector<double> margins = pr["top1_margins"].get<std::vector<double>>();
    const json& top = pr["top_logits"];
    const json* full = pr.contains("full_logits") ? &pr["full_logits"] : nullptr;

    std::vector<BatchEntry> batch;
    for (size_t i = 0; i < prompt.size(); ++i)
      batch.push_back({prompt[i], static_cast<int32_t>(i), 0, i + 1 == prompt.size()});
    bool tie_seen = false;
    int32_t pos = static_cast<int32_t>(prompt.size());
    for (size_t step = 0; step < gen.size(); ++step) {
      auto logits = ctx.value()->decode(batch);
      ASSERT_TRUE(logits.ok()) << logits.status().message();
      const float* l = logits.value().data();
      if (margins[step] < tie_margin) tie_seen = true;
      if (!tie_seen) {
        ASSERT_EQ(argmax(l, mp.n_vocab), gen[step])
            << name << " prompt \"" << pr["prompt"].get<std::string>() << "\" step " << step;
        ++n_exact_steps;
      }
      if (step < top.size()) {
        for (const json& tl : top[step]) {
          const int id = tl[0];
          const double want = tl[1];
          const double d = std::fabs(l[id] - want);
          max_diff = std::max(max_diff, d);
          const bool short_ctx = quantized && step == 0 && static_cast<int64_t>(prompt.size()) <= kShortContext;
          EXPECT_LE(d, short_ctx ? kTolQuantShort : tol) << name << " step " << step << " token " << id << ": got " << l[id] << " want " << want;
          ++n_checked_logits;
        }
      }
      if (full && step < full->size()) {
        const json& fl = (*full)[step];
        for (int64_t t = 0; t < mp.n_vocab; ++t) {
          const double d = std::fabs(l[t] - fl[t].get<double>());
          max_diff = std::max(max_diff, d);
          EXPECT_LE(d, tol) << name << " full logits step " << step << " token " << t;
          ++n_checked_logits;
        }
      }
      batch = {{gen[step], pos++, 0, true}};  // teacher forcing
    }
  }
  std::printf("[parity] %s %s: %d exact greedy steps, %d logits checked, max |diff| %.3g (tol %.2g)\n",
              c.ref_file.c_str(), name.c_str(), n_exact_steps, n_checked_logits, max_diff, tol);
}

INSTANTIATE_TEST_SUITE_P(Reference, Parity, ::testing::ValuesIn(all_variants()), [](const auto& info) {
  std::string n = info.param.ref_file + "_" + std::to_string(info.param.variant);
  for (char& ch : n)
    if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
});

}  // namespace
}  // namespace agora
