// ctest-labels: unit model
// Vocab behaviour beyond the golden vectors: special-token injection, invalid UTF-8, NFC,
// end-of-generation ids, and clear errors for bad metadata.
#include <gtest/gtest.h>

#include "engine/gguf/gguf_writer.h"
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

TEST(VocabSpecial, UserTextCannotInjectControlTokens) {
  auto v = load("vocab/ggml-vocab-qwen2.gguf");
  ASSERT_TRUE(v);
  const TokenId im_start = v->find_token("<|im_start|>");
  ASSERT_NE(im_start, k_token_null);
  ASSERT_TRUE(v->is_control(im_start));
  const std::string text = "<|im_start|>user\nhi<|im_end|>";
  const auto plain = v->tokenize(text, false, /*parse_special=*/false);
  for (TokenId id : plain) EXPECT_FALSE(v->is_control(id)) << "control token " << id << " injected";
  EXPECT_EQ(v->detokenize(plain), text);  // the text survives as ordinary tokens
  const auto parsed = v->tokenize(text, false, /*parse_special=*/true);
  ASSERT_GE(parsed.size(), 2u);
  EXPECT_EQ(parsed.front(), im_start);
  EXPECT_EQ(parsed.back(), v->find_token("<|im_end|>"));
  // Control tokens render only when asked.
  EXPECT_EQ(v->token_to_piece(im_start, false), "");
  EXPECT_EQ(v->token_to_piece(im_start, true), "<|im_start|>");
}

TEST(VocabSpecial, Llama3HeaderTokensNeedParseSpecial) {
  auto v = load("vocab/ggml-vocab-llama-bpe.gguf");
  ASSERT_TRUE(v);
  const auto plain = v->tokenize("<|eot_id|>", true, false);
  ASSERT_EQ(plain.front(), v->bos());
  for (size_t i = 1; i < plain.size(); ++i) EXPECT_FALSE(v->is_control(plain[i]));
  EXPECT_EQ(v->tokenize("<|eot_id|>", false, true), std::vector<TokenId>{128009});
  EXPECT_TRUE(v->is_eog(128009));
  EXPECT_TRUE(v->is_eog(v->eos()));
  EXPECT_FALSE(v->is_eog(v->bos()));
  EXPECT_FALSE(v->is_eog(-1));
  EXPECT_FALSE(v->is_eog(1 << 30));
}

TEST(VocabSpecial, UserDefinedTokensMatchWithoutParseSpecial) {
  auto v = load("vocab/ggml-vocab-deepseek-r1-qwen.gguf");
  ASSERT_TRUE(v);
  const auto ids = v->tokenize("a<think>b", false, false);
  const TokenId think = v->find_token("<think>");
  EXPECT_NE(std::find(ids.begin(), ids.end(), think), ids.end());
}

TEST(VocabSpecial, BosAndEosFlags) {
  auto spm = load("models/stories260K.gguf");
  ASSERT_TRUE(spm);
  EXPECT_EQ(spm->tokenize("", true), std::vector<TokenId>{1});
  EXPECT_TRUE(spm->tokenize("", false).empty());
  auto qwen = load("models/rand-qwen2.gguf");
  ASSERT_TRUE(qwen);
  EXPECT_FALSE(qwen->add_bos());
  EXPECT_TRUE(qwen->tokenize("", true).empty());
}

// RELIABILITY test 14: malformed UTF-8 in, never a crash, deterministic U+FFFD.
TEST(VocabUtf8, InvalidInputBecomesReplacementCharacters) {
  const std::vector<std::string> bad = {
      "\xC3",             "\xE2\x82",        "\xF0\x9F\x98",  // truncated prefixes
      "\xC0\xAF",         "\xE0\x80\xAF",    "\xF0\x80\x80\xAF",  // overlong
      "\xED\xA0\x80",     "\xED\xBF\xBF",                       // surrogates
      "\x80",             "\xBF\xBF",        "\xFE\xFF",  "\xF4\x90\x80\x80",
      "ok\xC3(\xA9)",
  };
  for (const char* rel : {"vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-qwen2.gguf",
                          "vocab/ggml-vocab-gpt-2.gguf", "vocab/ggml-vocab-bert-bge.gguf",
                          "vocab/ggml-vocab-llama-bpe.gguf", "models/stories260K.gguf"}) {
    auto v = load(rel);
    ASSERT_TRUE(v);
    for (const std::string& s : bad) {
      const auto ids = v->tokenize(s, true, true);
      // Same as tokenizing the sanitised text, and the same every time.
      EXPECT_EQ(ids, v->tokenize(unicode::sanitize_utf8(s), true, true)) << rel;
      EXPECT_EQ(ids, v->tokenize(s, true, true)) << rel;
      for (TokenId id : ids) EXPECT_TRUE(v->valid(id)) << rel;
      if (v->type() == VocabType::bpe && !v->normalizes_nfc()) {
        EXPECT_EQ(v->detokenize(ids, true), unicode::sanitize_utf8(s)) << rel;
      }
    }
  }
}

