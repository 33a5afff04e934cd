// The hand-written splitters must give exactly the pieces of the PCRE2 patterns.
#include <gtest/gtest.h>

#include <random>

#include "engine/vocab/pre_tokenizer.h"
#include "engine/vocab/unicode.h"

namespace agora {
namespace {

std::string random_text(std::mt19937& rng, size_t n_chars) {
  // Characters chosen to hit every branch: letters, digits, spaces of several kinds,
  // newlines, apostrophes + contraction letters, punctuation, symbols, marks, CJK, emoji.
  static const uint32_t pool[] = {
      'a', 'Z', 's', 'S', 't', 'r', 'e', 'v', 'l', 'L', 'm', 'd', 'D', '0', '7', '\'', ' ', ' ',
      ' ', '\t', '\n', '\r', 0x0B, 0x0C, '.', ',', '!', '$', '~', '-', '(', 0xA0, 0x3000, 0x2009,
      0x85, 0x1680, 0xE9, 0x301, 0x4E2D, 0x0663, 0x00B2, 0x2167, 0x1F999, 0x200D, 0xFE0F, 0x0410,
      0x1, 0x7F, 0xAD, 0xE000, 0x10FFFD, 0x0378};
  std::uniform_int_distribution<size_t> pick(0, sizeof(pool) / sizeof(pool[0]) - 1);
  std::string s;
  for (size_t i = 0; i < n_chars; ++i) unicode::append_utf8(s, pool[pick(rng)]);
  return s;
}

std::vector<std::string> pieces_of(const PreTokenizer& pt, const std::string& text) {
  std::vector<PreTokenizer::Piece> pieces;
  pt.split(text, pieces);
  std::vector<std::string> out;
  size_t covered = 0;
  for (const auto& p : pieces) {
    EXPECT_EQ(p.offset, covered);
    covered += p.length;
    out.emplace_back(text.substr(p.offset, p.length));
  }
  EXPECT_EQ(covered, text.size());
  return out;
}

class FastSplit : public ::testing::TestWithParam<PreTokenizerKind> {};

TEST_P(FastSplit, EqualsPcre2) {
  auto fast = PreTokenizer::create(GetParam(), true);
  auto slow = PreTokenizer::create(GetParam(), false);
  ASSERT_TRUE(fast.ok() && slow.ok());
  std::mt19937 rng(42);
  for (int i = 0; i < 4000; ++i) {
    const std::string text = random_text(rng, 1 + i % 24);
    ASSERT_EQ(pieces_of(*fast.value(), text), pieces_of(*slow.value(), text)) << "text: " << text;
  }
}

INSTANTIATE_TEST_SUITE_P(Kinds, FastSplit,
                         ::testing::Values(PreTokenizerKind::gpt2, PreTokenizerKind::llama3,
                                           PreTokenizerKind::qwen2));

TEST(PreTokenizer, EveryKindCompilesAndCoversText) {
  const PreTokenizerKind kinds[] = {
      PreTokenizerKind::default_bpe, PreTokenizerKind::gpt2,         PreTokenizerKind::llama3,
      PreTokenizerKind::qwen2,       PreTokenizerKind::deepseek_llm, PreTokenizerKind::deepseek_coder,
      PreTokenizerKind::deepseek3,   PreTokenizerKind::falcon,       PreTokenizerKind::starcoder,
      PreTokenizerKind::bloom,       PreTokenizerKind::viking,       PreTokenizerKind::chameleon};
  std::mt19937 rng(7);
  for (auto k : kinds) {
    auto pt = PreTokenizer::create(k);
    ASSERT_TRUE(pt.ok()) << pt.status().message();
    for (int i = 0; i < 200; ++i) pieces_of(*pt.value(), random_text(rng, 30));
  }
}

TEST(PreTokenizer, UnknownNameIsUnsupported) {
  auto info = pre_tokenizer_info("no-such-pre");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), ErrorCode::unsupported);
}

}  // namespace
}  // namespace agora
