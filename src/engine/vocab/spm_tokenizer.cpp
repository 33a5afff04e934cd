#include "engine/vocab/spm_tokenizer.h"

#include <algorithm>
#include <cstdio>

#include "engine/vocab/unicode.h"

namespace agora {

SpmTokenizer::SpmTokenizer(const TokenTable& table, TokenId unk) : table_(table), unk_(unk) {
  for (int b = 0; b < 256; ++b) {
    char hex[8];
    std::snprintf(hex, sizeof(hex), "<0x%02X>", b);
    TokenId id = table.find(hex);
    if (id == k_token_null) {
      const char one = static_cast<char>(b);
      id = table.find(std::string_view(&one, 1));
    }
    byte_token_[b] = id;
  }
}

void SpmTokenizer::tokenize(std::string_view text, std::vector<TokenId>& out) const {
  struct Symbol {
    uint32_t offset;
    uint32_t n;  // bytes; 0 once merged into the left neighbour
    int32_t prev;
    int32_t next;
  };
  struct Pair {
    float score;
    int32_t left;
    int32_t right;
    uint32_t size;
  };
  // Max-heap on score, then min on left index.
  auto before = [](const Pair& a, const Pair& b) {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  thread_local std::vector<Symbol> sym;
  thread_local std::vector<Pair> heap;
  sym.clear();
  heap.clear();
  size_t off = 0;
  while (off < text.size()) {
    const size_t len = std::min(unicode::utf8_len(static_cast<uint8_t>(text[off])), text.size() - off);
    const int32_t idx = static_cast<int32_t>(sym.size());
    sym.push_back({static_cast<uint32_t>(off), static_cast<uint32_t>(len), idx - 1,
                   off + len == text.size() ? -1 : idx + 1});
    off += len;
  }
  auto try_pair = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    const uint32_t size = sym[l].n + sym[r].n;
    const TokenId id = table_.find(text.substr(sym[l].offset, size));  // contiguous bytes
    if (id == k_token_null) return;
    heap.push_back({table_.score[id], l, r, size});
    std::push_heap(heap.begin(), heap.end(), before);
  };
  for (int32_t i = 1; i < static_cast<int32_t>(sym.size()); ++i) try_pair(i - 1, i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), before);
    const Pair p = heap.back();
    heap.pop_back();
    Symbol& l = sym[p.left];
    Symbol& r = sym[p.right];
    if (l.n == 0 || r.n == 0 || l.n + r.n != p.size) continue;  // stale
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = p.left;
    try_pair(l.prev, p.left);
    try_pair(p.left, l.next);
  }
  if (sym.empty()) return;
  for (int32_t i = 0; i >= 0; i = sym[i].next) {
    const Symbol& s = sym[i];
    const TokenId id = table_.find(text.substr(s.offset, s.n));
    if (id != k_token_null) {
      out.push_back(id);
      continue;
    }
    for (uint32_t j = 0; j < s.n; ++j) {
      const TokenId b = byte_token_[static_cast<uint8_t>(text[s.offset + j])];
      if (b != k_token_null) {
        out.push_back(b);
      } else if (unk_ != k_token_null) {
        out.push_back(unk_);
      }
    }
  }
}

}  // namespace agora
