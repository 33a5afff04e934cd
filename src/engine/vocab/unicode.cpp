#include "engine/vocab/unicode.h"

#include <utf8proc.h>

#include <array>
#include <cstdlib>
#include <memory>

namespace agora::unicode {

size_t decode_utf8(std::string_view s, size_t pos, uint32_t* cpt) {
  const size_t n = s.size();
  const auto b0 = static_cast<uint8_t>(s[pos]);
  if (b0 < 0x80) {
    *cpt = b0;
    return 1;
  }
  auto cont = [&](size_t i) { return i < n && (static_cast<uint8_t>(s[i]) & 0xC0) == 0x80; };
  auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(s[i])) & 0x3F; };
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (!cont(pos + 1)) return 0;
    *cpt = ((b0 & 0x1Fu) << 6) | byte(pos + 1);
    return 2;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!cont(pos + 1) || !cont(pos + 2)) return 0;
    const uint32_t c = ((b0 & 0x0Fu) << 12) | (byte(pos + 1) << 6) | byte(pos + 2);
    if (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF)) return 0;  // overlong or surrogate
    *cpt = c;
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!cont(pos + 1) || !cont(pos + 2) || !cont(pos + 3)) return 0;
    const uint32_t c =
        ((b0 & 0x07u) << 18) | (byte(pos + 1) << 12) | (byte(pos + 2) << 6) | byte(pos + 3);
    if (c < 0x10000 || c > 0x10FFFF) return 0;
    *cpt = c;
    return 4;
  }
  return 0;  // continuation byte, 0xC0/0xC1, 0xF5..0xFF
}

void append_utf8(std::string& out, uint32_t cpt) {
  if (cpt < 0x80) {
    out.push_back(static_cast<char>(cpt));
  } else if (cpt < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cpt >> 6)));
    out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else if (cpt < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cpt >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cpt >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cpt >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  }
}

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  uint32_t c = 0;
  while (i < s.size()) {
    if (static_cast<uint8_t>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = decode_utf8(s, i, &c);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  uint32_t c = 0;
  while (i < s.size()) {
    const size_t n = decode_utf8(s, i, &c);
    if (n == 0) {
      append_utf8(out, k_replacement_char);
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  return out;
}

size_t complete_utf8_prefix(std::string_view s) {
  // Find the last lead byte within the final 3 bytes; hold it back only when the bytes seen
  // so far form a well-formed but unfinished sequence (a later byte may complete it).
  const size_t n = s.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto b = static_cast<uint8_t>(s[n - back]);
    if ((b & 0xC0) == 0x80) continue;
    if (b < 0xC2 || b > 0xF4) return n;
    const size_t want = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
    if (want <= back) return n;
    if (back >= 2) {
      const auto b1 = static_cast<uint8_t>(s[n - back + 1]);
      uint8_t lo = 0x80, hi = 0xBF;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
      if (b1 < lo || b1 > hi) return n;
    }
    return n - back;
  }
  return n;
}

namespace {

uint16_t flags_of_category(utf8proc_category_t cat) {
  switch (cat) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
      return k_letter;
    case UTF8PROC_CATEGORY_MN:
      return k_mark | k_nonspacing_mark;
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
      return k_mark;
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return k_number;
    case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return k_punctuation;
    case UTF8PROC_CATEGORY_SM: case UTF8PROC_CATEGORY_SC: case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
      return k_symbol;
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
      return k_separator;
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
      return k_control;
    default:
      return k_undefined;
  }
}

bool whitespace_cpt(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

struct AsciiTable {
  std::array<uint16_t, 128> flags{};
  AsciiTable() {
    for (uint32_t c = 0; c < 128; ++c) {
      flags[c] = flags_of_category(utf8proc_category(static_cast<utf8proc_int32_t>(c))) |
                 (whitespace_cpt(c) ? k_whitespace : 0);
    }
  }
};

std::string map_with(std::string_view s, int options) {
  utf8proc_uint8_t* out = nullptr;
  const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                              static_cast<utf8proc_ssize_t>(s.size()), &out,
                              static_cast<utf8proc_option_t>(options));
  if (n < 0 || out == nullptr) {
    std::free(out);
    return std::string(s);
  }
  std::string result(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
  std::free(out);
  return result;
}

struct ByteMap {
  std::array<uint32_t, 256> to_cpt{};
  std::array<int16_t, 324> from_cpt{};  // stand-ins are all < 256 + 68
  ByteMap() {
    from_cpt.fill(-1);
    uint32_t extra = 0;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      to_cpt[b] = printable ? b : 256 + extra++;
      from_cpt[to_cpt[b]] = static_cast<int16_t>(b);
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap m;
  return m;
}

}  // namespace

uint16_t cpt_flags(uint32_t cpt) {
  static const AsciiTable ascii;
  if (cpt < 128) return ascii.flags[cpt];
  if (cpt > 0x10FFFF) return k_undefined;
  return flags_of_category(utf8proc_category(static_cast<utf8proc_int32_t>(cpt))) |
         (whitespace_cpt(cpt) ? k_whitespace : 0);
}

uint32_t to_lower(uint32_t cpt) {
  if (cpt < 128) return (cpt >= 'A' && cpt <= 'Z') ? cpt + 32 : cpt;
  return static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cpt)));
}

std::string nfc(std::string_view s) { return map_with(s, UTF8PROC_STABLE | UTF8PROC_COMPOSE); }
std::string nfd(std::string_view s) { return map_with(s, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE); }

bool has_non_ascii(std::string_view s) {
  for (char ch : s) {
    if (static_cast<uint8_t>(ch) >= 0x80) return true;
  }
  return false;
}

uint32_t byte_to_cpt(uint8_t b) { return byte_map().to_cpt[b]; }

int cpt_to_byte(uint32_t cpt) {
  if (cpt >= byte_map().from_cpt.size()) return -1;
  return byte_map().from_cpt[cpt];
}

}  // namespace agora::unicode
