// ctest-labels: unit
// Token masks: equal to a brute-force check over a small vocabulary along random walks, EOG only
// when complete, partial UTF-8 inside tokens, accept errors leave the state unchanged.
#include "engine/grammar/grammar_matcher.h"

#include <gtest/gtest.h>

#include <random>

#include "engine/grammar/builtin_grammars.h"
#include "grammar_test_util.h"

namespace agora {
namespace {

using test::compile;

// Random byte slices of sample text: many cut through multi-byte UTF-8 sequences.
std::vector<std::string> random_vocab(uint32_t seed, size_t n) {
  const std::string sample =
      "{\"name\": \"caf\xC3\xA9 \xE2\x82\xAC 12\", \"tags\": [\"x\", \"y\"], \"n\": -3.25e+2, "
      "\"ok\": true, \"v\": null, \"emoji\": \"\xF0\x9F\x98\x80\\n\\u00e9\"}\n  ";
  std::mt19937 rng(seed);
  std::vector<std::string> out;
  for (int b = 0; b < 128; ++b) out.push_back(std::string(1, static_cast<char>(b)));
  while (out.size() < n) {
    size_t start = rng() % sample.size();
    size_t len = 1 + rng() % 6;
    out.push_back(sample.substr(start, len));
  }
  out.push_back("");  // empty token: never allowed
  out.push_back("\xC3");
  out.push_back("\xA9");
  out.push_back("\xE2\x82");
  out.push_back("\xAC\"");
  out.push_back("\xFF");  // never valid UTF-8
  return out;
}

std::shared_ptr<const GrammarVocab> make_vocab(std::vector<std::string> toks, int32_t* eog) {
  toks.push_back("<eos>");
  *eog = static_cast<int32_t>(toks.size() - 1);
  auto v = GrammarVocab::create(toks, {*eog});
  EXPECT_TRUE(v.ok());
  return std::make_shared<const GrammarVocab>(std::move(v.value()));
}

// The allowed set computed token by token through accept_token on copies of the matcher.
TokenMask brute_force(const GrammarMatcher& m, size_t n_tokens) {
  TokenMask mask(n_tokens);
  for (size_t id = 0; id < n_tokens; ++id) {
    GrammarMatcher copy = m;
    if (copy.accept_token(static_cast<int32_t>(id)).ok()) mask.set(static_cast<int32_t>(id));
  }
  return mask;
}

void random_walks(const std::string& gbnf, uint32_t seed, int n_walks, int max_steps) {
  auto g = compile(gbnf);
  ASSERT_TRUE(g);
  int32_t eog;
  auto vocab = make_vocab(random_vocab(seed, 400), &eog);
  std::mt19937 rng(seed);
  int n_finished = 0;
  for (int w = 0; w < n_walks; ++w) {
    GrammarMatcher m(g, vocab);
    std::string text;
    for (int step = 0; step < max_steps; ++step) {
      TokenMask mask;
      m.fill_mask(mask);
      TokenMask expect = brute_force(m, vocab->n_tokens());
      ASSERT_EQ(mask, expect) << "walk " << w << " step " << step << " after '" << text << "'";
      ASSERT_EQ(mask.allowed(eog), m.is_complete());
      std::vector<int32_t> allowed;
      for (size_t id = 0; id < vocab->n_tokens(); ++id) {
        if (mask.allowed(static_cast<int32_t>(id))) allowed.push_back(static_cast<int32_t>(id));
      }
      ASSERT_FALSE(allowed.empty()) << "dead end after '" << text << "'";
      // Prefer ending once possible half of the time, so walks finish.
      int32_t pick = (mask.allowed(eog) && rng() % 2) ? eog : allowed[rng() % allowed.size()];
      ASSERT_TRUE(m.accept_token(pick).ok());
      if (pick == eog) {
        ++n_finished;
        break;
      }
      text += vocab->bytes(pick);
    }
    // The text so far must always be a valid prefix.
    EXPECT_TRUE(test::accepts_prefix(g, text)) << text;
  }
  EXPECT_GT(n_finished, 0);
}

TEST(GrammarMatcher, MaskEqualsBruteForceJson) {
  random_walks(json_value_gbnf(), 1, 20, 60);
}

TEST(GrammarMatcher, MaskEqualsBruteForceUnicodeClasses) {
  random_walks(R"g(root ::= ( [a-z\u00e9\u20ac] | "\U0001F600" | " " )+ "!"?)g", 2, 20, 40);
  random_walks(R"g(root ::= [^a-z"]* "\"")g", 3, 20, 40);
}

TEST(GrammarMatcher, MaskEqualsBruteForceRecursive) {
  random_walks(R"g(root ::= "[" ( root ( "," root )* )? "]" | [0-9])g", 4, 20, 40);
}

TEST(GrammarMatcher, EogOnlyWhenComplete) {
  auto g = compile(R"g(root ::= "ab" "c"?)g");
  int32_t eog;
  auto vocab = make_vocab({"a", "b", "c", "ab", "abc", "x"}, &eog);
  GrammarMatcher m(g, vocab);
  TokenMask mask;
  m.fill_mask(mask);
  EXPECT_EQ(mask.to_bytes(), (std::vector<uint8_t>{1, 0, 0, 1, 1, 0, 0}));
  EXPECT_FALSE(m.accept_token(eog).ok());
  ASSERT_TRUE(m.accept_token(3).ok());  // "ab"
  m.fill_mask(mask);
  EXPECT_EQ(mask.to_bytes(), (std::vector<uint8_t>{0, 0, 1, 0, 0, 0, 1}));
  ASSERT_TRUE(m.accept_token(eog).ok());
  EXPECT_TRUE(m.is_finished());
  m.fill_mask(mask);
  EXPECT_EQ(mask.count(), 0u);
  EXPECT_FALSE(m.accept_token(2).ok());
}

TEST(GrammarMatcher, RefusedTokenLeavesStateUnchanged) {
  auto g = compile(R"g(root ::= "abc")g");
  int32_t eog;
  auto vocab = make_vocab({"a", "b", "c", "bx", "bc"}, &eog);
  GrammarMatcher m(g, vocab);
  ASSERT_TRUE(m.accept_token(0).ok());
  Status st = m.accept_token(3);  // "bx": b is fine, x is not — all or nothing
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), ErrorCode::invalid_argument);
  EXPECT_FALSE(m.accept_token(99).ok());
  EXPECT_TRUE(m.accept_token(4).ok());
  EXPECT_TRUE(m.is_complete());
}

