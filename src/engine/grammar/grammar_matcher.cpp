// Byte-level DFA over the parse stacks, trie walk and mask cache. Contracts in grammar_matcher.h.
#include "engine/grammar/grammar_matcher.h"

#include <algorithm>

#include "engine/grammar/grammar_limits.h"

namespace agora {

namespace gl = grammar_limits;

namespace {

// Length of the UTF-8 sequence a lead byte starts; 0 for bytes that cannot lead (continuations,
// C0/C1 overlong leads, F5..FF).
inline int utf8_len(uint8_t b) {
  if (b < 0x80) return 1;
  if (b < 0xC2) return 0;
  if (b < 0xE0) return 2;
  if (b < 0xF0) return 3;
  if (b < 0xF5) return 4;
  return 0;
}

// Second bytes that would make an overlong form, a surrogate or a value over U+10FFFF are refused
// (Unicode Table 3-7).
inline bool second_byte_ok(uint8_t lead, uint8_t b) {
  switch (lead) {
    case 0xE0: return b >= 0xA0 && b <= 0xBF;
    case 0xED: return b >= 0x80 && b <= 0x9F;
    case 0xF0: return b >= 0x90 && b <= 0xBF;
    case 0xF4: return b >= 0x80 && b <= 0x8F;
    default: return (b & 0xC0) == 0x80;
  }
}

inline uint32_t pending_count(uint32_t partial) { return partial >> 24; }
inline uint8_t pending_byte(uint32_t partial, uint32_t i) {
  return static_cast<uint8_t>(partial >> (8 * i));
}

// The code points whose encoding starts with the pending bytes of `partial`.
void pending_range(uint32_t partial, uint32_t& lo, uint32_t& hi) {
  const uint32_t n = pending_count(partial);
  const uint8_t lead = pending_byte(partial, 0);
  const int len = utf8_len(lead);
  uint32_t v = lead & (0x7Fu >> len);
  for (uint32_t i = 1; i < n; ++i) v = (v << 6) | (pending_byte(partial, i) & 0x3F);
  const uint32_t rem = static_cast<uint32_t>(len) - n;
  lo = v << (6 * rem);
  hi = lo | ((1u << (6 * rem)) - 1);
  static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  lo = std::max(lo, kMin[len]);
  hi = std::min<uint32_t>(hi, 0x10FFFF);
  if (lead == 0xED) hi = std::min<uint32_t>(hi, 0xD7FF);
}

}  // namespace

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar,
                               std::shared_ptr<const GrammarVocab> vocab)
    : grammar_(std::move(grammar)), vocab_(std::move(vocab)), stacks_(*grammar_) {
  ParseStacks::ConfigId c = stacks_.initial();
  initial_ = c == ParseStacks::kDead ? kDeadState : state_for(c, 0);
  current_ = initial_;
  walk_states_.resize(static_cast<size_t>(vocab_->max_depth) + 1);
}

int32_t GrammarMatcher::state_for(ParseStacks::ConfigId config, uint32_t partial) {
  uint64_t key = (uint64_t{config} << 32) | partial;
  auto it = state_index_.find(key);
  if (it != state_index_.end()) return it->second;
  int32_t id = static_cast<int32_t>(states_.size());
  states_.push_back({config, partial});
  trans_.resize(states_.size() * 256, kUnknown);
  state_index_.emplace(key, id);
  return id;
}

int32_t GrammarMatcher::compute_step(int32_t state, uint8_t b) {
  // Hard bounds inside one walk; the next call compacts (maybe_compact) and recomputes.
  if (states_.size() >= 4 * gl::kMaxDfaStates || stacks_.n_nodes() >= 4 * gl::kMaxStackNodes) {
    return kDeadState;
  }
  const DfaState s = states_[static_cast<size_t>(state)];
  const uint32_t n = pending_count(s.partial);
  int32_t result = kDeadState;
  uint32_t np = 0;
  bool complete_cp = false;
  uint32_t cp = 0;
  if (n == 0) {
    const int len = utf8_len(b);
    if (len == 1) {
      complete_cp = true;
      cp = b;
    } else if (len > 1) {
      np = b | (1u << 24);
    }
  } else {
    const uint8_t lead = pending_byte(s.partial, 0);
    const int len = utf8_len(lead);
    bool ok = n == 1 ? second_byte_ok(lead, b) : (b & 0xC0) == 0x80;
    if (ok) {
      if (static_cast<int>(n) + 1 == len) {
        complete_cp = true;
        cp = lead & (0x7Fu >> len);
        for (uint32_t i = 1; i < n; ++i) cp = (cp << 6) | (pending_byte(s.partial, i) & 0x3F);
        cp = (cp << 6) | (b & 0x3F);
      } else {
        np = (s.partial & 0xFFFFFF) | (uint32_t{b} << (8 * n)) | ((n + 1) << 24);
      }
    }
  }
  if (complete_cp) {
    ParseStacks::ConfigId c = stacks_.advance(s.config, cp);
    if (c != ParseStacks::kDead) result = state_for(c, 0);
  } else if (np != 0) {
    uint32_t lo, hi;
    pending_range(np, lo, hi);
    if (lo <= hi && stacks_.can_take_any(s.config, lo, hi)) result = state_for(s.config, np);
  }
  trans_[static_cast<size_t>(state) * 256 + b] = result;
  return result;
}

