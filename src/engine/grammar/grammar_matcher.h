// Incremental grammar matching over tokens: the grammar stage of the sampler chain.
//
//   auto grammar = std::make_shared<const Grammar>(std::move(*parse_gbnf(text)));
//   auto vocab = std::make_shared<const GrammarVocab>(std::move(*GrammarVocab::create(...)));
//   GrammarMatcher m(grammar, vocab);          // one per sequence
//   TokenMask mask;
//   m.fill_mask(mask);                         // before sampling: allowed next tokens
//   ... sample `id` among allowed tokens ...
//   m.accept_token(id);                        // after sampling; error (state kept) if not allowed
//
// End-of-generation tokens are allowed exactly when the text so far is a complete sentence of the
// grammar (and ends on a code point boundary); accepting one finishes the matcher, after which no
// token is allowed. Tokens may end inside a UTF-8 sequence: the pending bytes are carried to the
// next token, and a partial sequence is allowed only if some completion keeps the grammar alive.
//
// Mechanism: a lazily built byte-level DFA whose states are (parse-stack configuration, pending
// UTF-8 bytes); the vocabulary trie is walked once per mask through it, and masks are cached per
// DFA state (LRU). Caches are per matcher and bounded (grammar_limits.h); over a bound they are
// dropped and rebuilt from the current state.
//
// Thread-safety: a matcher is used by one thread at a time; Grammar and GrammarVocab are shared
// read-only (shared_ptr: every sequence using the grammar co-owns it).
#pragma once

#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/grammar/grammar.h"
#include "engine/grammar/grammar_vocab.h"
#include "engine/grammar/parse_stacks.h"
#include "engine/grammar/token_mask.h"
#include "engine/util/status.h"

namespace agora {

class GrammarMatcher {
 public:
  GrammarMatcher(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const GrammarVocab> vocab);

  // Sets `mask` (resized to the vocabulary) to the tokens allowed next. Allocation-free after the
  // first calls except when a new state is met.
  void fill_mask(TokenMask& mask);
  // Advances by one token. invalid_argument (state unchanged) if it is not allowed.
  Status accept_token(int32_t id);
  // Advances by raw text (for forced prefixes and tests); all or nothing.
  Status accept_bytes(std::string_view bytes);
  // True when an end-of-generation token would be allowed now.
  bool is_complete() const;
  // True once an end-of-generation token has been accepted.
  bool is_finished() const { return finished_; }
  // True when the grammar is dead or complete with nothing more it could take.
  bool can_continue() const;
  // Back to the start of the grammar (caches are kept).
  void reset();

  // Counters for benchmarks and tests.
  struct Stats {
    size_t n_dfa_states = 0;
    size_t n_stack_nodes = 0;
    size_t n_mask_cache_hits = 0;
    size_t n_mask_walks = 0;
    size_t n_resets = 0;  // cache drops on hitting a bound
  };
  Stats stats() const;

 private:
  static constexpr int32_t kUnknown = -1;
  static constexpr int32_t kDeadState = -2;
  struct DfaState {
    ParseStacks::ConfigId config;
    uint32_t partial;  // pending UTF-8 bytes: bytes in bits 0..23, count in bits 24..25
  };
  struct CachedMask {
    int32_t state;
    uint64_t last_used;
    TokenMask mask;
  };

  int32_t state_for(ParseStacks::ConfigId config, uint32_t partial);
  int32_t step(int32_t state, uint8_t byte) {
    int32_t t = trans_[static_cast<size_t>(state) * 256 + byte];
    return t != kUnknown ? t : compute_step(state, byte);
  }
  int32_t compute_step(int32_t state, uint8_t byte);
  int32_t walk(int32_t state, std::string_view bytes);  // kDeadState if any byte is refused
  void maybe_compact();

  std::shared_ptr<const Grammar> grammar_;
  std::shared_ptr<const GrammarVocab> vocab_;
  ParseStacks stacks_;
  std::vector<DfaState> states_;
  std::unordered_map<uint64_t, int32_t> state_index_;
  std::vector<int32_t> trans_;  // states_.size() * 256
  int32_t initial_ = kDeadState;
  int32_t current_ = kDeadState;
  bool finished_ = false;
  std::vector<CachedMask> mask_cache_;
  uint64_t clock_ = 0;
  std::vector<int32_t> walk_states_;  // per trie depth
  Stats stats_;
};

}  // namespace agora
