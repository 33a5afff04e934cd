// GBNF recursive-descent parser. Recursion depth is bounded by kMaxNestingDepth (nested groups);
// everything else is a loop. Repetitions are lowered to generated rules here:
//   X*      -> r ::= X r | ""            X+ -> X r, with r as for X*
//   X?      -> r ::= X | ""
//   X{m,n}  -> X (m times) o_k, o_k ::= X o_(k-1) | "" (k = n - m; tail references keep the
//              matcher's stack flat), X{m,} -> X (m times) X*
// where X is always a single element (multi-element items are wrapped in a rule first).
#include "engine/grammar/gbnf_parser.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "engine/grammar/grammar_limits.h"

namespace agora {

namespace gl = grammar_limits;

namespace {

using Sequence = GrammarBuilder::Sequence;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

class GbnfParser {
 public:
  explicit GbnfParser(std::string_view src) : src_(src) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i) {
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  Result<Grammar> run(std::string_view root) {
    for (;;) {
      skip_space(true);
      if (at_end()) break;
      Status st = parse_rule();
      if (!st.ok()) return st;
    }
    return builder_.finish(root);
  }

 private:
  // ---- positions and errors ----
  SourcePos pos_at(size_t off) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), off);
    size_t line_start = *(it - 1);
    uint32_t col = 1;
    for (size_t i = line_start; i < off && i < src_.size(); ++i) {
      if ((static_cast<unsigned char>(src_[i]) & 0xC0) != 0x80) ++col;
    }
    return {static_cast<uint32_t>(it - line_starts_.begin()), col};
  }
  Status error(size_t off, const std::string& what) const {
    return Status(ErrorCode::invalid_argument, to_string(pos_at(off)) + ": " + what);
  }
  Status limit_error(size_t off, const std::string& what) const {
    return Status(ErrorCode::out_of_range, to_string(pos_at(off)) + ": " + what);
  }
  bool at_end() const { return pos_ >= src_.size(); }
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0';
  }

  // Skips blanks and comments; newlines only when `newlines` is set.
  void skip_space(bool newlines) {
    while (!at_end()) {
      char c = src_[pos_];
      if (c == ' ' || c == '\t' || (newlines && (c == '\n' || c == '\r'))) {
        ++pos_;
      } else if (c == '#') {
        while (!at_end() && src_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  // At top level a rule may continue on the next line when that line starts with '|'.
  bool continues_on_next_line() {
    size_t save = pos_;
    skip_space(true);
    if (peek() == '|') return true;
    pos_ = save;
    return false;
  }

  std::string_view parse_name() {
    size_t start = pos_;
    while (!at_end() && is_name_char(src_[pos_])) ++pos_;
    return src_.substr(start, pos_ - start);
  }

  // Decodes one UTF-8 code point of the source; nullopt on malformed input.
  std::optional<uint32_t> decode_source_char() {
    unsigned char c0 = static_cast<unsigned char>(src_[pos_]);
    if (c0 < 0x80) {
      ++pos_;
      return c0;
    }
    int n = c0 >= 0xF0 ? 3 : c0 >= 0xE0 ? 2 : c0 >= 0xC0 ? 1 : -1;
    if (n < 0 || c0 > 0xF4 || pos_ + n >= src_.size()) return std::nullopt;
    uint32_t cp = c0 & (0x3F >> n);
    for (int i = 1; i <= n; ++i) {
      unsigned char c = static_cast<unsigned char>(src_[pos_ + i]);
      if ((c & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (c & 0x3F);
    }
    static const uint32_t kMin[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    pos_ += n + 1;
    return cp;
  }

  Status parse_hex(int digits, uint32_t& out) {
    size_t start = pos_;
    out = 0;
    for (int i = 0; i < digits; ++i) {
      char c = peek();
      int v = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (v < 0) return error(start, "expected " + std::to_string(digits) + " hex digits");
      out = out * 16 + static_cast<uint32_t>(v);
      ++pos_;
    }
    if (out > 0x10FFFF || (out >= 0xD800 && out <= 0xDFFF)) {
      return error(start, "escape is not a Unicode scalar value");
    }
    return {};
  }

  // One (possibly escaped) character of a literal or class.
  Status parse_char(uint32_t& cp) {
    size_t start = pos_;
    if (at_end()) return error(start, "unexpected end of input");
    if (peek() != '\\') {
      auto c = decode_source_char();
      if (!c) return error(start, "invalid UTF-8 in grammar text");
      cp = *c;
      return {};
    }
    ++pos_;
    char e = peek();
    ++pos_;
    switch (e) {
      case 'n': cp = '\n'; return {};
      case 'r': cp = '\r'; return {};
      case 't': cp = '\t'; return {};
      case '0': cp = 0; return {};
      case 'x': return parse_hex(2, cp);
      case 'u': return parse_hex(4, cp);
      case 'U': return parse_hex(8, cp);
      case '\\': case '"': case '\'': case '[': case ']': case '-': case '^': case '/': case '.':
        cp = static_cast<uint32_t>(e);
        return {};
      default:
        return error(start, std::string("unknown escape '\\") + (e ? std::string(1, e) : "") +
                                "'");
    }
  }

  Status parse_rule() {
    size_t start = pos_;
    std::string_view name = parse_name();
    if (name.empty()) {
      return error(start, std::string("expected a rule name, found '") + peek() + "'");
    }
    SourcePos where = pos_at(start);
    skip_space(false);
    if (src_.substr(pos_, 3) != "::=") {
      return error(pos_, "expected '::=' after rule name '" + std::string(name) + "'");
    }
    pos_ += 3;
    skip_space(true);
    auto id = builder_.rule_id(name, where);
    if (!id.ok()) return id.status();
    std::vector<Sequence> alts;
    Status st = parse_alternates(0, alts);
    if (!st.ok()) return st;
    if (!at_end() && peek() != '\n' && peek() != '\r') {
      return error(pos_, std::string("unexpected '") + peek() + "' after rule '" +
                             std::string(name) + "'");
    }
    return builder_.define(*id, std::move(alts), where);
  }

  // alternates := sequence ('|' sequence)*. `depth` counts enclosing groups.
  Status parse_alternates(int depth, std::vector<Sequence>& alts) {
    for (;;) {
      Sequence seq;
      Status st = parse_sequence(depth, seq);
      if (!st.ok()) return st;
      alts.push_back(std::move(seq));
      if (depth == 0 && (peek() == '\n' || peek() == '\r' || peek() == '#')) {
        if (!continues_on_next_line()) return {};
      }
      if (peek() != '|') return {};
      ++pos_;
      skip_space(true);
    }
  }

  Status parse_sequence(int depth, Sequence& seq) {
    const bool nested = depth > 0;
    for (;;) {
      skip_space(nested);
      size_t item_start = pos_;
      char c = peek();
      Sequence item;
      if (c == '"') {
        ++pos_;
        while (peek() != '"') {
          if (at_end() || peek() == '\n') return error(item_start, "unterminated string literal");
          uint32_t cp;
          Status st = parse_char(cp);
          if (!st.ok()) return st;
          auto el = builder_.chars(CharClass::single(cp));
          if (!el.ok()) return el.status();
          item.push_back(*el);
        }
        ++pos_;
      } else if (c == '[') {
        ++pos_;
        bool negated = false;
        if (peek() == '^') {
          negated = true;
          ++pos_;
        }
        std::vector<std::pair<uint32_t, uint32_t>> ranges;
        while (peek() != ']') {
          if (at_end()) return error(item_start, "unterminated character class");
          uint32_t lo, hi;
          Status st = parse_char(lo);
          if (!st.ok()) return st;
          hi = lo;
          if (peek() == '-' && peek(1) != ']' && pos_ + 1 < src_.size()) {
            ++pos_;
            size_t range_at = pos_;
            st = parse_char(hi);
            if (!st.ok()) return st;
            if (hi < lo) return error(range_at, "character range end is before its start");
          }
          ranges.push_back({lo, hi});
        }
        ++pos_;
        auto el = builder_.chars(CharClass(std::move(ranges), negated));
        if (!el.ok()) return el.status();
        item.push_back(*el);
      } else if (c == '.') {
        ++pos_;
        auto el = builder_.chars(CharClass::any());
        if (!el.ok()) return el.status();
        item.push_back(*el);
      } else if (c == '(') {
        if (depth + 1 > gl::kMaxNestingDepth) {
          return limit_error(pos_, "groups nested deeper than " +
                                       std::to_string(gl::kMaxNestingDepth) +
                                       " (kMaxNestingDepth)");
        }
        ++pos_;
        skip_space(true);
        std::vector<Sequence> alts;
        Status st = parse_alternates(depth + 1, alts);
        if (!st.ok()) return st;
        skip_space(true);
        if (peek() != ')') return error(pos_, "expected ')' to close the group");
        ++pos_;
        if (alts.size() == 1) {
          item = std::move(alts[0]);
        } else {
          auto id = builder_.generated_rule("group", pos_at(item_start));
          if (!id.ok()) return id.status();
          st = builder_.define(*id, std::move(alts), pos_at(item_start));
          if (!st.ok()) return st;
          item.push_back(builder_.ref(*id));
        }
      } else if (is_name_char(c)) {
        std::string_view name = parse_name();
        // A name followed by '::=' starts the next rule: that needs a newline first.
        size_t save = pos_;
        skip_space(false);
        if (src_.substr(pos_, 3) == "::=") {
          return error(item_start, "rule '" + std::string(name) +
                                       "' starts on the same line as the previous rule");
        }
        pos_ = save;
        auto id = builder_.rule_id(name, pos_at(item_start));
        if (!id.ok()) return id.status();
        item.push_back(builder_.ref(*id));
      } else if (c == '<') {
        return error(pos_, "token references (<...>) are not supported");
      } else {
        return {};  // end of sequence: '|', ')', newline, end of input, or an error for the caller
      }
      skip_space(nested);
      Status st = apply_postfix(item, item_start);
      if (!st.ok()) return st;
      seq.insert(seq.end(), item.begin(), item.end());
      if (builder_.n_elements() + seq.size() > gl::kMaxElements) {
        return limit_error(item_start, "grammar compiles to more than " +
                                           std::to_string(gl::kMaxElements) +
                                           " elements (kMaxElements)");
      }
    }
  }

  Status parse_count(uint32_t& out) {
    size_t start = pos_;
    uint64_t v = 0;
    if (!(peek() >= '0' && peek() <= '9')) return error(start, "expected a number");
    while (peek() >= '0' && peek() <= '9') {
      v = v * 10 + static_cast<uint64_t>(peek() - '0');
      if (v > gl::kMaxRepetition) {
        return limit_error(start, "repetition count exceeds " +
                                      std::to_string(gl::kMaxRepetition) + " (kMaxRepetition)");
      }
      ++pos_;
    }
    out = static_cast<uint32_t>(v);
    return {};
  }

  // Applies any postfix operators after `item` (loops, so `x**` is allowed and harmless).
  Status apply_postfix(Sequence& item, size_t item_start) {
    for (;;) {
      char c = peek();
      if (c != '*' && c != '+' && c != '?' && c != '{') return {};
      size_t op_at = pos_;
      uint32_t min = 0, max = UINT32_MAX;  // UINT32_MAX: unbounded
      ++pos_;
      if (c == '+') min = 1;
      if (c == '?') max = 1;
      if (c == '{') {
        skip_space(false);
        if (peek() != ',') {
          Status st = parse_count(min);
          if (!st.ok()) return st;
          max = min;
        }
        skip_space(false);
        if (peek() == ',') {
          ++pos_;
          skip_space(false);
          max = UINT32_MAX;
          if (peek() != '}') {
            Status st = parse_count(max);
            if (!st.ok()) return st;
          }
        }
        skip_space(false);
        if (peek() != '}') return error(pos_, "expected '}' to close the repetition");
        ++pos_;
        if (max < min) return error(op_at, "repetition maximum is below its minimum");
      }
      if (item.empty()) continue;  // ""* is still ""
      Status st = repeat(item, min, max, pos_at(item_start));
      if (!st.ok()) return st;
    }
  }

  Status repeat(Sequence& item, uint32_t min, uint32_t max, SourcePos where) {
    if (item.size() > 1) {  // make X a single element
      auto id = builder_.generated_rule("seq", where);
      if (!id.ok()) return id.status();
      Status st = builder_.define(*id, {item}, where);
      if (!st.ok()) return st;
      item = {builder_.ref(*id)};
    }
    const GrammarElement x = item[0];
    if (static_cast<uint64_t>(min) + (max == UINT32_MAX ? 2 : max - min) * 3 + builder_.n_elements() >
        gl::kMaxElements) {
      return Status(ErrorCode::out_of_range, to_string(where) +
                                                 ": repetition compiles to more than " +
                                                 std::to_string(gl::kMaxElements) +
                                                 " elements (kMaxElements)");
    }
    Sequence out(min, x);
    if (max == UINT32_MAX) {
      auto id = builder_.generated_rule("star", where);
      if (!id.ok()) return id.status();
      Status st = builder_.define(*id, {{x, builder_.ref(*id)}, {}}, where);
      if (!st.ok()) return st;
      out.push_back(builder_.ref(*id));
    } else if (max > min) {
      std::optional<uint32_t> inner;
      for (uint32_t k = 0; k < max - min; ++k) {
        auto id = builder_.generated_rule("opt", where);
        if (!id.ok()) return id.status();
        Sequence body{x};
        if (inner) body.push_back(builder_.ref(*inner));
        Status st = builder_.define(*id, {body, {}}, where);
        if (!st.ok()) return st;
        inner = *id;
      }
      out.push_back(builder_.ref(*inner));
    }
    item = std::move(out);
    return {};
  }

  std::string_view src_;
  size_t pos_ = 0;
  std::vector<size_t> line_starts_;
  GrammarBuilder builder_;
};

}  // namespace

Result<Grammar> parse_gbnf(std::string_view text, std::string_view root_rule) {
  if (text.size() > gl::kMaxGrammarBytes) {
    return Result<Grammar>(ErrorCode::out_of_range,
                           "grammar text is " + std::to_string(text.size()) +
                               " bytes, over the limit of " +
                               std::to_string(gl::kMaxGrammarBytes) + " (kMaxGrammarBytes)");
  }
  return GbnfParser(text).run(root_rule);
}

}  // namespace agora
