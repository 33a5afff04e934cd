// Regex -> GBNF by recursive descent; depth bounded by kMaxPatternDepth. Contracts in
// regex_to_gbnf.h.
#include "engine/grammar/regex_to_gbnf.h"

#include <optional>
#include <utility>
#include <vector>

#include "engine/grammar/gbnf_text.h"
#include "engine/grammar/grammar.h"
#include "engine/grammar/grammar_limits.h"

namespace agora {

namespace gl = grammar_limits;

namespace {

using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;

const Ranges kDigit = {{'0', '9'}};
const Ranges kWord = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
const Ranges kSpace = {{'\t', '\r'}, {' ', ' '}, {0xA0, 0xA0}, {0x2028, 0x2029}, {0xFEFF, 0xFEFF}};

Ranges complement(const Ranges& in) {
  CharClass c(in, false);  // normalises
  Ranges out;
  uint32_t next = 0;
  for (const auto& r : c.ranges()) {
    if (r.first > next) out.push_back({next, r.first - 1});
    next = r.second + 1;
  }
  if (next <= 0x10FFFF) out.push_back({next, 0x10FFFF});
  return out;
}

class RegexConverter {
 public:
  RegexConverter(std::string_view p, bool json) : p_(p), json_(json) {}

  Result<std::string> run() {
    if (p_.size() > gl::kMaxPatternBytes) {
      return fail_limit("pattern is longer than " + std::to_string(gl::kMaxPatternBytes) +
                        " bytes (kMaxPatternBytes)");
    }
    if (!p_.empty() && p_[0] == '^') ++pos_;
    std::string out;
    Status st = alternation(0, out);
    if (!st.ok()) return st;
    if (pos_ < p_.size()) {
      if (p_[pos_] == ')') return fail("unbalanced ')'");
      return fail("unexpected '" + std::string(1, p_[pos_]) + "'");
    }
    return "(" + out + " )";
  }

 private:
  Status fail(const std::string& what) const {
    return Status(ErrorCode::invalid_argument,
                  "pattern \"" + std::string(p_.substr(0, 200)) + "\" at offset " +
                      std::to_string(pos_) + ": " + what);
  }
  Status fail_limit(const std::string& what) const {
    return Status(ErrorCode::out_of_range, "pattern: " + what);
  }
  bool at_end() const { return pos_ >= p_.size(); }
  char peek() const { return at_end() ? '\0' : p_[pos_]; }

  // A UTF-8 code point from the pattern.
  Status next_cp(uint32_t& cp) {
    unsigned char c = static_cast<unsigned char>(p_[pos_]);
    int n = c < 0x80 ? 0 : c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : -1;
    if (n < 0 || pos_ + static_cast<size_t>(n) >= p_.size()) return fail("invalid UTF-8");
    cp = n > 0 ? (c & (0x3F >> n)) : c;
    for (int k = 1; k <= n; ++k) {
      unsigned char d = static_cast<unsigned char>(p_[pos_ + static_cast<size_t>(k)]);
      if ((d & 0xC0) != 0x80) return fail("invalid UTF-8");
      cp = (cp << 6) | (d & 0x3F);
    }
    pos_ += static_cast<size_t>(n) + 1;
    return {};
  }

  Status hex(int digits, uint32_t& out) {
    out = 0;
    for (int i = 0; i < digits; ++i) {
      char c = peek();
      int v = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (v < 0) return fail("bad hex escape");
      out = out * 16 + static_cast<uint32_t>(v);
      ++pos_;
    }
    return {};
  }

  // After a backslash: a class escape (sets `set`) or a single character (sets `cp`).
  Status escape(Ranges& set, bool& is_set, uint32_t& cp, bool in_class) {
    if (at_end()) return fail("pattern ends with '\\'");
    char e = p_[pos_++];
    is_set = true;
    switch (e) {
      case 'd': set = kDigit; return {};
      case 'D': set = complement(kDigit); return {};
      case 'w': set = kWord; return {};
      case 'W': set = complement(kWord); return {};
      case 's': set = kSpace; return {};
      case 'S': set = complement(kSpace); return {};
      default: break;
    }
    is_set = false;
    switch (e) {
      case 't': cp = '\t'; return {};
      case 'n': cp = '\n'; return {};
      case 'r': cp = '\r'; return {};
      case 'f': cp = '\f'; return {};
      case 'v': cp = '\v'; return {};
      case '0': cp = 0; return {};
      case 'x': return hex(2, cp);
      case 'u': return hex(4, cp);
      case 'b':
        if (in_class) {
          cp = '\b';
          return {};
        }
        return fail("word boundaries (\\b) are not supported");
      case 'B': return fail("word boundaries (\\B) are not supported");
      default:
        if (e >= '1' && e <= '9') return fail("backreferences are not supported");
        if (e == 'k') return fail("named backreferences are not supported");
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')) {
          return fail(std::string("unknown escape \\") + e);
        }
        cp = static_cast<unsigned char>(e);
        return {};
    }
  }

