// Byte-level BPE (`tokenizer.ggml.model = "gpt2"`): GPT-2 byte <-> code point mapping, a
// pre-tokenizer, then rank-ordered merges inside each piece.
//
// Merge order is the reference's: repeatedly merge the adjacent pair with the lowest merge
// rank, the leftmost one on ties. With `ignore_merges` (Llama 3) a piece that is a whole token
// is emitted directly. A byte whose stand-in character is not a token is dropped, as the
// reference does. Immutable after create(); tokenize() is safe to call from many threads.
// Each thread keeps a bounded cache of recent pieces -> ids (pure memoisation: the result of
// tokenize never depends on it).
#pragma once

#include <array>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/util/status.h"
#include "engine/vocab/pre_tokenizer.h"
#include "engine/vocab/token_table.h"

namespace agora {

class BpeTokenizer {
 public:
  // `merges` are "left right" strings in rank order. Every merge must name two tokens and
  // produce a token; otherwise the error names the merge.
  static Result<std::unique_ptr<BpeTokenizer>> create(const TokenTable& table,
                                                      const std::vector<std::string_view>& merges,
                                                      const PreTokenizerInfo& pre);

  // Appends the tokens of `text` (valid UTF-8, no special tokens in it) to `out`.
  void tokenize(std::string_view text, std::vector<TokenId>& out) const;

  // The bytes a normal token stands for (its text mapped back through the byte table).
  // Characters that are not byte stand-ins are kept as their UTF-8.
  static std::string decode_token_text(std::string_view text);

  size_t n_merges() const { return merges_.size(); }
  const PreTokenizer& pre_tokenizer() const { return *pre_; }

 private:
  BpeTokenizer(const TokenTable& table) : table_(table) {}
  void tokenize_piece(std::string_view piece, std::vector<TokenId>& out) const;

  struct Merge {
    int32_t rank;
    TokenId result;
  };
  static uint64_t key(TokenId a, TokenId b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }

  const TokenTable& table_;
  uint64_t instance_id_ = 0;  // keys the per-thread piece cache (never reused)
  std::unique_ptr<PreTokenizer> pre_;
  bool ignore_merges_ = false;
  std::array<TokenId, 256> byte_token_{};
  std::unordered_map<uint64_t, Merge> merges_;
};

}  // namespace agora
