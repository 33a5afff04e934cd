// ctest-labels: unit model
// The scheduler: continuous batching, batch invariance, cancellation, prefix cache, KV
// exhaustion, admission control, stop strings, grammars, embeddings, and block accounting.
#include "engine/scheduler.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "engine/grammar/gbnf_parser.h"
#include "support/testdata.h"

namespace agora {
namespace {

// Collects one request's events; wait() blocks until the finish event.
struct Collector {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int32_t> tokens;
  std::string text;
  bool done = false;
  Event finish;
  EventSink sink() {
    return [this](Event&& e) {
      std::lock_guard<std::mutex> lock(mu);
      text += e.text;
      if (e.kind == Event::Kind::token) {
        tokens.push_back(e.token);
      } else {
        finish = std::move(e);
        done = true;
        cv.notify_all();
      }
    };
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [this] { return done; });
  }
};

class SchedulerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto file = GgufFile::open(test::testdata_path("models/stories260K.gguf"));
    ASSERT_TRUE(file.ok());
    auto v = Vocab::load(*file.value());
    ASSERT_TRUE(v.ok());
    vocab_ = std::move(v.value()).release();
    auto m = Model::from_file(std::move(file.value()));
    ASSERT_TRUE(m.ok());
    model_ = std::move(m.value()).release();
  }
  static void TearDownTestSuite() {
    delete model_;
    delete vocab_;
  }
  std::unique_ptr<Scheduler> make(SchedulerParams p) {
    if (p.n_threads == 0) p.n_threads = 2;
    auto s = Scheduler::create(*model_, *vocab_, p);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return std::move(s.value());
  }
  static GenerateParams params(const std::string& prompt, int max_tokens, float temp, uint64_t seed) {
    GenerateParams g;
    g.prompt = vocab_->tokenize(prompt, true);
    g.max_tokens = max_tokens;
    g.sampling.temperature = temp;
    g.sampling.seed = seed;
    return g;
  }
  // Runs one request alone on a fresh scheduler.
  std::vector<int32_t> alone(const GenerateParams& g) {
    auto s = make({.n_parallel = 1, .n_ctx = 256, .prefix_cache = false});
    Collector c;
    auto h = s->generate(g, c.sink());
    EXPECT_TRUE(h.ok());
    c.wait();
    return c.tokens;
  }
  static Model* model_;
  static Vocab* vocab_;
};
Model* SchedulerTest::model_ = nullptr;
Vocab* SchedulerTest::vocab_ = nullptr;

const std::vector<std::string> kPrompts = {
    "Once upon a time", "The little dog", "Lily and Tom went to the park", "One day, a big bird",
    "The sun was shining and", "Tim had a red ball. He", "There was a cat who", "Mom said",
    "The boy ran to the", "Sue liked to play with", "In the forest there was", "A girl named Amy",
    "The fish swam", "Ben saw a big truck", "It was a cold day", "The bear was hungry"};

// A KV pool larger than the machine's memory is refused with the numbers (not an allocation
// failure, an OOM kill, or a crash while the half-built scheduler is torn down).
TEST_F(SchedulerTest, AKvCacheBeyondMemoryIsAClearError) {
  SchedulerParams p;
  p.n_parallel = 64;
  p.n_ctx = 1 << 24;  // 2^30 positions: within the pool's index range, far beyond any memory
  auto s = Scheduler::create(*model_, *vocab_, p);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), ErrorCode::out_of_range);
  EXPECT_NE(s.status().message().find("KV cache"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("GiB"), std::string::npos) << s.status().message();
}

TEST_F(SchedulerTest, GreedyMatchesDirectDecoding) {
  GenerateParams g = params("Once upon a time", 40, 0.0f, 0);
  // Direct: the Context, token by token.
  ContextParams cp;
  cp.n_ctx = 256;
  cp.n_threads = 2;
  auto ctx = Context::create(*model_, cp);
  ASSERT_TRUE(ctx.ok());
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < g.prompt.size(); ++i) batch.push_back({g.prompt[i], int32_t(i), 0, i + 1 == g.prompt.size()});
  std::vector<int32_t> direct;
  int32_t pos = static_cast<int32_t>(g.prompt.size());
  while (direct.size() < 40) {
    auto l = ctx.value()->decode(batch);
    ASSERT_TRUE(l.ok());
    int32_t t = argmax(l.value().data(), model_->params().n_vocab);
    if (vocab_->is_eog(t)) break;
    direct.push_back(t);
    batch = {{t, pos++, 0, true}};
  }
  EXPECT_EQ(alone(g), direct);
  std::string text = vocab_->detokenize(direct);
  auto s = make({.n_parallel = 2, .n_ctx = 256});
  Collector c;
  ASSERT_TRUE(s->generate(g, c.sink()).ok());
  c.wait();
  EXPECT_EQ(c.text, text);
  EXPECT_EQ(c.finish.usage.prompt_tokens, static_cast<int32_t>(g.prompt.size()));
  EXPECT_EQ(c.finish.usage.completion_tokens, static_cast<int32_t>(direct.size()));
}

