#include "engine/kv/prefix_cache.h"

#include <algorithm>
#include <cstring>

namespace agora {

std::string PrefixCache::key_of(std::span<const int32_t> tokens, size_t block) const {
  const size_t bs = static_cast<size_t>(kv_.block_size());
  std::string k(bs * sizeof(int32_t), '\0');
  std::memcpy(k.data(), tokens.data() + block * bs, k.size());
  return k;
}

std::vector<int32_t> PrefixCache::lookup(std::span<const int32_t> tokens, size_t max_blocks) {
  const size_t bs = static_cast<size_t>(kv_.block_size());
  const size_t n_full = std::min(tokens.size() / bs, max_blocks);
  std::vector<int32_t> out;
  Node* n = &root_;
  ++clock_;
  for (size_t b = 0; b < n_full; ++b) {
    auto it = n->children.find(key_of(tokens, b));
    if (it == n->children.end()) break;
    n = it->second.get();
    n->last_used = clock_;
    kv_.ref(n->block);
    out.push_back(n->block);
  }
  lookups_ += static_cast<int64_t>(tokens.size());
  hits_ += static_cast<int64_t>(out.size() * bs);
  return out;
}

void PrefixCache::insert(std::span<const int32_t> tokens, std::span<const int32_t> blocks) {
  const size_t bs = static_cast<size_t>(kv_.block_size());
  Node* n = &root_;
  ++clock_;
  for (size_t b = 0; b < blocks.size() && (b + 1) * bs <= tokens.size(); ++b) {
    std::string key = key_of(tokens, b);
    auto it = n->children.find(key);
    if (it == n->children.end()) {
      auto child = std::make_unique<Node>();
      child->block = blocks[b];
      child->parent = n;
      child->key = key;
      kv_.ref(blocks[b]);
      ++n_nodes_;
      it = n->children.emplace(std::move(key), std::move(child)).first;
    }
    n = it->second.get();
    n->last_used = clock_;
  }
}

int64_t PrefixCache::evict(int64_t n_wanted) {
  int64_t freed = 0;
  while (freed < n_wanted) {
    // Least recently used leaf (the tree is small: a linear walk is fine).
    Node* best = nullptr;
    std::vector<Node*> stack{&root_};
    while (!stack.empty()) {
      Node* n = stack.back();
      stack.pop_back();
      if (n != &root_ && n->children.empty() && (!best || n->last_used < best->last_used)) best = n;
      for (auto& [k, c] : n->children) stack.push_back(c.get());
    }
    if (!best) break;
    if (kv_.refcount(best->block) == 1) ++freed;
    kv_.unref(best->block);
    --n_nodes_;
    best->parent->children.erase(best->key);
  }
  return freed;
}

void PrefixCache::release_subtree(Node& n) {
  for (auto& [k, c] : n.children) {
    release_subtree(*c);
    kv_.unref(c->block);
    --n_nodes_;
  }
  n.children.clear();
}

void PrefixCache::clear() { release_subtree(root_); }

}  // namespace agora