  // GBNF for a set of code points, as characters of a JSON string body when json_.
  std::string set_gbnf(const Ranges& in) {
    CharClass cls(in, false);
    std::vector<std::string> alts;
    Ranges plain;
    bool quote = false, backslash = false;
    for (auto [lo, hi] : cls.ranges()) {
      if (json_) {
        if (lo <= '"' && '"' <= hi) quote = true;
        if (lo <= '\\' && '\\' <= hi) backslash = true;
        if (hi < 0x20) continue;  // control characters: left out in JSON mode
        if (lo < 0x20) lo = 0x20;
      }
      plain.push_back({lo, hi});
    }
    if (json_) {  // carve out '"' and '\'
      Ranges carved;
      for (auto [lo, hi] : plain) {
        for (uint32_t cut : {uint32_t{'"'}, uint32_t{'\\'}}) {
          if (lo <= cut && cut <= hi) {
            if (lo < cut) carved.push_back({lo, cut - 1});
            lo = cut + 1;
          }
        }
        if (lo <= hi) carved.push_back({lo, hi});
      }
      plain = std::move(carved);
    }
    if (!plain.empty()) {
      Ranges norm = CharClass(plain, false).ranges();
      // Prefer a negated class when it is shorter (e.g. `.`).
      Ranges comp = complement(norm);
      std::string text;
      if (comp.size() < norm.size()) {
        text = "[^";
        for (auto [lo, hi] : comp) append_range(text, lo, hi);
      } else {
        text = "[";
        for (auto [lo, hi] : norm) append_range(text, lo, hi);
      }
      alts.push_back(text + "]");
    }
    if (quote) alts.push_back("\"\\\\\\\"\"");      // GBNF "\\\"" = text \"
    if (backslash) alts.push_back("\"\\\\\\\\\"");  // GBNF "\\\\" = text \\.
    if (alts.empty()) return "";
    if (alts.size() == 1) return alts[0];
    std::string out = "(";
    for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : " ") + alts[i];
    return out + " )";
  }
  static void append_range(std::string& text, uint32_t lo, uint32_t hi) {
    gbnf::append_escaped(text, lo, true);
    if (hi != lo) {
      text += '-';
      gbnf::append_escaped(text, hi, true);
    }
  }

  std::string char_gbnf(uint32_t cp) {
    if (!json_) {
      std::string s = "\"";
      gbnf::append_escaped(s, cp, false);
      return s + "\"";
    }
    return set_gbnf({{cp, cp}});
  }