TEST_F(SchedulerTest, ConcurrentRequestsMatchTheirSoloRuns) {
  // 16 requests, different prompts and seeds, sampled at temperature 0.9: each must produce
  // exactly what it produces alone (batch invariance + per-request RNG).
  std::vector<GenerateParams> gs;
  std::vector<std::vector<int32_t>> solo;
  for (size_t i = 0; i < kPrompts.size(); ++i) {
    gs.push_back(params(kPrompts[i], 24, 0.9f, 1000 + i));
    solo.push_back(alone(gs.back()));
  }
  auto s = make({.n_parallel = 8, .n_ctx = 256, .n_batch = 32});
  std::vector<Collector> cs(gs.size());
  for (size_t i = 0; i < gs.size(); ++i) ASSERT_TRUE(s->generate(gs[i], cs[i].sink()).ok());
  for (size_t i = 0; i < gs.size(); ++i) {
    cs[i].wait();
    EXPECT_EQ(cs[i].tokens, solo[i]) << "request " << i << " (" << kPrompts[i] << ")";
  }
  s->wait_idle();
  EXPECT_EQ(s->kv_blocks_in_sequences(), 0);
}

TEST_F(SchedulerTest, CancelFreesBlocksAndQueuedCancelsDoNotDisturbOthers) {
  auto s = make({.n_parallel = 2, .n_ctx = 256, .prefix_cache = false});
  // Two seeded control requests fill the slots; 6 more wait and are cancelled while queued.
  GenerateParams c1 = params("Once upon a time", 60, 0.8f, 7), c2 = params("The little dog", 60, 0.8f, 8);
  auto want1 = alone(c1), want2 = alone(c2);
  Collector k1, k2;
  ASSERT_TRUE(s->generate(c1, k1.sink()).ok());
  ASSERT_TRUE(s->generate(c2, k2.sink()).ok());
  std::vector<Collector> queued(6);
  std::vector<std::shared_ptr<RequestHandle>> hs;
  for (auto& q : queued) {
    auto h = s->generate(params("Mom said", 60, 0.8f, 1), q.sink());
    ASSERT_TRUE(h.ok());
    hs.push_back(h.value());
  }
  for (auto& h : hs) h->cancel();
  for (auto& q : queued) {
    q.wait();
    EXPECT_EQ(q.finish.finish_reason, FinishReason::cancelled);
  }
  k1.wait();
  k2.wait();
  EXPECT_EQ(k1.tokens, want1);
  EXPECT_EQ(k2.tokens, want2);
  // At most a couple of queued requests can have been admitted before the cancel landed.
  size_t decoded = 0;
  for (auto& q : queued) decoded += q.tokens.size();
  EXPECT_LE(decoded, 2u);

  // A running request cancelled mid-way stops within a step and frees its blocks.
  Collector run;
  std::atomic<int> seen{0};
  std::shared_ptr<RequestHandle> h;
  std::promise<void> got_tokens;
  bool signalled = false;
  auto base = run.sink();
  auto hr = s->generate(params("There was a cat who", 200, 0.8f, 3), [&](Event&& e) {
    if (e.kind == Event::Kind::token && ++seen == 5 && !signalled) {
      signalled = true;
      got_tokens.set_value();
    }
    base(std::move(e));
  });
  ASSERT_TRUE(hr.ok());
  got_tokens.get_future().wait();
  hr.value()->cancel();
  run.wait();
  EXPECT_EQ(run.finish.finish_reason, FinishReason::cancelled);
  EXPECT_LE(run.tokens.size(), 7u);
  s->wait_idle();
  EXPECT_EQ(s->kv_blocks_in_sequences(), 0);
  EXPECT_EQ(s->kv_pool_used(), 0);
}

TEST_F(SchedulerTest, PrefixCacheHitGivesTheSameTokens) {
  const std::string instructions =
      "Lily and Tom went to the park. They saw a big tree and a small dog. The dog was happy and "
      "ran around the tree. Lily laughed and Tom clapped. Then they went home to eat cake with mom.";
  GenerateParams g = params(instructions + " One day", 30, 0.0f, 0);
  auto cold = alone(g);
  auto s = make({.n_parallel = 2, .n_ctx = 256});
  Collector a, b;
  ASSERT_TRUE(s->generate(g, a.sink()).ok());
  a.wait();
  EXPECT_EQ(a.finish.usage.cached_tokens, 0);
  ASSERT_TRUE(s->generate(g, b.sink()).ok());
  b.wait();
  EXPECT_EQ(a.tokens, cold);
  EXPECT_EQ(b.tokens, cold);
  EXPECT_GT(b.finish.usage.cached_tokens, 32);
  EXPECT_LT(b.finish.usage.cached_tokens, static_cast<int32_t>(g.prompt.size()));
  EXPECT_GT(s->stats().prefix_cache_hits, 0);
  s->wait_idle();
  s->clear_prefix_cache();
  EXPECT_EQ(s->kv_pool_used(), 0);
}

