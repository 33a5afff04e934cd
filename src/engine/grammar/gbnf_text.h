// Writing GBNF text: quoting literals and classes. Used by the generators (JSON Schema, regex) so
// that every string they emit parses back exactly.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace agora::gbnf {

// Appends code point `cp` as it must appear inside "..." (in_class = false) or [...] (true).
inline void append_escaped(std::string& out, uint32_t cp, bool in_class) {
  char buf[16];
  if (cp == '\\' || cp == '"' || (in_class && (cp == ']' || cp == '[' || cp == '-' || cp == '^'))) {
    out += '\\';
    out += static_cast<char>(cp);
  } else if (cp < 0x20 || cp == 0x7F) {
    std::snprintf(buf, sizeof buf, "\\x%02X", cp);
    out += buf;
  } else if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp <= 0xFFFF) {
    std::snprintf(buf, sizeof buf, "\\u%04X", cp);
    out += buf;
  } else {
    std::snprintf(buf, sizeof buf, "\\U%08X", cp);
    out += buf;
  }
}

// A GBNF string literal matching exactly the bytes of `text` (which must be valid UTF-8; bytes
// that do not decode are written as \xHH, which the parser reads as that code point).
inline std::string literal(std::string_view text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    int n = c < 0x80 ? 0 : c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : -1;
    uint32_t cp = n > 0 ? (c & (0x3F >> n)) : c;
    bool ok = n >= 0 && i + static_cast<size_t>(n) < text.size();
    for (int k = 1; ok && k <= n; ++k) {
      unsigned char d = static_cast<unsigned char>(text[i + static_cast<size_t>(k)]);
      ok = (d & 0xC0) == 0x80;
      cp = (cp << 6) | (d & 0x3F);
    }
    if (!ok) {
      append_escaped(out, c, false);
      ++i;
      continue;
    }
    append_escaped(out, cp, false);
    i += static_cast<size_t>(n) + 1;
  }
  out += '"';
  return out;
}

}  // namespace agora::gbnf
