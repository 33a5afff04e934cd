// Unicode helpers for the tokenizers: UTF-8 decoding/validation, code point classes, case
// mapping, normalisation (NFC/NFD through utf8proc) and the GPT-2 byte <-> code point map.
//
// All functions are pure and thread-safe. Invalid UTF-8 is never passed on silently: callers
// either validate (`is_valid_utf8`) or sanitise (`sanitize_utf8`) first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace agora::unicode {

constexpr uint32_t k_replacement_char = 0xFFFD;

// Code point class bits (a code point has exactly one of the general-category bits; the
// whitespace bit is added for the characters that PCRE2-UCP `\s` matches).
enum CptFlag : uint16_t {
  k_undefined = 1 << 0,
  k_number = 1 << 1,       // \p{N}
  k_letter = 1 << 2,       // \p{L}
  k_separator = 1 << 3,    // \p{Z}
  k_mark = 1 << 4,         // \p{M}
  k_punctuation = 1 << 5,  // \p{P}
  k_symbol = 1 << 6,       // \p{S}
  k_control = 1 << 7,      // \p{C}
  k_whitespace = 1 << 8,   // \s
  k_nonspacing_mark = 1 << 9,  // Mn (accent stripping)
};

// Length of the UTF-8 sequence announced by `lead` (1 for ASCII and for stray continuation
// bytes, 2..4 otherwise). Does not validate the following bytes.
inline size_t utf8_len(uint8_t lead) {
  static constexpr uint8_t k_len[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return k_len[lead >> 4];
}

// Decodes the well-formed UTF-8 sequence at s[pos] (shortest form, no surrogates, <= U+10FFFF).
// Returns the number of bytes (1..4) and stores the code point, or 0 when the bytes at `pos`
// do not start a well-formed sequence.
size_t decode_utf8(std::string_view s, size_t pos, uint32_t* cpt);
// Appends the UTF-8 encoding of `cpt` (must be <= U+10FFFF).
void append_utf8(std::string& out, uint32_t cpt);

bool is_valid_utf8(std::string_view s);
// Replaces every byte that does not start a well-formed sequence by U+FFFD (one U+FFFD per
// offending byte, scanning resumes at the next byte). Valid input is returned unchanged.
std::string sanitize_utf8(std::string_view s);
// Length of the longest prefix of `s` that does not end inside an incomplete (but so far
// well-formed) multi-byte sequence: the bytes after it may still be completed by more input.
size_t complete_utf8_prefix(std::string_view s);

uint16_t cpt_flags(uint32_t cpt);
inline bool is_whitespace(uint32_t cpt) { return (cpt_flags(cpt) & k_whitespace) != 0; }
uint32_t to_lower(uint32_t cpt);

// Canonical composition / decomposition of valid UTF-8 (returns the input on failure).
std::string nfc(std::string_view s);
std::string nfd(std::string_view s);
// True when `s` has a byte >= 0x80 (a fast filter before normalisation).
bool has_non_ascii(std::string_view s);

// GPT-2 byte-level mapping: every byte has a printable code point stand-in.
uint32_t byte_to_cpt(uint8_t b);
// The byte a stand-in code point represents, or -1 when `cpt` is not a stand-in.
int cpt_to_byte(uint32_t cpt);

}  // namespace agora::unicode
