// ctest-labels: unit model
// Attention returns the same bits however a prompt is split into passes: the whole prompt in one
// pass (tiled kernel, K transposed per chunk of positions), in odd-sized pieces, token by token
// (per-query kernel), or mixed with another sequence's entries in the same pass. Batch invariance
// and prefix-cache hits depend on it. Synthetic models with head sizes the tiled kernel takes
// (64), for every KV cache type, grouped-query and multi-head attention, with and without a
// sliding window.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "cli/cli_test_util.h"
#include "engine/context.h"
#include "engine/model.h"

namespace agora {
namespace {

// window: a sliding attention window (gemma2: on even layers; phi3: every layer), "" for none.
std::string synth_model(const std::string& arch, const std::string& n_head_kv, const std::string& window) {
  const std::string out = test::scratch_dir("attention") + "/" + arch + "-" + n_head_kv + "-" + window + ".gguf";
  std::vector<std::string> args = {"synth", "--arch", arch, "--n-embd", "256", "--n-layer", "2", "--n-head", "4",
                                   "--n-head-kv", n_head_kv, "--n-ff", "512", "--n-ctx", "1024", "--vocab-from",
                                   test::testdata_path("models/stories260K.gguf"), "--type", "F16", "--seed", "3", out};
  if (!window.empty()) args.insert(args.end() - 1, {"--sliding-window", window});
  auto r = test::run_agora(args);
  EXPECT_EQ(r.code, 0) << r.err;
  return out;
}

std::vector<int32_t> random_tokens(int n, uint32_t seed, int64_t n_vocab) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> d(3, static_cast<int32_t>(n_vocab - 1));
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = d(rng);
  return t;
}

std::unique_ptr<Context> make_context(const Model& m, KvType kv, int64_t n_batch) {
  ContextParams cp;
  cp.n_ctx = 512;
  cp.n_seq = 2;
  cp.n_batch = n_batch;
  cp.kv_type = kv;
  cp.n_threads = 2;
  auto c = Context::create(m, cp);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return std::move(c.value());
}

// Logits of every token of `tokens` (sequence `seq`), passed `step` entries at a time.
std::vector<float> logits_in_steps(Context& ctx, const std::vector<int32_t>& tokens, int seq, size_t step) {
  std::vector<float> all;
  for (size_t i = 0; i < tokens.size(); i += step) {
    std::vector<BatchEntry> b;
    for (size_t k = i; k < std::min(tokens.size(), i + step); ++k)
      b.push_back({tokens[k], static_cast<int32_t>(k), seq, true});
    auto l = ctx.decode(b);
    EXPECT_TRUE(l.ok()) << l.status().message();
    if (!l.ok()) return all;
    all.insert(all.end(), l.value().begin(), l.value().end());
  }
  return all;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

class AttentionSplits : public ::testing::TestWithParam<std::tuple<std::string, std::string, std::string>> {};

TEST_P(AttentionSplits, EverySplitGivesTheSameBits) {
  const auto& [arch, n_head_kv, window] = GetParam();
  auto model = Model::load(synth_model(arch, n_head_kv, window));
  ASSERT_TRUE(model.ok()) << model.status().message();
  const Model& m = *model.value();
  ASSERT_EQ(m.params().head_dim_k, 64);
  // 300 positions: two 256-position chunks of the tiled kernel, the second one partial.
  const std::vector<int32_t> a = random_tokens(300, 1, m.params().n_vocab);
  const std::vector<int32_t> b = random_tokens(120, 2, m.params().n_vocab);
  for (KvType kv : {KvType::f16, KvType::f32, KvType::q8_0}) {
    SCOPED_TRACE(std::string("kv type ") + (kv == KvType::f16 ? "f16" : kv == KvType::f32 ? "f32" : "q8_0"));
    auto one = make_context(m, kv, 1);
    const std::vector<float> ref = logits_in_steps(*one, a, 0, 1);
    ASSERT_EQ(ref.size(), a.size() * static_cast<size_t>(m.params().n_vocab));
    auto whole = make_context(m, kv, 512);
    EXPECT_TRUE(same_bits(logits_in_steps(*whole, a, 0, a.size()), ref)) << "one pass";
    auto odd = make_context(m, kv, 37);
    EXPECT_TRUE(same_bits(logits_in_steps(*odd, a, 1, 37), ref)) << "passes of 37";

    // Sequence 1 first, then a pass that mixes both sequences: a's first 200 tokens, b's last
    // 60 tokens, a's last 100 tokens.
    auto mixed = make_context(m, kv, 512);
    std::vector<BatchEntry> pass1, pass2;
    for (size_t k = 0; k < 60; ++k) pass1.push_back({b[k], static_cast<int32_t>(k), 1, false});
    for (size_t k = 0; k < 200; ++k) pass2.push_back({a[k], static_cast<int32_t>(k), 0, true});
    for (size_t k = 60; k < b.size(); ++k) pass2.push_back({b[k], static_cast<int32_t>(k), 1, false});
    for (size_t k = 200; k < a.size(); ++k) pass2.push_back({a[k], static_cast<int32_t>(k), 0, true});
    ASSERT_TRUE(mixed->decode(pass1).ok());
    auto l = mixed->decode(pass2);
    ASSERT_TRUE(l.ok()) << l.status().message();
    EXPECT_TRUE(same_bits(std::vector<float>(l.value().begin(), l.value().end()), ref)) << "mixed pass";
  }
}

INSTANTIATE_TEST_SUITE_P(Archs, AttentionSplits,
                         ::testing::Values(std::make_tuple("llama", "2", ""), std::make_tuple("llama", "1", ""),
                                           std::make_tuple("phi3", "4", ""), std::make_tuple("gemma2", "2", ""),
                                           std::make_tuple("gemma2", "2", "100"), std::make_tuple("phi3", "2", "77")),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_kv" + std::get<1>(info.param) +
                                  (std::get<2>(info.param).empty() ? "" : "_window" + std::get<2>(info.param));
                         });

}  // namespace
}  // namespace agora
