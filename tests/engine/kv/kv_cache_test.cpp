// ctest-labels: unit model
// The paged KV cache: block accounting and reference counts; KV element types (f16, f32, q8_0)
// give the same greedy continuation within their precision.
#include "engine/kv/kv_cache.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/context.h"
#include "engine/sample/sampler.h"
#include "support/testdata.h"

namespace agora {
namespace {

TEST(KvCache, BlocksAreCountedAndReturned) {
  ModelParams p;
  p.n_layer = 2;
  p.n_head = 4;
  p.n_head_kv = 2;
  p.head_dim_k = p.head_dim_v = 32;
  KvCache kv(p, 4, 16, KvType::f16);
  EXPECT_EQ(kv.n_free(), 4);
  int32_t a = kv.alloc(), b = kv.alloc();
  EXPECT_NE(a, b);
  EXPECT_EQ(kv.n_used(), 2);
  kv.ref(a);
  kv.unref(a);
  EXPECT_EQ(kv.n_used(), 2);  // still referenced once
  kv.unref(a);
  EXPECT_EQ(kv.n_used(), 1);
  kv.unref(a);  // a stray unref never frees twice
  EXPECT_EQ(kv.n_free(), 3);
  kv.alloc();
  kv.alloc();
  kv.alloc();
  EXPECT_EQ(kv.alloc(), -1);  // empty pool
  EXPECT_EQ(KvCache(p, 1, 16, KvType::q8_0).row_bytes(64), 68u);
}

std::vector<int32_t> greedy(const Model& m, KvType type, std::vector<float>* first_logits) {
  ContextParams cp;
  cp.n_ctx = 128;
  cp.n_threads = 2;
  cp.kv_type = type;
  auto ctx = Context::create(m, cp);
  EXPECT_TRUE(ctx.ok()) << ctx.status().message();
  std::vector<BatchEntry> batch = {{1, 0, 0, false}, {403, 1, 0, false}, {407, 2, 0, false}, {261, 3, 0, true}};
  std::vector<int32_t> out;
  for (int step = 0; step < 20; ++step) {
    auto l = ctx.value()->decode(batch);
    EXPECT_TRUE(l.ok());
    if (step == 0 && first_logits) first_logits->assign(l.value().begin(), l.value().end());
    int32_t t = argmax(l.value().data(), m.params().n_vocab);
    out.push_back(t);
    batch = {{t, static_cast<int32_t>(4 + step), 0, true}};
  }
  return out;
}

TEST(KvCache, Q8KeysAndValuesTrackF16) {
  auto m = Model::load(test::testdata_path("models/rand-llama.gguf"));  // head size 32
  ASSERT_TRUE(m.ok());
  std::vector<float> l16, l8;
  auto t16 = greedy(*m.value(), KvType::f16, &l16);
  auto t8 = greedy(*m.value(), KvType::q8_0, &l8);
  double max_diff = 0;
  for (size_t i = 0; i < l16.size(); ++i) max_diff = std::max(max_diff, double(std::fabs(l16[i] - l8[i])));
  EXPECT_LT(max_diff, 0.1);
  size_t same = 0;
  while (same < t16.size() && t16[same] == t8[same]) ++same;
  EXPECT_GE(same, 3u);
  std::printf("[kv] q8_0 vs f16: first-step max logit diff %.4f, %zu/20 greedy tokens equal before divergence\n", max_diff, same);

  auto stories = Model::load(test::testdata_path("models/stories260K.gguf"));  // head size 8
  ContextParams cp;
  cp.kv_type = KvType::q8_0;
  auto bad = Context::create(*stories.value(), cp);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("multiples of 32"), std::string::npos);
}

}  // namespace
}  // namespace agora
