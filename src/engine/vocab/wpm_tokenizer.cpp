#include "engine/vocab/wpm_tokenizer.h"

#include <algorithm>

#include "engine/vocab/unicode.h"

namespace agora {

namespace {

bool is_cjk(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

}  // namespace

std::vector<std::string> WpmTokenizer::split_words(std::string_view text) {
  const std::string decomposed = unicode::has_non_ascii(text) ? unicode::nfd(text) : std::string(text);
  std::vector<std::string> words(1);
  size_t i = 0;
  while (i < decomposed.size()) {
    uint32_t c = 0;
    size_t n = unicode::decode_utf8(decomposed, i, &c);
    if (n == 0) {
      c = unicode::k_replacement_char;
      n = 1;
    }
    i += n;
    const uint16_t f = unicode::cpt_flags(c);
    if (f & unicode::k_whitespace) {
      if (!words.back().empty()) words.emplace_back();
      continue;
    }
    if (c == 0 || c == unicode::k_replacement_char || (f & unicode::k_control) ||
        (f & unicode::k_nonspacing_mark)) {
      continue;
    }
    std::string s;
    unicode::append_utf8(s, unicode::to_lower(c));
    if ((f & unicode::k_punctuation) || (c < 0x7F && (f & unicode::k_symbol)) || is_cjk(c)) {
      if (!words.back().empty()) words.emplace_back();
      words.back() = std::move(s);
      words.emplace_back();
    } else {
      words.back() += s;
    }
  }
  if (words.back().empty()) words.pop_back();
  return words;
}

void WpmTokenizer::tokenize(std::string_view text, std::vector<TokenId>& out) const {
  const int max_len = static_cast<int>(table_.max_token_len);
  for (const std::string& word : split_words(text)) {
    const std::string w = "\xE2\x96\x81" + word;
    const int n = static_cast<int>(w.size());
    const size_t start = out.size();
    for (int i = 0; i < n; ++i) {
      bool found = false;
      for (int j = std::min(n, i + max_len + 1); j > i; --j) {
        const TokenId id = table_.find(std::string_view(w).substr(i, j - i));
        if (id != k_token_null) {
          out.push_back(id);
          found = true;
          i = j - 1;
          break;
        }
      }
      if (!found) {
        out.resize(start);
        break;
      }
    }
    if (out.size() == start && unk_ != k_token_null) out.push_back(unk_);
  }
}

}  // namespace agora
