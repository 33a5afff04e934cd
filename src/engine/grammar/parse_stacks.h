// The pushdown automaton that runs a Grammar over code points (one per sequence, mutable).
//
// A parse stack is a chain of interned nodes (position in Grammar::elements, parent node): the top
// is a terminal waiting for a code point, the parents are continuations (the element after a rule
// reference). Equal stacks are the same node id (hash-consing), so a set of stacks — a
// "configuration" — is a sorted vector of ids, itself interned to a ConfigId. Node 0 is the empty
// stack: a configuration that contains it can end here.
//
// Expansion is a worklist with a visited set, and references in tail position push no
// continuation, so nullable repetitions and tail cycles close in finite time; the grammar
// analysis has already rejected the left recursion that would not. Work and width are still capped
// (kMaxExpansionSteps, kMaxStacksPerState): a transition over a cap is dead, never a hang.
// Not thread-safe; ids stay valid until `compact`.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/grammar/grammar.h"

namespace agora {

class ParseStacks {
 public:
  using ConfigId = uint32_t;
  static constexpr ConfigId kDead = UINT32_MAX;

  // `g` must outlive this object.
  explicit ParseStacks(const Grammar& g);

  ConfigId initial();                            // the root rule, expanded
  ConfigId advance(ConfigId c, uint32_t cp);     // kDead when no stack takes cp (or over a cap)
  bool is_complete(ConfigId c) const { return configs_.at(c).front() == 0; }
  // True when some stack of `c` takes a code point in [lo, hi].
  bool can_take_any(ConfigId c, uint32_t lo, uint32_t hi) const;

  size_t n_nodes() const { return nodes_.size(); }
  size_t n_configs() const { return configs_.size(); }
  // Forgets every node and configuration not needed by `keep`; returns keep's new id. All other
  // ids become invalid.
  ConfigId compact(ConfigId keep);

 private:
  struct Node {
    uint32_t pos;     // index into Grammar::elements
    uint32_t parent;  // node id of the continuation; 0 = empty stack
  };
  uint32_t intern_node(uint32_t pos, uint32_t parent);
  ConfigId intern_config(std::vector<uint32_t>& tops);  // sorts and dedups tops
  // Expands `work_` items into terminal-topped stacks in `tops_`; false over a cap.
  bool close();
  void push_item(uint32_t node);
  void rehash_nodes(size_t n_slots);

  const Grammar& g_;
  std::vector<Node> nodes_;
  std::vector<uint32_t> node_slots_;  // open addressing, UINT32_MAX = empty
  std::vector<std::vector<uint32_t>> configs_;
  std::vector<uint32_t> config_slots_;
  std::vector<uint32_t> stamp_;  // per node: last closure that visited it
  uint32_t epoch_ = 0;
  std::vector<uint32_t> work_, tops_;
  size_t steps_ = 0;
};

}  // namespace agora
