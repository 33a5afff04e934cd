// Strict recursive-descent JSON reader (RFC 8259) with a depth cap.
#include "engine/chat/json_text.h"

#include <cstdlib>

#include "engine/chat/template_limits.h"

namespace agora::chat {
namespace {

struct JsonError {
  std::string message;
  size_t offset;
};

class JsonReader {
 public:
  explicit JsonReader(std::string_view t) : t_(t) {}

  Value value(int depth) {
    if (depth > kMaxJsonDepth) fail("nested deeper than " + std::to_string(kMaxJsonDepth));
    ws();
    if (i_ >= t_.size()) fail("unexpected end of input");
    char c = t_[i_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') return Value::string(string());
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    if (literal("true")) return Value::boolean(true);
    if (literal("false")) return Value::boolean(false);
    if (literal("null")) return Value::none();
    fail(std::string("unexpected character '") + c + "'");
  }
  void ws() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r')) ++i_;
  }
  size_t pos() const { return i_; }
  [[noreturn]] void fail(const std::string& m) const { throw JsonError{m, i_}; }

 private:
  std::string_view t_;
  size_t i_ = 0;

  bool literal(std::string_view w) {
    if (t_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  Value object(int depth) {
    Value d = Value::dict();
    ++i_;
    ws();
    if (i_ < t_.size() && t_[i_] == '}') {
      ++i_;
      return d;
    }
    while (true) {
      ws();
      if (i_ >= t_.size() || t_[i_] != '"') fail("expected a string key");
      std::string k = string();
      ws();
      if (i_ >= t_.size() || t_[i_] != ':') fail("expected ':'");
      ++i_;
      Value v = value(depth + 1);
      d.dict_data().set(std::move(k), std::move(v));
      ws();
      if (i_ < t_.size() && t_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < t_.size() && t_[i_] == '}') {
        ++i_;
        return d;
      }
      fail("expected ',' or '}'");
    }
  }
  Value array(int depth) {
    Value l = Value::list();
    ++i_;
    ws();
    if (i_ < t_.size() && t_[i_] == ']') {
      ++i_;
      return l;
    }
    while (true) {
      l.list_data().items.push_back(value(depth + 1));
      ws();
      if (i_ < t_.size() && t_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < t_.size() && t_[i_] == ']') {
        ++i_;
        return l;
      }
      fail("expected ',' or ']'");
    }
  }
  uint32_t hex4() {
    if (i_ + 4 > t_.size()) fail("truncated \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char h = t_[i_++];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= static_cast<uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') v |= static_cast<uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= static_cast<uint32_t>(h - 'A' + 10);
      else fail("bad \\u escape");
    }
    return v;
  }
  std::string string() {
    ++i_;  // opening quote
    std::string out;
    while (true) {
      if (i_ >= t_.size()) fail("unterminated string");
      char c = t_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= t_.size()) fail("unterminated string");
      char e = t_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xd800 && cp < 0xdc00 && i_ + 1 < t_.size() && t_[i_] == '\\' && t_[i_ + 1] == 'u') {
            size_t save = i_;
            i_ += 2;
            uint32_t lo = hex4();
            if (lo >= 0xdc00 && lo < 0xe000) cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            else i_ = save;
          }
          utf8_append(out, cp);
          break;
        }
        default: fail("bad escape");
      }
    }
  }
  Value number() {
    size_t start = i_;
    if (t_[i_] == '-') ++i_;
    if (i_ >= t_.size() || t_[i_] < '0' || t_[i_] > '9') fail("bad number");
    if (t_[i_] == '0') ++i_;
    else
      while (i_ < t_.size() && t_[i_] >= '0' && t_[i_] <= '9') ++i_;
    bool is_float = false;
    if (i_ < t_.size() && t_[i_] == '.') {
      is_float = true;
      ++i_;
      if (i_ >= t_.size() || t_[i_] < '0' || t_[i_] > '9') fail("bad number");
      while (i_ < t_.size() && t_[i_] >= '0' && t_[i_] <= '9') ++i_;
    }
    if (i_ < t_.size() && (t_[i_] == 'e' || t_[i_] == 'E')) {
      is_float = true;
      ++i_;
      if (i_ < t_.size() && (t_[i_] == '+' || t_[i_] == '-')) ++i_;
      if (i_ >= t_.size() || t_[i_] < '0' || t_[i_] > '9') fail("bad number");
      while (i_ < t_.size() && t_[i_] >= '0' && t_[i_] <= '9') ++i_;
    }
    std::string s(t_.substr(start, i_ - start));
    if (!is_float) {
      errno = 0;
      long long v = std::strtoll(s.c_str(), nullptr, 10);
      if (errno == 0) return Value::integer(v);
    }
    return Value::floating(std::strtod(s.c_str(), nullptr));
  }
};

}  // namespace

Result<Value> parse_json(std::string_view text) {
  JsonReader r(text);
  try {
    Value v = r.value(0);
    r.ws();
    if (r.pos() != text.size()) r.fail("trailing characters after the JSON value");
    return v;
  } catch (const JsonError& e) {
    return Status(ErrorCode::invalid_argument, "invalid JSON at offset " + std::to_string(e.offset) + ": " + e.message);
  }
}

Result<size_t> json_prefix_length(std::string_view text) {
  JsonReader r(text);
  try {
    r.value(0);
    return r.pos();
  } catch (const JsonError& e) {
    return Status(ErrorCode::invalid_argument, "invalid JSON at offset " + std::to_string(e.offset) + ": " + e.message);
  }
}

std::string dump_json(const Value& v) {
  try {
    return to_json(v, JsonDumpOptions{});
  } catch (const TemplateError&) {
    return "null";
  }
}

}  // namespace agora::chat
