#include "engine/vocab/bpe_tokenizer.h"

#include <algorithm>
#include <atomic>
#include <string>

#include "engine/vocab/unicode.h"

namespace agora {

namespace {

std::atomic<uint64_t> g_next_instance{1};

struct PieceHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Per-thread memo of piece -> ids for the tokenizer that used it last.
struct PieceCache {
  static constexpr size_t k_max_entries = 1 << 16;
  static constexpr size_t k_max_piece_bytes = 64;
  uint64_t owner = 0;
  std::unordered_map<std::string, std::vector<TokenId>, PieceHash, std::equal_to<>> map;
};

}  // namespace

Result<std::unique_ptr<BpeTokenizer>> BpeTokenizer::create(
    const TokenTable& table, const std::vector<std::string_view>& merges,
    const PreTokenizerInfo& pre) {
  std::unique_ptr<BpeTokenizer> t(new BpeTokenizer(table));
  auto pt = PreTokenizer::create(pre.kind);
  if (!pt) return pt.status();
  t->pre_ = std::move(pt.value());
  t->ignore_merges_ = pre.ignore_merges;
  t->instance_id_ = g_next_instance.fetch_add(1);

  for (int b = 0; b < 256; ++b) {
    std::string s;
    unicode::append_utf8(s, unicode::byte_to_cpt(static_cast<uint8_t>(b)));
    t->byte_token_[b] = table.find(s);
  }

  t->merges_.reserve(merges.size() * 2);
  std::string joined;
  for (size_t i = 0; i < merges.size(); ++i) {
    const std::string_view m = merges[i];
    const size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string_view::npos;
    auto bad = [&](const std::string& why) {
      return Status(ErrorCode::invalid_file, "tokenizer.ggml.merges[" + std::to_string(i) +
                                                 "] '" + std::string(m.substr(0, 64)) + "': " + why);
    };
    if (sp == std::string_view::npos) return bad("no space separating the two parts");
    const std::string_view left = m.substr(0, sp);
    const std::string_view right = m.substr(sp + 1);
    const TokenId l = table.find(left);
    const TokenId r = table.find(right);
    if (l == k_token_null || r == k_token_null) return bad("part is not a token");
    joined.assign(left);
    joined.append(right);
    const TokenId res = table.find(joined);
    if (res == k_token_null) return bad("merged text is not a token");
    // A repeated pair keeps its first (lowest) rank, as a map insert does in the reference.
    t->merges_.try_emplace(key(l, r), Merge{static_cast<int32_t>(i), res});
  }
  return t;
}

std::string BpeTokenizer::decode_token_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    uint32_t c = 0;
    size_t n = unicode::decode_utf8(text, i, &c);
    if (n == 0) {
      out.push_back(text[i]);
      ++i;
      continue;
    }
    const int b = unicode::cpt_to_byte(c);
    if (b >= 0) {
      out.push_back(static_cast<char>(b));
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

void BpeTokenizer::tokenize(std::string_view text, std::vector<TokenId>& out) const {
  thread_local std::vector<PreTokenizer::Piece> pieces;
  thread_local PieceCache cache;
  if (cache.owner != instance_id_ || cache.map.size() >= PieceCache::k_max_entries) {
    cache.map.clear();
    cache.owner = instance_id_;
  }
  pre_->split(text, pieces);
  for (const auto& p : pieces) {
    const std::string_view piece = text.substr(p.offset, p.length);
    if (piece.size() < 2 || piece.size() > PieceCache::k_max_piece_bytes) {
      tokenize_piece(piece, out);
      continue;
    }
    auto it = cache.map.find(piece);
    if (it != cache.map.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      continue;
    }
    const size_t start = out.size();
    tokenize_piece(piece, out);
    cache.map.emplace(std::string(piece), std::vector<TokenId>(out.begin() + start, out.end()));
  }
}

void BpeTokenizer::tokenize_piece(std::string_view piece, std::vector<TokenId>& out) const {
  if (piece.empty()) return;
  if (piece.size() == 1) {
    const TokenId id = byte_token_[static_cast<uint8_t>(piece[0])];
    if (id != k_token_null) out.push_back(id);
    return;
  }
  if (ignore_merges_) {
    thread_local std::string encoded;
    encoded.clear();
    for (char ch : piece) unicode::append_utf8(encoded, unicode::byte_to_cpt(static_cast<uint8_t>(ch)));
    const TokenId id = table_.find(encoded);
    if (id != k_token_null) {
      out.push_back(id);
      return;
    }
  }

  struct Symbol {
    TokenId id;
    int32_t prev;
    int32_t next;
    bool alive;
  };
  struct Pair {
    int32_t rank;
    int32_t left;
    int32_t right;
    TokenId left_id;
    TokenId right_id;
    TokenId result;
  };
  // Min-heap on (rank, left): std heap functions build a max-heap, so invert the order.
  auto later = [](const Pair& a, const Pair& b) {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  };
  thread_local std::vector<Symbol> sym;
  thread_local std::vector<Pair> heap;
  sym.clear();
  heap.clear();
  const int32_t n = static_cast<int32_t>(piece.size());
  for (int32_t i = 0; i < n; ++i) {
    sym.push_back({byte_token_[static_cast<uint8_t>(piece[i])], i - 1, i + 1 < n ? i + 1 : -1, true});
  }
  auto try_pair = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    const TokenId a = sym[l].id;
    const TokenId b = sym[r].id;
    if (a == k_token_null || b == k_token_null) return;
    auto it = merges_.find(key(a, b));
    if (it == merges_.end()) return;
    heap.push_back({it->second.rank, l, r, a, b, it->second.result});
    std::push_heap(heap.begin(), heap.end(), later);
  };
  for (int32_t i = 0; i + 1 < n; ++i) try_pair(i, i + 1);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Pair p = heap.back();
    heap.pop_back();
    Symbol& l = sym[p.left];
    Symbol& r = sym[p.right];
    if (!l.alive || !r.alive || l.next != p.right || l.id != p.left_id || r.id != p.right_id) {
      continue;  // stale: one side changed since the pair was queued
    }
    l.id = p.result;
    r.alive = false;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = p.left;
    try_pair(l.prev, p.left);
    try_pair(p.left, l.next);
  }
  for (int32_t i = 0; i >= 0; i = sym[i].next) {
    if (sym[i].id != k_token_null) out.push_back(sym[i].id);
  }
}

}  // namespace agora
