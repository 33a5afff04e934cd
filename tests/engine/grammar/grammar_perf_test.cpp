// ctest-labels: slow
// Mask computation cost on a synthetic 150k-token vocabulary shaped like a byte-level BPE vocab
// (all 256 bytes, words with and without a leading space, capitalised forms, digits, JSON
// punctuation fragments, CJK and emoji pieces including split UTF-8). Prints ms per mask; the
// assertion is a loose ceiling so the test catches order-of-magnitude regressions only.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <unordered_set>

#include "engine/grammar/builtin_grammars.h"
#include "engine/grammar/grammar_matcher.h"
#include "grammar_test_util.h"

namespace agora {
namespace {

std::vector<std::string> synthetic_vocab(size_t n) {
  std::mt19937 rng(42);
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  auto add = [&](std::string s) {
    if (!s.empty() && seen.insert(s).second) out.push_back(std::move(s));
  };
  for (int b = 0; b < 256; ++b) add(std::string(1, static_cast<char>(b)));
  const char* syll[] = {"a", "e", "i", "o", "u", "th", "er", "in", "an", "re", "on", "st", "nd",
                        "ing", "ion", "tr", "pl", "qu", "x", "z", "ck", "sh", "ch", "ou", "ea"};
  const char* punct[] = {"\"", "\":", "\",", "{\"", "\"}", "},", "],", "[\"", ": ", ", ", "\n",
                         "\n  ", "\n    ", "  ", "    ", ".", "(", ")", ";", "//", "->", "=="};
  const char* cjk[] = {"\xE7\x9A\x84", "\xE4\xB8\x80", "\xE6\x98\xAF", "\xF0\x9F\x98\x80",
                       "\xC3\xA9", "\xD0\xB8"};
  for (const char* p : punct) add(p);
  for (int i = 0; i < 1000; ++i) add(std::to_string(i));
  while (out.size() < n) {
    int kind = static_cast<int>(rng() % 10);
    std::string w;
    if (kind < 7) {
      int n_syll = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < n_syll; ++k) w += syll[rng() % (sizeof syll / sizeof *syll)];
      if (rng() % 4 == 0) w[0] = static_cast<char>(w[0] - 32);
      if (rng() % 2) w = " " + w;
      if (rng() % 8 == 0) w += punct[rng() % (sizeof punct / sizeof *punct)];
    } else if (kind < 9) {
      int n_ch = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < n_ch; ++k) w += cjk[rng() % (sizeof cjk / sizeof *cjk)];
      if (rng() % 3 == 0) w = w.substr(0, w.size() - 1 - rng() % 2);  // split UTF-8
    } else {
      w = punct[rng() % (sizeof punct / sizeof *punct)];
      w += syll[rng() % (sizeof syll / sizeof *syll)];
    }
    add(w);
  }
  return out;
}

// Greedy longest-match tokenisation (good enough to drive the matcher through a document).
std::vector<int32_t> tokenize(const std::string& text, const std::vector<std::string>& vocab) {
  std::unordered_map<std::string, int32_t> index;
  for (size_t i = 0; i < vocab.size(); ++i) index.emplace(vocab[i], static_cast<int32_t>(i));
  std::vector<int32_t> out;
  for (size_t pos = 0; pos < text.size();) {
    for (size_t len = std::min<size_t>(16, text.size() - pos); len > 0; --len) {
      auto it = index.find(text.substr(pos, len));
      if (it != index.end()) {
        out.push_back(it->second);
        pos += len;
        break;
      }
    }
  }
  return out;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void bench(const char* name, const std::string& gbnf, const std::string& doc) {
  static std::vector<std::string> toks = [] {
    auto v = synthetic_vocab(150'000);
    v.push_back("<|endoftext|>");
    return v;
  }();
  static std::shared_ptr<const GrammarVocab> vocab = [] {
    auto t0 = std::chrono::steady_clock::now();
    auto v = GrammarVocab::create(toks, {static_cast<int32_t>(toks.size() - 1)});
    std::printf("vocab: %zu tokens, %zu trie nodes, built in %.1f ms\n", toks.size(),
                v->node_byte.size(), ms_since(t0));
    return std::make_shared<const GrammarVocab>(std::move(v.value()));
  }();
  auto g = test::compile(gbnf);
  ASSERT_TRUE(g);
  std::vector<int32_t> ids = tokenize(doc, toks);
  ids.push_back(static_cast<int32_t>(toks.size() - 1));
  TokenMask mask;
  // Cold: fresh matcher, every state new.
  GrammarMatcher cold(g, vocab);
  auto t0 = std::chrono::steady_clock::now();
  cold.fill_mask(mask);
  double first = ms_since(t0);
  // A whole document: mask + accept per token, caches warming as it goes.
  GrammarMatcher m(g, vocab);
  t0 = std::chrono::steady_clock::now();
  double worst = 0;
  for (int32_t id : ids) {
    auto t1 = std::chrono::steady_clock::now();
    m.fill_mask(mask);
    worst = std::max(worst, ms_since(t1));
    ASSERT_TRUE(mask.allowed(id)) << "token " << id << " '" << toks[static_cast<size_t>(id)] << "'";
    ASSERT_TRUE(m.accept_token(id).ok());
  }
  double per_token = ms_since(t0) / static_cast<double>(ids.size());
  // Second document with the same matcher after reset: DFA warm.
  m.reset();
  t0 = std::chrono::steady_clock::now();
  for (int32_t id : ids) {
    m.fill_mask(mask);
    ASSERT_TRUE(m.accept_token(id).ok());
  }
  double warm = ms_since(t0) / static_cast<double>(ids.size());
  auto s = m.stats();
  std::printf("%-14s first mask %.2f ms | document (%zu tokens): %.3f ms/token, worst %.2f ms | "
              "warm rerun %.3f ms/token | dfa states %zu, walks %zu, cache hits %zu\n",
              name, first, ids.size(), per_token, worst, warm, s.n_dfa_states, s.n_mask_walks,
              s.n_mask_cache_hits);
  EXPECT_LT(per_token, 50.0);
}

const char* kDoc =
    "{\"name\": \"Alice Smith\", \"age\": 42, \"email\": \"alice@example.com\", \"tags\": "
    "[\"engineer\", \"writer\"], \"address\": {\"street\": \"12 Main St\", \"city\": \"Paris\"}, "
    "\"active\": true, \"score\": 98.5, \"notes\": \"\xE7\x9A\x84 quick brown fox jumps over the "
    "lazy dog\"}";

TEST(GrammarPerf, JsonObject150k) { bench("json_object", json_object_gbnf(), kDoc); }

TEST(GrammarPerf, FreeText150k) {
  bench("any text", "root ::= .*", "The quick brown fox jumps over the lazy dog, again and again.");
}

}  // namespace
}  // namespace agora
