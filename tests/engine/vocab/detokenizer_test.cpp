// ctest-labels: unit model
// The streaming detokenizer: chunks are always valid UTF-8 and add up to the whole-text
// detokenization, for random token streams over SPM, BPE (with and without clean-up) vocabs.
#include <gtest/gtest.h>

#include <random>

#include "engine/vocab/detokenizer.h"
#include "engine/vocab/unicode.h"
#include "engine/vocab/vocab.h"
#include "support/testdata.h"

namespace agora {
namespace {

std::unique_ptr<Vocab> load(const std::string& rel) {
  auto v = Vocab::load_file(test::testdata_path(rel));
  EXPECT_TRUE(v.ok()) << v.status().message();
  return v.ok() ? std::move(v.value()) : nullptr;
}

void check_stream(const Vocab& v, const std::vector<TokenId>& ids, bool unparse_special) {
  Detokenizer d(v, {unparse_special, v.add_space_prefix()});
  std::string streamed;
  for (TokenId id : ids) {
    const std::string chunk = d.push(id);
    ASSERT_TRUE(unicode::is_valid_utf8(chunk)) << "broken UTF-8 chunk after token " << id;
    streamed += chunk;
  }
  const std::string tail = d.finish();
  ASSERT_TRUE(unicode::is_valid_utf8(tail));
  streamed += tail;
  EXPECT_EQ(streamed, unicode::sanitize_utf8(v.detokenize(ids, false, unparse_special)));
}

class DetokenizerStream : public ::testing::TestWithParam<std::string> {};

TEST_P(DetokenizerStream, RandomTokensMatchWholeText) {
  auto v = load(GetParam());
  ASSERT_TRUE(v);
  std::mt19937 rng(1234);
  std::uniform_int_distribution<TokenId> any(0, static_cast<TokenId>(v->n_tokens()) - 1);
  for (int round = 0; round < 300; ++round) {
    std::vector<TokenId> ids;
    const int n = 1 + round % 40;
    for (int i = 0; i < n; ++i) ids.push_back(any(rng));
    check_stream(*v, ids, round % 2 == 0);
  }
}

TEST_P(DetokenizerStream, RealTextRoundTrips) {
  auto v = load(GetParam());
  ASSERT_TRUE(v);
  const std::string text =
      "Hello world , it 's fine ' ok ' . Привет, мир! 你好 🦙🦙 it 're 've 'll 'd 'm x ? y !";
  check_stream(*v, v->tokenize(text, false), false);
}

INSTANTIATE_TEST_SUITE_P(Vocabs, DetokenizerStream,
                         ::testing::Values("vocab/ggml-vocab-llama-spm.gguf",
                                           "vocab/ggml-vocab-gpt-2.gguf",
                                           "vocab/ggml-vocab-qwen2.gguf",
                                           "vocab/ggml-vocab-llama-bpe.gguf",
                                           "models/stories260K.gguf"));

TEST(Detokenizer, HoldsBackSplitCharacterUntilComplete) {
  auto v = load("models/stories260K.gguf");  // SPM with byte fallback
  ASSERT_TRUE(v);
  // "é" = C3 A9 as two byte tokens.
  const TokenId b1 = v->find_token("<0xC3>");
  const TokenId b2 = v->find_token("<0xA9>");
  ASSERT_NE(b1, k_token_null);
  ASSERT_NE(b2, k_token_null);
  Detokenizer d(*v);
  EXPECT_EQ(d.push(b1), "");
  EXPECT_EQ(d.push(b2), "\xC3\xA9");
  // A lone lead byte followed by ASCII becomes U+FFFD, never a raw broken byte.
  EXPECT_EQ(d.push(b1), "");
  std::string rest = d.push(v->find_token("<0x41>"));
  rest += d.finish();
  EXPECT_EQ(rest, "\xEF\xBF\xBD" "A");
}

TEST(Detokenizer, HoldsBackSpaceBeforePunctuationForCleanupVocabs) {
  auto v = load("vocab/ggml-vocab-gpt-2.gguf");
  ASSERT_TRUE(v);
  ASSERT_TRUE(v->clean_spaces());
  Detokenizer d(*v);
  std::string out = d.push(v->tokenize("Hi", false).at(0));
  out += d.push(v->tokenize(" ", false).at(0));
  EXPECT_EQ(out.find(' '), std::string::npos) << "space emitted before it was final";
  out += d.push(v->tokenize(",", false).at(0));
  out += d.finish();
  EXPECT_EQ(out, "Hi,");
}

}  // namespace
}  // namespace agora
