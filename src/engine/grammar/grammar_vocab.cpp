// Trie construction from sorted token strings. Contracts in grammar_vocab.h.
#include "engine/grammar/grammar_vocab.h"

#include <algorithm>
#include <numeric>

#include "engine/grammar/grammar_limits.h"

namespace agora {

namespace gl = grammar_limits;

Result<GrammarVocab> GrammarVocab::create(const std::vector<std::string>& tokens,
                                          const std::vector<int32_t>& eog,
                                          const std::vector<int32_t>& never) {
  if (tokens.size() > static_cast<size_t>(INT32_MAX)) {
    return Result<GrammarVocab>(ErrorCode::out_of_range, "vocabulary too large");
  }
  GrammarVocab v;
  v.n_tokens_ = tokens.size();
  v.bytes_ = tokens;
  v.kind_.assign(tokens.size(), 0);
  for (int32_t id : never) {
    if (id < 0 || static_cast<size_t>(id) >= tokens.size()) {
      return Result<GrammarVocab>(ErrorCode::out_of_range,
                                  "never-token id " + std::to_string(id) + " outside vocabulary");
    }
    v.kind_[static_cast<size_t>(id)] = 2;
  }
  for (int32_t id : eog) {
    if (id < 0 || static_cast<size_t>(id) >= tokens.size()) {
      return Result<GrammarVocab>(ErrorCode::out_of_range,
                                  "end-of-generation id " + std::to_string(id) + " outside vocabulary");
    }
    v.kind_[static_cast<size_t>(id)] = 1;
  }
  std::vector<int32_t> order;
  for (size_t id = 0; id < tokens.size(); ++id) {
    if (v.kind_[id] == 1) v.eog_.push_back(static_cast<int32_t>(id));
    if (v.kind_[id] != 0) continue;
    if (tokens[id].empty() || tokens[id].size() > gl::kMaxTokenBytes) {
      v.kind_[id] = 2;
      continue;
    }
    order.push_back(static_cast<int32_t>(id));
  }
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return tokens[static_cast<size_t>(a)] < tokens[static_cast<size_t>(b)];
  });

  // Sorted strings: node i's children follow it; `open` holds the nodes of the current path.
  std::vector<uint32_t> open;
  const std::string* prev = nullptr;
  for (int32_t id : order) {
    const std::string& s = tokens[static_cast<size_t>(id)];
    size_t lcp = 0;
    if (prev) {
      while (lcp < prev->size() && lcp < s.size() && (*prev)[lcp] == s[lcp]) ++lcp;
    }
    while (open.size() > lcp) {
      v.node_skip[open.back()] = static_cast<uint32_t>(v.node_byte.size());
      open.pop_back();
    }
    for (size_t d = lcp; d < s.size(); ++d) {
      open.push_back(static_cast<uint32_t>(v.node_byte.size()));
      v.node_byte.push_back(static_cast<uint8_t>(s[d]));
      v.node_depth.push_back(static_cast<uint16_t>(d + 1));
      v.node_skip.push_back(0);
      v.node_tok.push_back(static_cast<uint32_t>(v.trie_tokens.size()));
    }
    // Tokens attach to the node of their last byte; nodes are created in order, so the token
    // list stays sorted by node as long as we only ever append to the newest node.
    v.trie_tokens.push_back(id);
    v.max_depth = std::max<uint16_t>(v.max_depth, static_cast<uint16_t>(s.size()));
    prev = &s;
  }
  while (!open.empty()) {
    v.node_skip[open.back()] = static_cast<uint32_t>(v.node_byte.size());
    open.pop_back();
  }
  v.node_tok.push_back(static_cast<uint32_t>(v.trie_tokens.size()));
  return v;
}

}  // namespace agora
