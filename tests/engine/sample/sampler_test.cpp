// ctest-labels: unit
// The sampler chain: greedy ties, seeded reproducibility, masks, bias, top-k/top-p/min-p cuts,
// penalties, and that draws follow the softmax distribution.
#include "engine/sample/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace agora {
namespace {

TEST(Sampler, GreedyTakesTheLowestIdOnTies) {
  std::vector<float> l = {1.0f, 3.0f, 3.0f, 2.0f};
  Sampler s(SamplingParams::greedy(), 4);
  EXPECT_EQ(s.sample(l.data()), 1);
  EXPECT_EQ(argmax(l.data(), 4), 1);
}

TEST(Sampler, SeedReproducesDrawsAndDifferentSeedsDiffer) {
  std::vector<float> l(100);
  for (int i = 0; i < 100; ++i) l[i] = std::sin(i * 0.37f) * 2.0f;
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 42;
  auto draw = [&](uint64_t seed) {
    p.seed = seed;
    Sampler s(p, 100);
    std::vector<int32_t> out;
    for (int i = 0; i < 50; ++i) out.push_back(s.sample(l.data()));
    return out;
  };
  EXPECT_EQ(draw(42), draw(42));
  EXPECT_NE(draw(42), draw(43));
}

TEST(Sampler, DrawsFollowTheSoftmax) {
  std::vector<float> l = {0.0f, 1.0f, 2.0f, -1.0f};
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 7;
  Sampler s(p, 4);
  std::vector<int> counts(4, 0);
  const int n = 40000;
  for (int i = 0; i < n; ++i) counts[s.sample(l.data())]++;
  double z = 0;
  for (float x : l) z += std::exp(x);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(counts[i] / double(n), std::exp(l[i]) / z, 0.01) << i;
}

TEST(Sampler, CutsAndMasks) {
  std::vector<float> l = {5.0f, 4.0f, 0.0f, -3.0f, 4.5f};
  SamplingParams p;
  p.temperature = 5.0f;  // flat: anything the cuts leave can come out
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.top_k = 2;
  p.seed = 1;
  {
    Sampler s(p, 5);
    for (int i = 0; i < 200; ++i) {
      int t = s.sample(l.data());
      EXPECT_TRUE(t == 0 || t == 4) << t;
    }
  }
  p.top_k = 0;
  p.min_p = 0.5f;  // keeps tokens with p >= 0.5 * p(max): logits >= 5 + ln 0.5 = 4.31
  {
    Sampler s(p, 5);
    for (int i = 0; i < 200; ++i) {
      int t = s.sample(l.data());
      EXPECT_TRUE(t == 0 || t == 4) << t;
    }
  }
  p.min_p = 0.0f;
  std::vector<uint8_t> allowed = {0, 0, 1, 1, 0};
  {
    Sampler s(p, 5);
    for (int i = 0; i < 200; ++i) {
      int t = s.sample(l.data(), allowed.data());
      EXPECT_TRUE(t == 2 || t == 3) << t;
    }
    Sampler g(SamplingParams::greedy(), 5);
    EXPECT_EQ(g.sample(l.data(), allowed.data()), 2);
  }
  p.logit_bias = {{0, -std::numeric_limits<float>::infinity()}, {4, -std::numeric_limits<float>::infinity()}};
  p.temperature = 0.0f;
  Sampler b(p, 5);
  EXPECT_EQ(b.sample(l.data()), 1);
}

TEST(Sampler, PenaltiesDiscourageRepeats) {
  std::vector<float> l = {2.0f, 1.9f, 0.0f};
  SamplingParams p = SamplingParams::greedy();
  p.presence_penalty = 0.5f;
  Sampler s(p, 3);
  EXPECT_EQ(s.sample(l.data()), 0);
  s.accept(0);
  EXPECT_EQ(s.sample(l.data()), 1);
  SamplingParams r = SamplingParams::greedy();
  r.repeat_penalty = 1.2f;
  Sampler t(r, 3);
  t.accept(0);
  EXPECT_EQ(t.sample(l.data()), 1);  // 2.0 / 1.2 < 1.9
}

}  // namespace
}  // namespace agora
