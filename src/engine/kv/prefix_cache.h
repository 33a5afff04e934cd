// Prefix cache: a radix tree over full KV blocks, so a prompt prefix is computed once and
// reused by every request that starts with it (GPT instructions, system prompts, earlier turns).
//
// A node stands for one block of `block_size` tokens following its parent's tokens; it holds a
// reference on the KV block that stores their keys and values. lookup() returns the longest
// chain of cached blocks matching a prompt (taking a new reference on each for the caller);
// insert() registers a finished sequence's full blocks. Cached blocks are full and never written
// again: a sequence that adopts them writes only into blocks after them. evict() drops
// least-recently-used leaves until enough blocks are free in the pool.
// Not thread-safe: owned by the engine thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/kv/kv_cache.h"

namespace agora {

class PrefixCache {
 public:
  explicit PrefixCache(KvCache& kv) : kv_(kv) {}
  ~PrefixCache() { clear(); }

  // Blocks caching the longest prefix of `tokens` made of whole blocks, at most max_blocks.
  // Each returned block carries one new reference owned by the caller.
  std::vector<int32_t> lookup(std::span<const int32_t> tokens, size_t max_blocks);
  // Registers blocks[i] as holding tokens [i*bs, (i+1)*bs). tokens.size() >= blocks.size()*bs.
  void insert(std::span<const int32_t> tokens, std::span<const int32_t> blocks);
  // Drops LRU leaves until `n_wanted` blocks were returned to the pool or nothing is left to
  // drop. Returns the number of blocks returned to the pool.
  int64_t evict(int64_t n_wanted);
  void clear();

  size_t n_nodes() const { return n_nodes_; }
  int64_t lookups() const { return lookups_; }        // tokens looked up
  int64_t hits() const { return hits_; }              // tokens found

 private:
  struct Node {
    int32_t block = -1;
    uint64_t last_used = 0;
    Node* parent = nullptr;
    std::string key;
    std::unordered_map<std::string, std::unique_ptr<Node>> children;
  };
  std::string key_of(std::span<const int32_t> tokens, size_t block) const;
  void release_subtree(Node& n);

  KvCache& kv_;
  Node root_;
  uint64_t clock_ = 0;
  size_t n_nodes_ = 0;
  int64_t lookups_ = 0, hits_ = 0;
};

}  // namespace agora
