// Hash-consed parse stacks and their closure. Contracts in parse_stacks.h.
#include "engine/grammar/parse_stacks.h"

#include <algorithm>

#include "engine/grammar/grammar_limits.h"

namespace agora {

namespace gl = grammar_limits;

namespace {

constexpr uint32_t kEmptySlot = UINT32_MAX;

inline uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

uint64_t hash_config(const std::vector<uint32_t>& v) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ v.size();
  for (uint32_t x : v) h = mix(h ^ x) + 0x9e3779b97f4a7c15ULL;
  return h;
}

}  // namespace

ParseStacks::ParseStacks(const Grammar& g) : g_(g) {
  nodes_.push_back({UINT32_MAX, 0});  // node 0: the empty stack
  rehash_nodes(1024);
  config_slots_.assign(256, kEmptySlot);
}

void ParseStacks::rehash_nodes(size_t n_slots) {
  node_slots_.assign(n_slots, kEmptySlot);
  const size_t mask = n_slots - 1;
  for (uint32_t id = 1; id < nodes_.size(); ++id) {
    size_t i = mix((uint64_t{nodes_[id].pos} << 32) | nodes_[id].parent) & mask;
    while (node_slots_[i] != kEmptySlot) i = (i + 1) & mask;
    node_slots_[i] = id;
  }
}

uint32_t ParseStacks::intern_node(uint32_t pos, uint32_t parent) {
  if ((nodes_.size() + 1) * 2 > node_slots_.size()) rehash_nodes(node_slots_.size() * 2);
  const size_t mask = node_slots_.size() - 1;
  size_t i = mix((uint64_t{pos} << 32) | parent) & mask;
  for (;; i = (i + 1) & mask) {
    uint32_t id = node_slots_[i];
    if (id == kEmptySlot) break;
    if (nodes_[id].pos == pos && nodes_[id].parent == parent) return id;
  }
  uint32_t id = static_cast<uint32_t>(nodes_.size());
  nodes_.push_back({pos, parent});
  node_slots_[i] = id;
  return id;
}

ParseStacks::ConfigId ParseStacks::intern_config(std::vector<uint32_t>& tops) {
  std::sort(tops.begin(), tops.end());
  tops.erase(std::unique(tops.begin(), tops.end()), tops.end());
  if ((configs_.size() + 1) * 2 > config_slots_.size()) {
    config_slots_.assign(config_slots_.size() * 2, kEmptySlot);
    const size_t mask = config_slots_.size() - 1;
    for (uint32_t id = 0; id < configs_.size(); ++id) {
      size_t i = hash_config(configs_[id]) & mask;
      while (config_slots_[i] != kEmptySlot) i = (i + 1) & mask;
      config_slots_[i] = id;
    }
  }
  const size_t mask = config_slots_.size() - 1;
  size_t i = hash_config(tops) & mask;
  for (;; i = (i + 1) & mask) {
    uint32_t id = config_slots_[i];
    if (id == kEmptySlot) break;
    if (configs_[id] == tops) return id;
  }
  uint32_t id = static_cast<uint32_t>(configs_.size());
  configs_.push_back(tops);
  config_slots_[i] = id;
  return id;
}

void ParseStacks::push_item(uint32_t node) {
  if (stamp_.size() < nodes_.size()) stamp_.resize(nodes_.size() * 2, 0);
  if (stamp_[node] == epoch_) return;
  stamp_[node] = epoch_;
  work_.push_back(node);
}

bool ParseStacks::close() {
  while (!work_.empty()) {
    if (++steps_ > gl::kMaxExpansionSteps || tops_.size() > gl::kMaxStacksPerState) {
      work_.clear();
      return false;
    }
    const uint32_t item = work_.back();
    work_.pop_back();
    const Node n = nodes_[item];
    const GrammarElement& e = g_.elements[n.pos];
    switch (e.kind) {
      case ElementKind::end:
        if (n.parent == 0) {
          tops_.push_back(0);
        } else {
          push_item(n.parent);
        }
        break;
      case ElementKind::rule_ref: {
        // Tail reference: nothing to come back to in this alternative, so reuse the parent.
        uint32_t cont = g_.elements[n.pos + 1].kind == ElementKind::end
                            ? n.parent
                            : intern_node(n.pos + 1, n.parent);
        for (uint32_t alt : g_.rules[e.value].alternatives) push_item(intern_node(alt, cont));
        break;
      }
      case ElementKind::chars:
        tops_.push_back(item);
        break;
    }
  }
  return true;
}

ParseStacks::ConfigId ParseStacks::initial() {
  ++epoch_;
  steps_ = 0;
  work_.clear();
  tops_.clear();
  for (uint32_t alt : g_.rules[g_.root].alternatives) push_item(intern_node(alt, 0));
  if (!close() || tops_.empty()) return kDead;
  return intern_config(tops_);
}

ParseStacks::ConfigId ParseStacks::advance(ConfigId c, uint32_t cp) {
  ++epoch_;
  if (epoch_ == 0) {  // wrapped: clear stale stamps
    std::fill(stamp_.begin(), stamp_.end(), 0);
    epoch_ = 1;
  }
  steps_ = 0;
  work_.clear();
  tops_.clear();
  for (uint32_t top : configs_[c]) {
    if (top == 0) continue;
    const Node n = nodes_[top];
    if (g_.classes[g_.elements[n.pos].value].matches(cp)) push_item(intern_node(n.pos + 1, n.parent));
  }
  if (work_.empty()) return kDead;
  if (!close() || tops_.empty()) return kDead;
  return intern_config(tops_);
}

bool ParseStacks::can_take_any(ConfigId c, uint32_t lo, uint32_t hi) const {
  for (uint32_t top : configs_[c]) {
    if (top != 0 && g_.classes[g_.elements[nodes_[top].pos].value].intersects(lo, hi)) return true;
  }
  return false;
}

ParseStacks::ConfigId ParseStacks::compact(ConfigId keep) {
  std::vector<uint32_t> tops = configs_[keep];
  // Mark every node on a kept stack; parents always have smaller ids than their children.
  std::vector<uint32_t> remap(nodes_.size(), kEmptySlot);
  for (uint32_t top : tops) {
    for (uint32_t n = top; n != 0 && remap[n] == kEmptySlot; n = nodes_[n].parent) remap[n] = 0;
  }
  std::vector<Node> kept{nodes_[0]};
  remap[0] = 0;
  for (uint32_t id = 1; id < nodes_.size(); ++id) {
    if (remap[id] == kEmptySlot) continue;
    remap[id] = static_cast<uint32_t>(kept.size());
    kept.push_back({nodes_[id].pos, remap[nodes_[id].parent]});
  }
  nodes_ = std::move(kept);
  size_t slots = 1024;
  while (slots < nodes_.size() * 2) slots *= 2;
  rehash_nodes(slots);
  stamp_.assign(nodes_.size() * 2, 0);
  epoch_ = 1;
  for (uint32_t& t : tops) t = remap[t];
  configs_.clear();
  config_slots_.assign(256, kEmptySlot);
  return intern_config(tops);
}

}  // namespace agora