int32_t GrammarMatcher::walk(int32_t state, std::string_view bytes) {
  for (char c : bytes) {
    if (state < 0) return kDeadState;
    state = step(state, static_cast<uint8_t>(c));
  }
  return state;
}

void GrammarMatcher::maybe_compact() {
  if (states_.size() <= gl::kMaxDfaStates && stacks_.n_nodes() <= gl::kMaxStackNodes) return;
  if (current_ < 0) return;  // only when even the start state is over a cap: nothing grows
  ++stats_.n_resets;
  const DfaState cur = states_[static_cast<size_t>(current_)];
  const ParseStacks::ConfigId kept = stacks_.compact(cur.config);
  states_.clear();
  state_index_.clear();
  trans_.clear();
  mask_cache_.clear();
  current_ = state_for(kept, cur.partial);
  const ParseStacks::ConfigId init = stacks_.initial();
  initial_ = init == ParseStacks::kDead ? kDeadState : state_for(init, 0);
}

bool GrammarMatcher::is_complete() const {
  if (finished_ || current_ < 0) return false;
  const DfaState& s = states_[static_cast<size_t>(current_)];
  return s.partial == 0 && stacks_.is_complete(s.config);
}

bool GrammarMatcher::can_continue() const {
  if (finished_ || current_ < 0) return false;
  const DfaState& s = states_[static_cast<size_t>(current_)];
  return s.partial != 0 || !stacks_.is_complete(s.config) ||
         stacks_.can_take_any(s.config, 0, 0x10FFFF);
}

void GrammarMatcher::reset() {
  current_ = initial_;
  finished_ = false;
}

void GrammarMatcher::fill_mask(TokenMask& mask) {
  const GrammarVocab& v = *vocab_;
  if (mask.size() != v.n_tokens()) mask.resize(v.n_tokens());
  if (finished_ || current_ < 0) {
    mask.clear();
    return;
  }
  maybe_compact();
  ++clock_;
  for (CachedMask& c : mask_cache_) {
    if (c.state == current_) {
      c.last_used = clock_;
      mask.words() = c.mask.words();
      ++stats_.n_mask_cache_hits;
      return;
    }
  }
  ++stats_.n_mask_walks;
  mask.clear();
  uint64_t* words = mask.words().data();
  const size_t n_nodes = v.node_byte.size();
  const uint8_t* node_byte = v.node_byte.data();
  const uint16_t* node_depth = v.node_depth.data();
  const uint32_t* node_skip = v.node_skip.data();
  const uint32_t* node_tok = v.node_tok.data();
  const int32_t* toks = v.trie_tokens.data();
  int32_t* at = walk_states_.data();
  at[0] = current_;
  for (size_t i = 0; i < n_nodes;) {
    const int32_t next = step(at[node_depth[i] - 1], node_byte[i]);
    if (next < 0) {
      i = node_skip[i];
      continue;
    }
    at[node_depth[i]] = next;
    for (uint32_t t = node_tok[i]; t < node_tok[i + 1]; ++t) {
      words[static_cast<uint32_t>(toks[t]) >> 6] |= uint64_t{1} << (toks[t] & 63);
    }
    ++i;
  }
  if (is_complete()) {
    for (int32_t id : v.eog_ids()) mask.set(id);
  }
  // Cache it (LRU eviction).
  if (mask_cache_.size() < gl::kMaxCachedMasks) {
    mask_cache_.push_back({current_, clock_, mask});
  } else {
    auto lru = std::min_element(mask_cache_.begin(), mask_cache_.end(),
                                [](const CachedMask& a, const CachedMask& b) {
                                  return a.last_used < b.last_used;
                                });
    lru->state = current_;
    lru->last_used = clock_;
    lru->mask.words() = mask.words();
  }
}

Status GrammarMatcher::accept_token(int32_t id) {
  const GrammarVocab& v = *vocab_;
  if (id < 0 || static_cast<size_t>(id) >= v.n_tokens()) {
    return Status(ErrorCode::out_of_range, "token id " + std::to_string(id) + " outside vocabulary");
  }
  if (finished_) {
    return Status(ErrorCode::invalid_argument, "grammar already finished (end of generation)");
  }
  if (v.is_eog(id)) {
    if (!is_complete()) {
      return Status(ErrorCode::invalid_argument,
                    "end-of-generation token " + std::to_string(id) +
                        " refused: the grammar is not complete");
    }
    finished_ = true;
    return {};
  }
  if (!v.is_text(id)) {
    return Status(ErrorCode::invalid_argument,
                  "token " + std::to_string(id) + " is never allowed under a grammar");
  }
  return accept_bytes(v.bytes(id));
}

Status GrammarMatcher::accept_bytes(std::string_view bytes) {
  if (finished_) {
    return Status(ErrorCode::invalid_argument, "grammar already finished (end of generation)");
  }
  maybe_compact();
  int32_t next = current_ < 0 ? kDeadState : walk(current_, bytes);
  if (next < 0) {
    return Status(ErrorCode::invalid_argument, "text refused by the grammar");
  }
  current_ = next;
  return {};
}

GrammarMatcher::Stats GrammarMatcher::stats() const {
  Stats s = stats_;
  s.n_dfa_states = states_.size();
  s.n_stack_nodes = stacks_.n_nodes();
  return s;
}

}  // namespace agora
