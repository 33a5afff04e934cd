// SentencePiece-style BPE (`tokenizer.ggml.model = "llama"`): score-ordered merges over the
// UTF-8 characters of the text, with byte fallback (`<0xNN>` tokens).
//
// The caller escapes spaces to U+2581 and adds the leading space (Vocab::tokenize does).
// Merge order is the reference's: the adjacent pair whose concatenation is the token with the
// highest score, the leftmost one on ties. A character that is no token becomes its byte
// tokens; without byte tokens, the unknown token. Immutable; tokenize() is thread-safe.
#pragma once

#include <array>
#include <string_view>
#include <vector>

#include "engine/vocab/token_table.h"

namespace agora {

class SpmTokenizer {
 public:
  SpmTokenizer(const TokenTable& table, TokenId unk);
  // Appends the tokens of `text` (escaped, valid UTF-8) to `out`.
  void tokenize(std::string_view text, std::vector<TokenId>& out) const;
  // Token for a raw byte: `<0xNN>`, else the one-byte text, else k_token_null.
  TokenId byte_token(uint8_t b) const { return byte_token_[b]; }

 private:
  const TokenTable& table_;
  TokenId unk_;
  std::array<TokenId, 256> byte_token_{};
};

}  // namespace agora
