// A set of token ids as a bitset over the vocabulary: what the grammar allows next.
// The sampler applies it as "logit = -inf unless allowed(id)".
#pragma once

#include <cstdint>
#include <vector>

namespace agora {

class TokenMask {
 public:
  TokenMask() = default;
  explicit TokenMask(size_t n_tokens) { resize(n_tokens); }

  void resize(size_t n_tokens) {
    n_ = n_tokens;
    words_.assign((n_tokens + 63) / 64, 0);
  }
  void clear() { std::fill(words_.begin(), words_.end(), 0); }
  void set(int32_t id) { words_[static_cast<size_t>(id) >> 6] |= uint64_t{1} << (id & 63); }
  void reset(int32_t id) { words_[static_cast<size_t>(id) >> 6] &= ~(uint64_t{1} << (id & 63)); }
  // Out-of-range ids are not allowed.
  bool allowed(int32_t id) const {
    return id >= 0 && static_cast<size_t>(id) < n_ &&
           ((words_[static_cast<size_t>(id) >> 6] >> (id & 63)) & 1);
  }
  size_t size() const { return n_; }
  size_t count() const {
    size_t c = 0;
    for (uint64_t w : words_) c += static_cast<size_t>(__builtin_popcountll(w));
    return c;
  }
  // One byte per token (1 = allowed), for callers that want a plain vector.
  std::vector<uint8_t> to_bytes() const {
    std::vector<uint8_t> out(n_);
    for (size_t i = 0; i < n_; ++i) out[i] = allowed(static_cast<int32_t>(i)) ? 1 : 0;
    return out;
  }
  const std::vector<uint64_t>& words() const { return words_; }
  std::vector<uint64_t>& words() { return words_; }
  bool operator==(const TokenMask& o) const { return n_ == o.n_ && words_ == o.words_; }

 private:
  size_t n_ = 0;
  std::vector<uint64_t> words_;
};

}  // namespace agora
