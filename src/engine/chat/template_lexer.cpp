// Jinja2 lexer: text/tag splitting with whitespace control, then expression tokens in tags.
#include "engine/chat/template_lexer.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "engine/chat/template_value.h"

namespace agora::chat {
namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

class Lexer {
 public:
  Lexer(std::string source, const LexOptions& o) : src_(std::move(source)), opt_(o) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  Result<std::vector<Token>> run() {
    bool line_starting = true;
    size_t pos = 0;
    while (pos < src_.size()) {
      size_t start = find_tag(pos);
      if (start == std::string::npos) {
        emit_text(src_.substr(pos), pos);
        break;
      }
      std::string text = src_.substr(pos, start - pos);
      char kind = src_[start + 1];  // '{', '%' or '#'
      char sign = start + 2 < src_.size() ? src_[start + 2] : '\0';
      if (sign == '-') {
        size_t e = text.size();
        while (e > 0 && is_ws(text[e - 1])) --e;
        text.resize(e);
      } else if (sign != '+' && opt_.lstrip_blocks && kind != '{') {
        size_t nl = text.rfind('\n');
        size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
        if (l_pos > 0 || line_starting) {
          bool only_blank = true;
          for (size_t i = l_pos; i < text.size(); ++i)
            if (text[i] != ' ' && text[i] != '\t') only_blank = false;
          if (only_blank) text.resize(l_pos);
        }
      }
      emit_text(text, pos);
      size_t inner = start + 2 + ((sign == '-' || sign == '+') ? 1 : 0);
      size_t end;
      if (kind == '#') {
        size_t close = src_.find("#}", inner > start + 2 ? start + 2 : inner);
        if (close == std::string::npos) return fail(start, "Missing end of comment tag");
        end = close + 2;
        char before = close > start + 2 ? src_[close - 1] : '\0';
        end = after_tag_end(end, before == '-' && close - 1 >= inner, before == '+' && close - 1 >= inner);
      } else if (kind == '%' && is_raw(inner)) {
        auto r = lex_raw(start, inner);
        if (!r.ok()) return r.status();
        end = *r;
      } else {
        auto r = lex_tag(start, inner, kind);
        if (!r.ok()) return r.status();
        end = *r;
      }
      line_starting = end > 0 && src_[end - 1] == '\n';
      pos = end;
    }
    Token eof;
    eof.type = TokenType::eof;
    position(src_.size(), eof);
    tokens_.push_back(eof);
    return std::move(tokens_);
  }

 private:
  std::string src_;
  LexOptions opt_;
  std::vector<Token> tokens_;
  std::vector<size_t> line_starts_;

  size_t find_tag(size_t pos) const {
    for (size_t i = src_.find('{', pos); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string::npos;
  }

  void position(size_t offset, Token& t) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    size_t line = static_cast<size_t>(it - line_starts_.begin());  // >= 1
    t.line = static_cast<int>(line);
    t.col = static_cast<int>(offset - line_starts_[line - 1] + 1);
  }

  Status fail(size_t offset, const std::string& msg) const {
    Token t;
    position(offset, t);
    return Status(ErrorCode::invalid_argument,
                  "template syntax error at line " + std::to_string(t.line) + ", column " +
                      std::to_string(t.col) + ": " + msg);
  }

  void emit_text(const std::string& text, size_t offset) {
    if (text.empty()) return;
    if (!tokens_.empty() && tokens_.back().type == TokenType::text) {
      tokens_.back().value += text;
      return;
    }
    Token t;
    t.type = TokenType::text;
    t.value = text;
    position(offset, t);
    tokens_.push_back(std::move(t));
  }

  // Position after a tag's closing delimiter, applying `-` (strip all following whitespace),
  // `+` (keep) or trim_blocks (drop one newline; block and comment tags only).
  size_t after_tag_end(size_t end, bool minus, bool plus, bool is_block = true) const {
    if (minus) {
      while (end < src_.size() && is_ws(src_[end])) ++end;
    } else if (!plus && is_block && opt_.trim_blocks && end < src_.size() && src_[end] == '\n') {
      ++end;
    }
    return end;
  }

  bool is_raw(size_t inner) const {
    size_t i = inner;
    while (i < src_.size() && is_ws(src_[i])) ++i;
    if (src_.compare(i, 3, "raw") != 0) return false;
    i += 3;
    while (i < src_.size() && is_ws(src_[i])) ++i;
    if (i < src_.size() && src_[i] == '-') ++i;
    return src_.compare(i, 2, "%}") == 0;
  }

  Result<size_t> lex_raw(size_t start, size_t inner) {
    size_t close = src_.find("%}", inner);
    bool minus = close > 0 && src_[close - 1] == '-';
    size_t body = after_tag_end(close + 2, minus, false);
    // Find {%[-+]? endraw [-]?%}
    for (size_t i = src_.find("{%", body); i != std::string::npos; i = src_.find("{%", i + 2)) {
      size_t j = i + 2;
      char sign = j < src_.size() ? src_[j] : '\0';
      if (sign == '-' || sign == '+') ++j;
      while (j < src_.size() && is_ws(src_[j])) ++j;
      if (src_.compare(j, 6, "endraw") != 0) continue;
      j += 6;
      while (j < src_.size() && is_ws(src_[j])) ++j;
      bool end_minus = false;
      if (j < src_.size() && src_[j] == '-') {
        end_minus = true;
        ++j;
      }
      if (src_.compare(j, 2, "%}") != 0) continue;
      std::string text = src_.substr(body, i - body);
      if (sign == '-') {
        while (!text.empty() && is_ws(text.back())) text.pop_back();
      }
      emit_text(text, body);
      return after_tag_end(j + 2, end_minus, false);
    }
    return fail(start, "Missing end of raw directive");
  }

