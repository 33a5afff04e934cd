// The vocabulary as the grammar sees it: raw token bytes (already decoded from any byte-level
// BPE encoding, e.g. "Ġ" -> " "), arranged in a byte trie for one-pass mask computation.
//
// Built once per model, immutable afterwards: share one instance (std::shared_ptr) across all
// sequences and threads. Tokens that never match grammar text: end-of-generation ids (handled
// separately: allowed exactly when the grammar is complete), `never` ids (control tokens such as
// <|im_start|>), empty strings, and strings over kMaxTokenBytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/util/status.h"

namespace agora {

class GrammarVocab {
 public:
  // `tokens[id]` is the byte string of token id. Ids in `eog` / `never` must be < tokens.size().
  static Result<GrammarVocab> create(const std::vector<std::string>& tokens,
                                     const std::vector<int32_t>& eog,
                                     const std::vector<int32_t>& never = {});

  size_t n_tokens() const { return n_tokens_; }
  const std::vector<int32_t>& eog_ids() const { return eog_; }
  bool is_eog(int32_t id) const {
    return id >= 0 && static_cast<size_t>(id) < n_tokens_ && kind_[static_cast<size_t>(id)] == 1;
  }
  // True when the token takes part in grammar matching (in the trie).
  bool is_text(int32_t id) const {
    return id >= 0 && static_cast<size_t>(id) < n_tokens_ && kind_[static_cast<size_t>(id)] == 0;
  }
  const std::string& bytes(int32_t id) const { return bytes_[static_cast<size_t>(id)]; }

  // ---- the trie, in pre-order: node i has `node_byte[i]` at depth `node_depth[i]` (1 = first
  // byte); its subtree is [i, node_skip[i]); the tokens ending there are
  // trie_tokens[node_tok[i] .. node_tok[i + 1]). ----
  std::vector<uint8_t> node_byte;
  std::vector<uint16_t> node_depth;
  std::vector<uint32_t> node_skip;
  std::vector<uint32_t> node_tok;
  std::vector<int32_t> trie_tokens;
  uint16_t max_depth = 0;

 private:
  size_t n_tokens_ = 0;
  std::vector<std::string> bytes_;
  std::vector<uint8_t> kind_;  // 0 text, 1 eog, 2 never / unusable
  std::vector<int32_t> eog_;
};

}  // namespace agora