TEST(VocabUtf8, SanitizeRules) {
  EXPECT_EQ(unicode::sanitize_utf8("a\xE2\x82" "b"), "a\xEF\xBF\xBD\xEF\xBF\xBD" "b");
  EXPECT_EQ(unicode::sanitize_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(unicode::sanitize_utf8("\xF0\x9F\xA6\x99"), "\xF0\x9F\xA6\x99");
  EXPECT_EQ(unicode::complete_utf8_prefix("a\xF0\x9F\xA6"), 1u);
  EXPECT_EQ(unicode::complete_utf8_prefix("a\xF0\x9F\xA6\x99"), 5u);
  EXPECT_EQ(unicode::complete_utf8_prefix("a\xED\xA0"), 3u);  // can never complete
  EXPECT_EQ(unicode::complete_utf8_prefix("a\xC3"), 1u);
}

TEST(VocabNormalization, Qwen2AppliesNfcLikeHuggingFace) {
  auto v = load("vocab/ggml-vocab-qwen2.gguf");
  ASSERT_TRUE(v);
  ASSERT_TRUE(v->normalizes_nfc());
  // U+212A KELVIN SIGN -> K, decomposed e + U+0301 -> é.
  EXPECT_EQ(v->tokenize("\xE2\x84\xAA", false), v->tokenize("K", false));
  EXPECT_EQ(v->tokenize("caf" "e\xCC\x81", false), v->tokenize("caf\xC3\xA9", false));
  auto llama3 = load("vocab/ggml-vocab-llama-bpe.gguf");
  ASSERT_TRUE(llama3);
  EXPECT_FALSE(llama3->normalizes_nfc());
  EXPECT_NE(llama3->tokenize("\xE2\x84\xAA", false), llama3->tokenize("K", false));
}

// ---- bad metadata: errors, never crashes ----------------------------------------------------

struct Spec {
  std::string model = "gpt2";
  std::vector<std::string> tokens = {"a", "b", "ab", "<s>"};
  std::vector<int32_t> types = {1, 1, 1, 3};
  std::vector<std::string> merges = {"a b"};
  std::vector<float> scores;
  int64_t bos = -1;
};

Result<std::unique_ptr<Vocab>> build(const Spec& s) {
  GgufWriter w;
  w.set_str("tokenizer.ggml.model", s.model);
  w.set_str("tokenizer.ggml.pre", "gpt-2");
  w.set_str_array("tokenizer.ggml.tokens", s.tokens);
  w.set_i32_array("tokenizer.ggml.token_type", s.types);
  if (!s.merges.empty()) w.set_str_array("tokenizer.ggml.merges", s.merges);
  if (!s.scores.empty()) w.set_f32_array("tokenizer.ggml.scores", s.scores);
  if (s.bos >= 0) w.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(s.bos));
  static thread_local std::string image;
  image = w.serialize();
  auto f = GgufFile::from_memory(reinterpret_cast<const uint8_t*>(image.data()), image.size());
  if (!f) return f.status();
  return Vocab::load(*f.value());
}

TEST(VocabLoad, GoodTinyVocabWorks) {
  auto v = build(Spec{});
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v.value()->tokenize("ab", false), std::vector<TokenId>{2});
}

TEST(VocabLoad, BadMetadataIsAnErrorNamingTheKey) {
  auto expect_error = [](Spec s, const std::string& key) {
    auto v = build(s);
    ASSERT_FALSE(v.ok());
    EXPECT_NE(v.status().message().find(key), std::string::npos) << v.status().message();
  };
  Spec s;
  s.types = {1, 1};
  expect_error(s, "tokenizer.ggml.token_type");
  s = Spec{};
  s.scores = {0.f};
  expect_error(s, "tokenizer.ggml.scores");
  s = Spec{};
  s.merges = {"a c"};
  expect_error(s, "tokenizer.ggml.merges[0]");
  s = Spec{};
  s.merges = {"b a"};  // "ba" is not a token
  expect_error(s, "tokenizer.ggml.merges[0]");
  s = Spec{};
  s.merges = {"ab"};
  expect_error(s, "tokenizer.ggml.merges[0]");
  s = Spec{};
  s.merges.clear();
  expect_error(s, "tokenizer.ggml.merges");
  s = Spec{};
  s.tokens = {"a", "a", "ab", "<s>"};
  expect_error(s, "duplicate");
  s = Spec{};
  s.model = "t5";
  expect_error(s, "tokenizer.ggml.model");
  s = Spec{};
  s.tokens.clear();
  s.types.clear();
  s.merges.clear();
  expect_error(s, "tokenizer.ggml.tokens");
}

TEST(VocabLoad, OutOfRangeSpecialIdKeepsDefault) {
  Spec s;
  s.bos = 4294967295LL;  // "none", as stories260K stores some ids
  auto v = build(s);
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v.value()->bos(), k_token_null);  // gpt2 default 11 does not fit 4 tokens
  EXPECT_EQ(v.value()->token_to_piece(99, true), "");
  EXPECT_EQ(v.value()->detokenize(std::vector<TokenId>{-5, 99, 0}), "a");
}

}  // namespace
}  // namespace agora
