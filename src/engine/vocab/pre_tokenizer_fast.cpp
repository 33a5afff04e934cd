#include "engine/vocab/pre_tokenizer_fast.h"

#include "engine/vocab/unicode.h"

namespace agora {

namespace {

using unicode::CptFlag;

// The text decoded once: code point, class bits and byte offset of each character, with a
// sentinel entry at the end (cpt 0xFFFFFFFF, flags 0, offset = text size).
struct Decoded {
  std::vector<uint32_t> cpt;
  std::vector<uint16_t> flags;
  std::vector<uint32_t> offset;
};

void decode(std::string_view text, Decoded& d) {
  d.cpt.clear();
  d.flags.clear();
  d.offset.clear();
  d.cpt.reserve(text.size() + 1);
  d.flags.reserve(text.size() + 1);
  d.offset.reserve(text.size() + 1);
  size_t i = 0;
  while (i < text.size()) {
    uint32_t c = 0;
    size_t n = unicode::decode_utf8(text, i, &c);
    if (n == 0) {  // cannot happen on sanitised input; keep going deterministically
      c = unicode::k_replacement_char;
      n = 1;
    }
    d.cpt.push_back(c);
    d.flags.push_back(unicode::cpt_flags(c));
    d.offset.push_back(static_cast<uint32_t>(i));
    i += n;
  }
  d.cpt.push_back(0xFFFFFFFFu);
  d.flags.push_back(0);
  d.offset.push_back(static_cast<uint32_t>(text.size()));
}

constexpr uint16_t k_ws = unicode::k_whitespace;
constexpr uint16_t k_l = unicode::k_letter;
constexpr uint16_t k_n = unicode::k_number;

// "other" = [^\s\p{L}\p{N}] (and a real character, not the sentinel)
inline bool is_other(uint16_t f) { return f != 0 && (f & (k_ws | k_l | k_n)) == 0; }

class Emitter {
 public:
  Emitter(const Decoded& d, std::vector<PreTokenizer::Piece>& out) : d_(d), out_(out) {}
  // Emits characters [prev_end, end) as one piece.
  void cut(size_t end) {
    if (end > prev_) {
      out_.push_back({d_.offset[prev_], d_.offset[end] - d_.offset[prev_]});
      prev_ = end;
    }
  }

 private:
  const Decoded& d_;
  std::vector<PreTokenizer::Piece>& out_;
  size_t prev_ = 0;
};

// Length (in characters) of a contraction at i: 's 't 'm 'd (2) or 're 've 'll (3), else 0.
size_t contraction(const Decoded& d, size_t i, size_t n, bool any_case) {
  if (d.cpt[i] != '\'' || i + 1 >= n) return 0;
  auto low = [&](size_t k) {
    const uint32_t c = d.cpt[k];
    return (any_case && c >= 'A' && c <= 'Z') ? c + 32 : c;
  };
  const uint32_t c1 = low(i + 1);
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
  if (i + 2 < n) {
    const uint32_t c2 = low(i + 2);
    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
  }
  return 0;
}

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)  (gaps as pieces)
void split_gpt2(const Decoded& d, std::vector<PreTokenizer::Piece>& out) {
  const size_t n = d.cpt.size() - 1;
  Emitter em(d, out);
  size_t i = 0;
  while (i < n) {
    if (size_t k = contraction(d, i, n, false)) {
      i += k;
      em.cut(i);
      continue;
    }
    const uint16_t f = (d.cpt[i] == ' ') ? d.flags[i + 1] : d.flags[i];
    const size_t start = i + (d.cpt[i] == ' ' ? 1 : 0);
    if (f & k_l) {
      i = start;
      while (d.flags[i] & k_l) ++i;
      em.cut(i);
      continue;
    }
    if (f & k_n) {
      i = start;
      while (d.flags[i] & k_n) ++i;
      em.cut(i);
      continue;
    }
    if (is_other(f)) {
      i = start;
      while (is_other(d.flags[i])) ++i;
      em.cut(i);
      continue;
    }
    size_t ws = 0;
    while (d.flags[i + ws] & k_ws) ++ws;
    if (ws > 1 && i + ws < n) {  // \s+(?!\S): leave the last space for the next word
      i += ws - 1;
      em.cut(i);
      continue;
    }
    // A whole trailing run, or a lone space before a non-space (a one-character gap).
    i += ws > 0 ? ws : 1;
    em.cut(i);
  }
}

// Llama 3 / Qwen2: (?:'[sS]|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max_digits}|
//   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
void split_llama3(const Decoded& d, size_t max_digits, std::vector<PreTokenizer::Piece>& out) {
  const size_t n = d.cpt.size() - 1;
  Emitter em(d, out);
  size_t i = 0;
  auto is_crlf = [&](size_t k) { return d.cpt[k] == '\r' || d.cpt[k] == '\n'; };
  while (i < n) {
    if (size_t k = contraction(d, i, n, true)) {
      i += k;
      em.cut(i);
      continue;
    }
    const uint16_t f = d.flags[i];
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (f & k_l) {
      while (d.flags[i] & k_l) ++i;
      em.cut(i);
      continue;
    }
    if (!is_crlf(i) && !(f & k_n) && (d.flags[i + 1] & k_l)) {
      ++i;
      while (d.flags[i] & k_l) ++i;
      em.cut(i);
      continue;
    }
    // \p{N}{1,max}
    if (f & k_n) {
      size_t k = 0;
      while (k < max_digits && (d.flags[i] & k_n)) {
        ++i;
        ++k;
      }
      em.cut(i);
      continue;
    }
    //  ?[^\s\p{L}\p{N}]+[\r\n]*
    {
      const bool sp = d.cpt[i] == ' ';
      if (is_other(sp ? d.flags[i + 1] : f)) {
        i += sp ? 1 : 0;
        while (is_other(d.flags[i])) ++i;
        while (i < n && is_crlf(i)) ++i;
        em.cut(i);
        continue;
      }
    }
    size_t ws = 0;
    size_t last_crlf = 0;  // one past the last \r or \n of the run
    while (d.flags[i + ws] & k_ws) {
      if (is_crlf(i + ws)) last_crlf = i + ws + 1;
      ++ws;
    }
    if (last_crlf > 0) {  // \s*[\r\n]+
      i = last_crlf;
    } else if (ws > 1 && i + ws < n) {  // \s+(?!\S)
      i += ws - 1;
    } else {  // \s+ (or a lone character no alternative takes)
      i += ws > 0 ? ws : 1;
    }
    em.cut(i);
  }
}

}  // namespace

bool fast_split_available(PreTokenizerKind kind) {
  return kind == PreTokenizerKind::gpt2 || kind == PreTokenizerKind::llama3 ||
         kind == PreTokenizerKind::qwen2;
}

void fast_split(PreTokenizerKind kind, std::string_view text,
                std::vector<PreTokenizer::Piece>& out) {
  thread_local Decoded d;
  decode(text, d);
  switch (kind) {
    case PreTokenizerKind::gpt2:
      split_gpt2(d, out);
      break;
    case PreTokenizerKind::llama3:
      split_llama3(d, 3, out);
      break;
    case PreTokenizerKind::qwen2:
      split_llama3(d, 1, out);
      break;
    default:
      break;
  }
}

}  // namespace agora