  Result<size_t> lex_tag(size_t start, size_t i, char kind) {
    Token begin;
    begin.type = kind == '{' ? TokenType::var_begin : TokenType::block_begin;
    position(start, begin);
    tokens_.push_back(begin);
    const char close = kind == '{' ? '}' : '%';
    int depth = 0;  // open (, [, { inside the tag: their closers are operators, not tag ends
    while (true) {
      while (i < src_.size() && is_ws(src_[i])) ++i;
      if (i >= src_.size()) return fail(start, kind == '{' ? "unexpected end of template, expected '}}'" : "unexpected end of template, expected '%}'");
      if (depth == 0) {
        bool minus = src_[i] == '-' && src_.compare(i + 1, 2, std::string{close, '}'}) == 0;
        bool plus = kind == '%' && src_[i] == '+' && src_.compare(i + 1, 2, "%}") == 0;
        if (minus || plus || src_.compare(i, 2, std::string{close, '}'}) == 0) {
          Token t;
          t.type = kind == '{' ? TokenType::var_end : TokenType::block_end;
          position(i, t);
          tokens_.push_back(t);
          size_t end = i + 2 + ((minus || plus) ? 1 : 0);
          return after_tag_end(end, minus, plus, kind == '%');
        }
      }
      Token t;
      position(i, t);
      char c = src_[i];
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t j = i;
        while (j < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[j])) || src_[j] == '_')) ++j;
        t.type = TokenType::name;
        t.value = src_.substr(i, j - i);
        i = j;
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        auto r = lex_number(i, t);
        if (!r.ok()) return r.status();
        i = *r;
      } else if (c == '\'' || c == '"') {
        auto r = lex_string(i, t);
        if (!r.ok()) return r.status();
        i = *r;
      } else {
        static const char* two[] = {"//", "**", "==", "!=", ">=", "<="};
        std::string op;
        for (const char* o : two)
          if (src_.compare(i, 2, o) == 0) op = o;
        if (op.empty()) {
          if (std::string_view("+-/*%~[](){}><=.:|,;!").find(c) == std::string_view::npos)
            return fail(i, std::string("unexpected char '") + c + "'");
          op = std::string(1, c);
        }
        if (op == "(" || op == "[" || op == "{") ++depth;
        if (op == ")" || op == "]" || op == "}") {
          if (depth == 0) return fail(i, "unexpected '" + op + "'");
          --depth;
        }
        t.type = TokenType::op;
        t.value = op;
        i += op.size();
      }
      tokens_.push_back(std::move(t));
    }
  }

  Result<size_t> lex_number(size_t i, Token& t) {
    size_t j = i;
    auto digits = [&](size_t k) {
      while (k < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[k])) || (src_[k] == '_' && k + 1 < src_.size() && std::isdigit(static_cast<unsigned char>(src_[k + 1]))))) ++k;
      return k;
    };
    j = digits(j);
    bool is_float = false;
    bool after_dot = i > 0 && src_[i - 1] == '.';  // `a.0.1` is two getitems, not a float
    if (!after_dot && j + 1 < src_.size() && src_[j] == '.' && std::isdigit(static_cast<unsigned char>(src_[j + 1]))) {
      is_float = true;
      j = digits(j + 1);
    }
    if (!after_dot && j < src_.size() && (src_[j] == 'e' || src_[j] == 'E')) {
      size_t k = j + 1;
      if (k < src_.size() && (src_[k] == '+' || src_[k] == '-')) ++k;
      if (k < src_.size() && std::isdigit(static_cast<unsigned char>(src_[k]))) {
        is_float = true;
        j = digits(k);
      }
    }
    std::string text;
    for (size_t k = i; k < j; ++k)
      if (src_[k] != '_') text += src_[k];
    if (is_float) {
      t.type = TokenType::floating;
      t.float_value = std::strtod(text.c_str(), nullptr);
    } else {
      t.type = TokenType::integer;
      auto r = std::from_chars(text.data(), text.data() + text.size(), t.int_value);
      if (r.ec != std::errc()) return fail(i, "integer literal too large");
    }
    return j;
  }

  Result<size_t> lex_string(size_t i, Token& t) {
    char q = src_[i];
    std::string out;
    size_t j = i + 1;
    while (j < src_.size() && src_[j] != q) {
      char c = src_[j];
      if (c != '\\' || j + 1 >= src_.size()) {
        out += c;
        ++j;
        continue;
      }
      char e = src_[j + 1];
      j += 2;
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '0': out += '\0'; break;
        case '\n': break;  // line continuation
        case 'x':
        case 'u':
        case 'U': {
          size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (j + n > src_.size()) return fail(j, "truncated \\" + std::string(1, e) + " escape");
          uint32_t cp = 0;
          for (size_t k = 0; k < n; ++k) {
            char h = src_[j + k];
            if (!std::isxdigit(static_cast<unsigned char>(h))) return fail(j, "bad escape");
            cp = cp * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
          }
          if (cp > 0x10ffff) return fail(j, "bad escape");
          utf8_append(out, cp);
          j += n;
          break;
        }
        default:
          out += '\\';
          out += e;
      }
    }
    if (j >= src_.size()) return fail(i, "unterminated string");
    t.type = TokenType::string;
    t.value = std::move(out);
    return j + 1;
  }
};

std::string normalize_source(std::string_view source, const LexOptions& o) {
  std::string s;
  s.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      s += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      s += source[i];
    }
  }
  if (!o.keep_trailing_newline && !s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

}  // namespace

Result<std::vector<Token>> tokenize(std::string_view source, const LexOptions& options) {
  Lexer lexer(normalize_source(source, options), options);
  return lexer.run();
}

}  // namespace agora::chat