  Status alternation(int depth, std::string& out) {
    std::vector<std::string> alts;
    for (;;) {
      std::string seq;
      Status st = sequence(depth, seq);
      if (!st.ok()) return st;
      alts.push_back(seq.empty() ? "\"\"" : seq);
      if (peek() != '|') break;
      ++pos_;
    }
    if (alts.size() == 1) {
      out = alts[0];
      return {};
    }
    out = "(";
    for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : " ") + alts[i];
    out += " )";
    return {};
  }

  Status sequence(int depth, std::string& out) {
    while (!at_end() && peek() != '|' && peek() != ')') {
      std::string atom;
      char c = peek();
      if (c == '$') {
        ++pos_;
        if (!at_end() && peek() != '|' && peek() != ')') {
          return fail("'$' is only supported at the end of the pattern");
        }
        continue;
      }
      if (c == '^') return fail("'^' is only supported at the start of the pattern");
      if (c == '*' || c == '+' || c == '?' || c == '{') return fail("nothing to repeat");
      if (c == '(') {
        if (depth + 1 > gl::kMaxPatternDepth) {
          return fail_limit("groups nested deeper than " + std::to_string(gl::kMaxPatternDepth) +
                            " (kMaxPatternDepth)");
        }
        ++pos_;
        if (peek() == '?') {
          ++pos_;
          if (peek() == ':') {
            ++pos_;
          } else if (peek() == '<' && pos_ + 1 < p_.size() && p_[pos_ + 1] != '=' &&
                     p_[pos_ + 1] != '!') {
            while (!at_end() && peek() != '>') ++pos_;
            if (at_end()) return fail("unterminated group name");
            ++pos_;
          } else {
            return fail("lookaround and other (? groups are not supported");
          }
        }
        std::string inner;
        Status st = alternation(depth + 1, inner);
        if (!st.ok()) return st;
        if (peek() != ')') return fail("missing ')'");
        ++pos_;
        atom = "(" + inner + " )";
      } else if (c == '[') {
        Status st = char_class(atom);
        if (!st.ok()) return st;
      } else if (c == '.') {
        ++pos_;
        atom = set_gbnf(complement({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}));
      } else if (c == '\\') {
        ++pos_;
        Ranges set;
        bool is_set;
        uint32_t cp = 0;
        Status st = escape(set, is_set, cp, false);
        if (!st.ok()) return st;
        atom = is_set ? set_gbnf(set) : char_gbnf(cp);
      } else {
        uint32_t cp = 0;
        Status st = next_cp(cp);
        if (!st.ok()) return st;
        atom = char_gbnf(cp);
      }
      if (atom.empty()) atom = "[^\\x00-\\U0010FFFF]";  // an empty set: matches nothing
      Status st = quantifier(atom);
      if (!st.ok()) return st;
      out += (out.empty() ? "" : " ") + atom;
    }
    return {};
  }

  Status char_class(std::string& atom) {
    ++pos_;  // '['
    bool negated = false;
    if (peek() == '^') {
      negated = true;
      ++pos_;
    }
    Ranges set;
    bool first = true;
    while (at_end() || peek() != ']' || first) {
      if (at_end()) return fail("unterminated character class");
      first = false;
      if (peek() == ']') {  // "[]" and "[^]": ']' first is empty class in ECMAScript
        break;
      }
      uint32_t lo = 0;
      bool is_set = false;
      Ranges esc;
      if (peek() == '\\') {
        ++pos_;
        Status st = escape(esc, is_set, lo, true);
        if (!st.ok()) return st;
      } else {
        Status st = next_cp(lo);
        if (!st.ok()) return st;
      }
      if (is_set) {
        set.insert(set.end(), esc.begin(), esc.end());
        continue;
      }
      uint32_t hi = lo;
      if (peek() == '-' && pos_ + 1 < p_.size() && p_[pos_ + 1] != ']') {
        ++pos_;
        if (peek() == '\\') {
          ++pos_;
          Status st = escape(esc, is_set, hi, true);
          if (!st.ok()) return st;
          if (is_set) return fail("class escape as a range end");
        } else {
          Status st = next_cp(hi);
          if (!st.ok()) return st;
        }
        if (hi < lo) return fail("range out of order in character class");
      }
      set.push_back({lo, hi});
    }
    ++pos_;  // ']'
    atom = set_gbnf(negated ? complement(set) : set);
    return {};
  }

  Status count(uint32_t& v) {
    uint64_t x = 0;
    if (!(peek() >= '0' && peek() <= '9')) return fail("expected a number in {}");
    while (peek() >= '0' && peek() <= '9') {
      x = x * 10 + static_cast<uint64_t>(peek() - '0');
      if (x > gl::kMaxRepetition) {
        return fail_limit("repetition bound over " + std::to_string(gl::kMaxRepetition) +
                          " (kMaxRepetition)");
      }
      ++pos_;
    }
    v = static_cast<uint32_t>(x);
    return {};
  }

  Status quantifier(std::string& atom) {
    char c = peek();
    std::string q;
    if (c == '*' || c == '+' || c == '?') {
      ++pos_;
      q = std::string(1, c);
    } else if (c == '{') {
      ++pos_;
      uint32_t m = 0, n = 0;
      Status st = count(m);
      if (!st.ok()) return st;
      q = "{" + std::to_string(m);
      if (peek() == ',') {
        ++pos_;
        q += ",";
        if (peek() != '}') {
          st = count(n);
          if (!st.ok()) return st;
          if (n < m) return fail("numbers out of order in {} quantifier");
          q += std::to_string(n);
        }
      }
      if (peek() != '}') return fail("missing '}'");
      ++pos_;
      q += "}";
    } else {
      return {};
    }
    if (peek() == '?') ++pos_;  // lazy: same language
    if (peek() == '*' || peek() == '+' || peek() == '?' || peek() == '{') {
      return fail("nothing to repeat");
    }
    atom = "(" + atom + " )" + q;
    return {};
  }

  std::string_view p_;
  bool json_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::string> regex_to_gbnf(std::string_view pattern, bool json_string_body) {
  return RegexConverter(pattern, json_string_body).run();
}

}  // namespace agora