TEST(GrammarMatcher, PartialUtf8AcrossTokens) {
  auto g = compile(R"g(root ::= "\u00e9" [\u20ac-\u20af])g");  // é then a currency sign
  int32_t eog;
  // 0: C3, 1: A9, 2: C3 A9, 3: E2, 4: 82 AC, 5: E2 82, 6: AC, 7: C3 A8 (è), 8: E2 80 (U+20xx < 20AC)
  auto vocab = make_vocab({"\xC3", "\xA9", "\xC3\xA9", "\xE2", "\x82\xAC", "\xE2\x82", "\xAC",
                           "\xC3\xA8", "\xE2\x80"},
                          &eog);
  GrammarMatcher m(g, vocab);
  TokenMask mask;
  m.fill_mask(mask);
  EXPECT_EQ(mask.to_bytes(), (std::vector<uint8_t>{1, 0, 1, 0, 0, 0, 0, 0, 0, 0}));
  ASSERT_TRUE(m.accept_token(0).ok());
  m.fill_mask(mask);
  EXPECT_EQ(mask.to_bytes(), (std::vector<uint8_t>{0, 1, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_FALSE(m.is_complete());
  ASSERT_TRUE(m.accept_token(1).ok());
  m.fill_mask(mask);
  // E2 alone could still become U+20AC..U+20AF; E2 80 could not (U+2000..U+203F).
  EXPECT_EQ(mask.to_bytes(), (std::vector<uint8_t>{0, 0, 0, 1, 0, 1, 0, 0, 0, 0}));
  ASSERT_TRUE(m.accept_token(5).ok());
  EXPECT_FALSE(m.is_complete());  // mid code point: EOG not allowed
  ASSERT_TRUE(m.accept_token(6).ok());
  EXPECT_TRUE(m.is_complete());
}

TEST(GrammarMatcher, RejectsInvalidUtf8) {
  auto g = compile(R"g(root ::= .*)g");
  int32_t eog;
  // overlong C0 80, surrogate ED A0 80, > U+10FFFF F4 90, stray continuation 80, valid 4-byte
  auto vocab = make_vocab({"\xC0\x80", "\xED\xA0\x80", "\xF4\x90", "\x80", "\xF0\x9F\x98\x80",
                           "\xED\x9F\xBF", "a"},
                          &eog);
  GrammarMatcher m(g, vocab);
  TokenMask mask;
  m.fill_mask(mask);
  EXPECT_EQ(mask.to_bytes(), (std::vector<uint8_t>{0, 0, 0, 0, 1, 1, 1, 1}));
}

TEST(GrammarMatcher, ControlTokensNeverAllowed) {
  auto g = compile(R"g(root ::= .*)g");
  auto v = GrammarVocab::create({"a", "<|im_start|>", "b", "</s>"}, {3}, {1});
  ASSERT_TRUE(v.ok());
  GrammarMatcher m(g, std::make_shared<const GrammarVocab>(std::move(v.value())));
  TokenMask mask;
  m.fill_mask(mask);
  EXPECT_EQ(mask.to_bytes(), (std::vector<uint8_t>{1, 0, 1, 1}));
  EXPECT_FALSE(m.accept_token(1).ok());
  EXPECT_FALSE(GrammarVocab::create({"a"}, {5}).ok());
}

TEST(GrammarMatcher, MaskCacheHitsOnRepeatedStates) {
  auto g = compile(json_object_gbnf());
  int32_t eog;
  auto vocab = make_vocab(random_vocab(7, 300), &eog);
  GrammarMatcher m(g, vocab);
  TokenMask mask;
  ASSERT_TRUE(m.accept_bytes("{\"k\": \"").ok());
  for (int i = 0; i < 10; ++i) {
    m.fill_mask(mask);
    ASSERT_TRUE(m.accept_bytes("x").ok());
  }
  EXPECT_GE(m.stats().n_mask_cache_hits, 8u);
  m.reset();
  m.fill_mask(mask);
  EXPECT_TRUE(mask.allowed(static_cast<int32_t>('{')));
  EXPECT_FALSE(mask.allowed(static_cast<int32_t>('[')));
}

}  // namespace
}  // namespace agora
