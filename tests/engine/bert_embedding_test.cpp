// ctest-labels: unit model
// The bert encoder: a synthetic BERT GGUF (random weights, the BGE WordPiece vocabulary) run
// through the scheduler's embedding path, checked against an independent, plain double-precision
// implementation written here from the architecture's definition.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <future>
#include <random>

#include "engine/gguf/gguf_writer.h"
#include "engine/scheduler.h"
#include "support/testdata.h"

namespace agora {
namespace {

constexpr int E = 32, L = 2, H = 4, F = 64, CTX = 64;

struct Weights {
  int V = 0;
  std::map<std::string, std::vector<float>> t;
};

std::vector<float> randn(std::mt19937& rng, size_t n, float scale, float mean = 0.0f) {
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = mean + scale * d(rng);
  return v;
}

std::string write_model(Weights& w) {
  auto vocab = GgufFile::open(test::testdata_path("vocab/ggml-vocab-bert-bge.gguf"));
  EXPECT_TRUE(vocab.ok());
  GgufWriter g;
  g.set_str("general.architecture", "bert");
  g.set_u32("bert.context_length", CTX);
  g.set_u32("bert.embedding_length", E);
  g.set_u32("bert.block_count", L);
  g.set_u32("bert.feed_forward_length", F);
  g.set_u32("bert.attention.head_count", H);
  g.set_f32("bert.attention.layer_norm_epsilon", 1e-12f);
  g.set_bool("bert.attention.causal", false);
  g.set_u32("bert.pooling_type", 2);  // CLS
  for (const auto& [k, v] : vocab.value()->metadata())
    if (k.rfind("tokenizer.", 0) == 0) g.set_value(k, v);
  w.V = static_cast<int>(vocab.value()->get_str_array("tokenizer.ggml.tokens")->size());
  std::mt19937 rng(7);
  auto add = [&](const std::string& name, std::vector<int64_t> ne, float scale, float mean = 0.0f) {
    size_t n = 1;
    for (auto d : ne) n *= static_cast<size_t>(d);
    w.t[name] = randn(rng, n, scale, mean);
    EXPECT_TRUE(g.add_tensor(name, GgmlType::F32, ne, w.t[name].data(), n * 4).ok());
  };
  add("token_embd.weight", {E, w.V}, 0.5f);
  add("token_types.weight", {E, 2}, 0.1f);
  add("position_embd.weight", {E, CTX}, 0.1f);
  add("token_embd_norm.weight", {E}, 0.1f, 1.0f);
  add("token_embd_norm.bias", {E}, 0.1f);
  for (int il = 0; il < L; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    for (const char* m : {"attn_q", "attn_k", "attn_v", "attn_output"}) {
      add(p + m + ".weight", {E, E}, 1.0f / std::sqrt(float(E)));
      add(p + m + ".bias", {E}, 0.1f);
    }
    add(p + "attn_output_norm.weight", {E}, 0.1f, 1.0f);
    add(p + "attn_output_norm.bias", {E}, 0.1f);
    add(p + "ffn_up.weight", {E, F}, 1.0f / std::sqrt(float(E)));
    add(p + "ffn_up.bias", {F}, 0.1f);
    add(p + "ffn_down.weight", {F, E}, 1.0f / std::sqrt(float(F)));
    add(p + "ffn_down.bias", {E}, 0.1f);
    add(p + "layer_output_norm.weight", {E}, 0.1f, 1.0f);
    add(p + "layer_output_norm.bias", {E}, 0.1f);
  }
  std::string path = (std::filesystem::temp_directory_path() / ("agora-bert-test-" + std::to_string(::getpid()) + ".gguf")).string();
  EXPECT_TRUE(g.write(path).ok());
  return path;
}

// ---- the independent reference, in double precision ----
using Vec = std::vector<double>;
Vec matvec(const std::vector<float>& W, int n_in, int n_out, const Vec& x, const std::vector<float>& b) {
  Vec y(n_out);
  for (int o = 0; o < n_out; ++o) {
    double s = b.empty() ? 0.0 : b[o];
    for (int i = 0; i < n_in; ++i) s += double(W[size_t(o) * n_in + i]) * x[i];
    y[o] = s;
  }
  return y;
}
Vec layer_norm(const Vec& x, const std::vector<float>& g, const std::vector<float>& b) {
  double m = 0, v = 0;
  for (double a : x) m += a;
  m /= x.size();
  for (double a : x) v += (a - m) * (a - m);
  v /= x.size();
  Vec y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = (x[i] - m) / std::sqrt(v + 1e-12) * g[i] + b[i];
  return y;
}
std::vector<Vec> reference(Weights& w, const std::vector<int32_t>& toks) {
  auto& t = w.t;
  const int T = static_cast<int>(toks.size()), hd = E / H;
  std::vector<Vec> x(T, Vec(E));
  for (int i = 0; i < T; ++i) {
    for (int d = 0; d < E; ++d)
      x[i][d] = t["token_embd.weight"][size_t(toks[i]) * E + d] + t["token_types.weight"][d] + t["position_embd.weight"][size_t(i) * E + d];
    x[i] = layer_norm(x[i], t["token_embd_norm.weight"], t["token_embd_norm.bias"]);
  }
  for (int il = 0; il < L; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    std::vector<Vec> q(T), k(T), v(T), out(T);
    for (int i = 0; i < T; ++i) {
      q[i] = matvec(t[p + "attn_q.weight"], E, E, x[i], t[p + "attn_q.bias"]);
      k[i] = matvec(t[p + "attn_k.weight"], E, E, x[i], t[p + "attn_k.bias"]);
      v[i] = matvec(t[p + "attn_v.weight"], E, E, x[i], t[p + "attn_v.bias"]);
    }
    for (int i = 0; i < T; ++i) {
      Vec a(E, 0.0);
      for (int h = 0; h < H; ++h) {
        std::vector<double> s(T);
        double mx = -1e300, sum = 0;
        for (int j = 0; j < T; ++j) {
          double d = 0;
          for (int c = 0; c < hd; ++c) d += q[i][h * hd + c] * k[j][h * hd + c];
          s[j] = d / std::sqrt(double(hd));
          mx = std::max(mx, s[j]);
        }
        for (auto& e : s) sum += (e = std::exp(e - mx));
        for (int j = 0; j < T; ++j)
          for (int c = 0; c < hd; ++c) a[h * hd + c] += s[j] / sum * v[j][h * hd + c];
      }
      Vec o = matvec(t[p + "attn_output.weight"], E, E, a, t[p + "attn_output.bias"]);
      for (int d = 0; d < E; ++d) o[d] += x[i][d];
      Vec fin = layer_norm(o, t[p + "attn_output_norm.weight"], t[p + "attn_output_norm.bias"]);
      Vec up = matvec(t[p + "ffn_up.weight"], E, F, fin, t[p + "ffn_up.bias"]);
      for (auto& u : up) u = 0.5 * u * (1.0 + std::tanh(0.7978845608028654 * u * (1.0 + 0.044715 * u * u)));
      Vec down = matvec(t[p + "ffn_down.weight"], F, E, up, t[p + "ffn_down.bias"]);
      for (int d = 0; d < E; ++d) down[d] += fin[d];
      out[i] = layer_norm(down, t[p + "layer_output_norm.weight"], t[p + "layer_output_norm.bias"]);
    }
    x = out;
  }
  return x;
}

TEST(BertEmbedding, MatchesAnIndependentImplementation) {
  Weights w;
  const std::string path = write_model(w);
  auto file = GgufFile::open(path);
  ASSERT_TRUE(file.ok()) << file.status().message();
  auto vocab = Vocab::load(*file.value());
  ASSERT_TRUE(vocab.ok()) << vocab.status().message();
  auto model = Model::from_file(std::move(file.value()));
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto s = Scheduler::create(*model.value(), *vocab.value(), {.n_parallel = 2, .n_threads = 2});
  ASSERT_TRUE(s.ok()) << s.status().message();

  // Generation is refused: this is an embedding model.
  GenerateParams gp;
  gp.prompt = {101, 102};
  EXPECT_EQ(s.value()->generate(gp, [](Event&&) {}).status().code(), ErrorCode::invalid_argument);

  for (const std::string text : {"hello world", "The quick brown fox jumps over the lazy dog."}) {
    const auto toks = vocab.value()->tokenize(text, true);
    ASSERT_GE(toks.size(), 3u);
    EXPECT_EQ(toks.front(), 101);  // [CLS]
    EXPECT_EQ(toks.back(), 102);   // [SEP]
    const auto ref = reference(w, toks);
    for (Pooling pooling : {Pooling::none /* model default: CLS */, Pooling::mean}) {
      EmbedParams ep;
      ep.tokens = toks;
      ep.pooling = pooling;
      std::promise<EmbedResult> p;
      ASSERT_TRUE(s.value()->embed(ep, [&](EmbedResult&& r) { p.set_value(std::move(r)); }).ok());
      EmbedResult r = p.get_future().get();
      ASSERT_TRUE(r.status.ok()) << r.status.message();
      Vec want(E, 0.0);
      if (pooling == Pooling::none) {
        want = ref[0];
      } else {
        for (const auto& row : ref)
          for (int d = 0; d < E; ++d) want[d] += row[d] / ref.size();
      }
      double n = 0;
      for (double a : want) n += a * a;
      for (auto& a : want) a /= std::sqrt(n);
      ASSERT_EQ(r.embedding.size(), static_cast<size_t>(E));
      for (int d = 0; d < E; ++d) EXPECT_NEAR(r.embedding[d], want[d], 5e-3) << text << " dim " << d;
    }
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace agora
