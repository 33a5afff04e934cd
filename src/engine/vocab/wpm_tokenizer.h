// WordPiece (`tokenizer.ggml.model = "bert"`) for BERT-family embedding models.
//
// Normalisation as Hugging Face's BertNormalizer + BertPreTokenizer for uncased models: NFD,
// accents (Mn) removed, lower case, control characters dropped, whitespace splits words, and
// every punctuation character, ASCII symbol and CJK ideograph is a word of its own. Each word
// gets the phantom-space prefix U+2581 (GGUF BERT vocabularies store word-initial pieces with
// it and continuation pieces bare), then greedy longest-match; a word that cannot be covered
// becomes the unknown token. Immutable; tokenize() is thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/vocab/token_table.h"

namespace agora {

class WpmTokenizer {
 public:
  WpmTokenizer(const TokenTable& table, TokenId unk) : table_(table), unk_(unk) {}
  void tokenize(std::string_view text, std::vector<TokenId>& out) const;
  // The normalised words of `text` (exposed for tests).
  static std::vector<std::string> split_words(std::string_view text);

 private:
  const TokenTable& table_;
  TokenId unk_;
};

}  // namespace agora