TEST_F(SchedulerTest, KvExhaustionPreemptsAndStillCompletes) {
  // A pool of 160 tokens for 4 sequences of up to ~90 tokens each: they cannot all fit.
  std::vector<GenerateParams> gs;
  std::vector<std::vector<int32_t>> solo;
  for (int i = 0; i < 4; ++i) {
    gs.push_back(params(kPrompts[i] + ". " + kPrompts[i + 4] + ". " + kPrompts[i + 8], 60, 0.7f, 50 + i));
    gs.back().ignore_eos = true;
    solo.push_back(alone(gs.back()));
  }
  auto s = make({.n_parallel = 4, .n_ctx = 128, .kv_tokens = 160, .n_batch = 16});
  std::vector<Collector> cs(4);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(s->generate(gs[i], cs[i].sink()).ok());
  for (int i = 0; i < 4; ++i) {
    cs[i].wait();
    EXPECT_NE(cs[i].finish.finish_reason, FinishReason::error) << cs[i].finish.error;
    EXPECT_EQ(cs[i].tokens, solo[i]) << i;
  }
  EXPECT_GT(s->stats().preemptions, 0);
  s->wait_idle();
  EXPECT_EQ(s->kv_blocks_in_sequences(), 0);
}

TEST_F(SchedulerTest, AdmissionAndLimits) {
  auto s = make({.n_parallel = 1, .n_ctx = 64, .max_queue = 2});
  GenerateParams g = params("Once upon a time", 10, 0.0f, 0);
  std::vector<int32_t> long_prompt(64, 300);
  GenerateParams too_long = g;
  too_long.prompt = long_prompt;
  auto r = s->generate(too_long, [](Event&&) {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::out_of_range);
  EXPECT_NE(r.status().message().find("64 tokens"), std::string::npos) << r.status().message();
  GenerateParams bad = g;
  bad.prompt = {1, 99999};
  EXPECT_EQ(s->generate(bad, [](Event&&) {}).status().code(), ErrorCode::invalid_argument);
  bad.prompt.clear();
  EXPECT_EQ(s->generate(bad, [](Event&&) {}).status().code(), ErrorCode::invalid_argument);
  // Queue cap: with the loop busy on a long request, the third waiting request is refused.
  GenerateParams slow = params("Once upon a time", 60, 0.0f, 0);
  slow.ignore_eos = true;
  std::vector<Collector> cs(4);
  int accepted = 0, refused = 0;
  for (auto& c : cs) {
    auto h = s->generate(slow, c.sink());
    if (h.ok()) ++accepted;
    else {
      EXPECT_EQ(h.status().code(), ErrorCode::resource_exhausted);
      ++refused;
      c.done = true;
    }
  }
  EXPECT_GE(refused, 1);
  for (auto& c : cs) c.wait();
  // Generation stops at the context end with `length`.
  GenerateParams fill = params("Once upon a time", -1, 0.0f, 0);
  fill.ignore_eos = true;
  Collector c;
  ASSERT_TRUE(s->generate(fill, c.sink()).ok());
  c.wait();
  EXPECT_EQ(c.finish.finish_reason, FinishReason::length);
  EXPECT_EQ(static_cast<int64_t>(fill.prompt.size() + c.tokens.size()), 64);
  s->begin_shutdown();
  EXPECT_EQ(s->generate(g, [](Event&&) {}).status().code(), ErrorCode::unavailable);
}

TEST_F(SchedulerTest, StopStringsEndGenerationBeforeThem) {
  GenerateParams g = params("Once upon a time", 60, 0.0f, 0);
  auto s = make({.n_parallel = 1, .n_ctx = 256});
  Collector full;
  ASSERT_TRUE(s->generate(g, full.sink()).ok());
  full.wait();
  ASSERT_NE(full.text.find("Lily"), std::string::npos) << full.text;
  g.stop = {"Lily"};
  Collector c;
  ASSERT_TRUE(s->generate(g, c.sink()).ok());
  c.wait();
  EXPECT_EQ(c.text, full.text.substr(0, full.text.find("Lily")));
  EXPECT_EQ(c.finish.finish_reason, FinishReason::stop);
}

TEST_F(SchedulerTest, GrammarConstrainsOutput) {
  auto gr = parse_gbnf(R"(root ::= ("yes" | "no") " " [a-z]+ "!")");
  ASSERT_TRUE(gr.ok()) << gr.status().message();
  GenerateParams g = params("Once upon a time", 30, 0.8f, 11);
  g.grammar = std::make_shared<const Grammar>(std::move(gr.value()));
  auto s = make({.n_parallel = 2, .n_ctx = 256});
  for (int i = 0; i < 3; ++i) {
    g.sampling.seed = 11 + i;
    Collector c;
    ASSERT_TRUE(s->generate(g, c.sink()).ok());
    c.wait();
    ASSERT_NE(c.finish.finish_reason, FinishReason::error) << c.finish.error;
    if (c.finish.finish_reason == FinishReason::stop) {
      EXPECT_TRUE(c.text.rfind("yes ", 0) == 0 || c.text.rfind("no ", 0) == 0) << c.text;
      EXPECT_EQ(c.text.back(), '!') << c.text;
    }
  }
}

TEST_F(SchedulerTest, LogprobsAreNormalised) {
  GenerateParams g = params("Once upon a time", 5, 0.0f, 0);
  g.top_logprobs = 3;
  std::vector<Event> events;
  std::mutex mu;
  std::promise<void> done;
  auto s = make({.n_parallel = 1, .n_ctx = 256});
  ASSERT_TRUE(s->generate(g, [&](Event&& e) {
                 std::lock_guard<std::mutex> lock(mu);
                 bool fin = e.kind == Event::Kind::finish;
                 events.push_back(std::move(e));
                 if (fin) done.set_value();
               }).ok());
  done.get_future().wait();
  ASSERT_GE(events.size(), 2u);
  for (const Event& e : events) {
    if (e.kind != Event::Kind::token) continue;
    ASSERT_EQ(e.top_logprobs.size(), 3u);
    EXPECT_EQ(e.top_logprobs[0].token, e.token);  // greedy: the chosen token is the most likely
    EXPECT_FLOAT_EQ(e.top_logprobs[0].logprob, e.logprob);
    EXPECT_LE(e.logprob, 0.0f);
    EXPECT_GE(e.top_logprobs[0].logprob, e.top_logprobs[1].logprob);
  }
}

TEST_F(SchedulerTest, EmbeddingsArePooledAndNormalised) {
  auto s = make({.n_parallel = 2, .n_ctx = 256});
  auto run = [&](const std::string& text, Pooling pooling) {
    EmbedParams ep;
    ep.tokens = vocab_->tokenize(text, true);
    ep.pooling = pooling;
    std::promise<EmbedResult> p;
    auto h = s->embed(ep, [&](EmbedResult&& r) { p.set_value(std::move(r)); });
    EXPECT_TRUE(h.ok());
    return p.get_future().get();
  };
  EmbedResult a = run("The little dog", Pooling::mean), b = run("The little dog", Pooling::mean);
  ASSERT_TRUE(a.status.ok()) << a.status.message();
  ASSERT_EQ(a.embedding.size(), static_cast<size_t>(model_->params().n_embd));
  double norm = 0;
  for (float x : a.embedding) norm += double(x) * x;
  EXPECT_NEAR(norm, 1.0, 1e-5);
  EXPECT_EQ(a.embedding, b.embedding);
  EmbedResult c = run("The little dog", Pooling::last);
  EXPECT_NE(a.embedding, c.embedding);
  s->wait_idle();
  EXPECT_EQ(s->kv_blocks_in_sequences(), 0);
}

TEST_F(SchedulerTest, RandomSubmitCancelLeavesNoLeakedBlocks) {
  std::mt19937 rng(42);
  for (int round = 0; round < 3; ++round) {
    auto s = make({.n_parallel = 3, .n_ctx = 96, .kv_tokens = 160, .n_batch = 24, .max_queue = 8});
    std::vector<std::shared_ptr<RequestHandle>> hs;
    std::vector<std::unique_ptr<Collector>> cs;
    for (int op = 0; op < 40; ++op) {
      const int kind = static_cast<int>(rng() % 3);
      if (kind < 2 || hs.empty()) {
        auto c = std::make_unique<Collector>();
        GenerateParams g = params(kPrompts[rng() % kPrompts.size()], static_cast<int>(rng() % 30), 0.8f, rng());
        auto h = s->generate(g, c->sink());
        if (h.ok()) {
          hs.push_back(h.value());
          cs.push_back(std::move(c));
        }
      } else {
        hs[rng() % hs.size()]->cancel();
      }
      if (rng() % 4 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 5));
    }
    for (auto& c : cs) c->wait();
    s->wait_idle();
    EXPECT_EQ(s->kv_blocks_in_sequences(), 0);
    EXPECT_EQ(s->kv_pool_used(), s->kv_blocks_in_cache());
    s->clear_prefix_cache();
    EXPECT_EQ(s->kv_pool_used(), 0);
  }
}

}  // namespace
}  // namespace agora
