// Python str operations on UTF-8 text.
#include "engine/chat/template_strings.h"

#include <algorithm>
#include <cstdio>

#include "engine/chat/template_evaluator.h"

namespace agora::chat {
namespace {

uint32_t upper_cp(uint32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if ((c >= 0xe0 && c <= 0xfe && c != 0xf7)) return c - 32;
  if (c == 0xff) return 0x178;
  if (c >= 0x3b1 && c <= 0x3c9 && c != 0x3c2) return c - 32;
  if (c == 0x3c2) return 0x3a3;
  if (c >= 0x430 && c <= 0x44f) return c - 32;
  if (c >= 0x450 && c <= 0x45f) return c - 80;
  return c;
}
uint32_t lower_cp(uint32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if ((c >= 0xc0 && c <= 0xde && c != 0xd7)) return c + 32;
  if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2) return c + 32;
  if (c >= 0x410 && c <= 0x42f) return c + 32;
  if (c >= 0x400 && c <= 0x40f) return c + 80;
  return c;
}
bool is_alpha_cp(uint32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= 0xc0 && c != 0xd7 && c != 0xf7 && !is_py_space(c));
}
bool is_digit_cp(uint32_t c) { return c >= '0' && c <= '9'; }

std::string map_cps(const std::string& s, uint32_t (*f)(uint32_t)) {
  std::string out;
  for (uint32_t c : utf8_decode(s)) utf8_append(out, f(c));
  return out;
}

}  // namespace

std::string py_strip(const std::string& s, const std::optional<std::string>& chars, bool left, bool right) {
  std::vector<uint32_t> cps = utf8_decode(s);
  std::vector<uint32_t> set;
  if (chars) set = utf8_decode(*chars);
  auto strip_it = [&](uint32_t c) {
    return chars ? std::find(set.begin(), set.end(), c) != set.end() : is_py_space(c);
  };
  size_t b = 0, e = cps.size();
  if (left)
    while (b < e && strip_it(cps[b])) ++b;
  if (right)
    while (e > b && strip_it(cps[e - 1])) --e;
  return utf8_encode(cps, b, e);
}

std::vector<std::string> py_split_whitespace(const std::string& s, int64_t limit, bool from_right) {
  std::vector<uint32_t> cps = utf8_decode(s);
  std::vector<std::string> out;
  if (!from_right) {
    size_t i = 0;
    while (i < cps.size()) {
      while (i < cps.size() && is_py_space(cps[i])) ++i;
      if (i >= cps.size()) break;
      if (limit >= 0 && static_cast<int64_t>(out.size()) == limit) {
        size_t e = cps.size();
        while (e > i && is_py_space(cps[e - 1])) --e;
        out.push_back(utf8_encode(cps, i, e));
        break;
      }
      size_t j = i;
      while (j < cps.size() && !is_py_space(cps[j])) ++j;
      out.push_back(utf8_encode(cps, i, j));
      i = j;
    }
    return out;
  }
  size_t i = cps.size();
  while (i > 0) {
    while (i > 0 && is_py_space(cps[i - 1])) --i;
    if (i == 0) break;
    if (limit >= 0 && static_cast<int64_t>(out.size()) == limit) {
      size_t b = 0;
      while (b < i && is_py_space(cps[b])) ++b;
      out.push_back(utf8_encode(cps, b, i));
      break;
    }
    size_t j = i;
    while (j > 0 && !is_py_space(cps[j - 1])) --j;
    out.push_back(utf8_encode(cps, j, i));
    i = j;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string> py_split(const std::string& s, const std::string& sep, int64_t limit, bool from_right) {
  std::vector<std::string> out;
  if (!from_right) {
    size_t start = 0;
    while (limit < 0 || static_cast<int64_t>(out.size()) < limit) {
      size_t p = s.find(sep, start);
      if (p == std::string::npos) break;
      out.push_back(s.substr(start, p - start));
      start = p + sep.size();
    }
    out.push_back(s.substr(start));
    return out;
  }
  size_t end = s.size();
  while (limit < 0 || static_cast<int64_t>(out.size()) < limit) {
    if (end < sep.size()) break;
    size_t p = s.rfind(sep, end - sep.size());
    if (p == std::string::npos) break;
    out.push_back(s.substr(p + sep.size(), end - p - sep.size()));
    end = p;
  }
  out.push_back(s.substr(0, end));
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string> py_splitlines(const std::string& s, bool keepends) {
  std::vector<std::string> out;
  size_t start = 0, i = 0;
  while (i < s.size()) {
    if (s[i] == '\n' || s[i] == '\r') {
      size_t brk = (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ? 2 : 1;
      out.push_back(s.substr(start, (keepends ? i + brk : i) - start));
      i += brk;
      start = i;
    } else {
      ++i;
    }
  }
  if (start < s.size()) out.push_back(s.substr(start));
  return out;
}

std::string py_upper(const std::string& s) { return map_cps(s, upper_cp); }
std::string py_lower(const std::string& s) { return map_cps(s, lower_cp); }

std::string py_title(const std::string& s) {
  std::string out;
  bool prev_cased = false;
  for (uint32_t c : utf8_decode(s)) {
    bool alpha = is_alpha_cp(c);
    utf8_append(out, alpha ? (prev_cased ? lower_cp(c) : upper_cp(c)) : c);
    prev_cased = alpha;
  }
  return out;
}

std::string py_capitalize(const std::string& s) {
  std::vector<uint32_t> cps = utf8_decode(s);
  std::string out;
  for (size_t i = 0; i < cps.size(); ++i) utf8_append(out, i == 0 ? upper_cp(cps[i]) : lower_cp(cps[i]));
  return out;
}

std::string py_replace(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
  if (from.empty()) {  // Python inserts `to` between every character (and at both ends)
    std::vector<uint32_t> cps = utf8_decode(s);
    std::string out;
    int64_t n = 0;
    for (size_t i = 0; i <= cps.size(); ++i) {
      if (count < 0 || n < count) {
        out += to;
        ++n;
      }
      if (i < cps.size()) utf8_append(out, cps[i]);
    }
    return out;
  }
  std::string out;
  size_t start = 0;
  int64_t n = 0;
  while (count < 0 || n < count) {
    size_t p = s.find(from, start);
    if (p == std::string::npos) break;
    out.append(s, start, p - start);
    out += to;
    start = p + from.size();
    ++n;
  }
  out.append(s, start, std::string::npos);
  return out;
}

bool py_is(const std::string& s, const std::string& what) {
  std::vector<uint32_t> cps = utf8_decode(s);
  if (cps.empty()) return false;
  if (what == "islower" || what == "isupper") {
    bool cased = false;
    for (uint32_t c : cps) {
      bool up = lower_cp(c) != c, low = upper_cp(c) != c;
      if (what == "islower" && up) return false;
      if (what == "isupper" && low) return false;
      cased = cased || up || low;
    }
    return cased;
  }
  for (uint32_t c : cps) {
    bool ok = what == "isspace" ? is_py_space(c)
              : what == "isalpha" ? is_alpha_cp(c)
              : what == "isalnum" ? (is_alpha_cp(c) || is_digit_cp(c))
                                  : is_digit_cp(c);
    if (!ok) return false;
  }
  return true;
}

std::string py_format(Interpreter& in, const std::string& fmt, CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '{') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
        out += '{';
        ++i;
        continue;
      }
      size_t close = fmt.find('}', i);
      if (close == std::string::npos) in.fail("ValueError: Single '{' encountered in format string");
      std::string field = fmt.substr(i + 1, close - i - 1);
      size_t colon = field.find(':');
      if (colon != std::string::npos) {
        if (colon + 1 != field.size()) in.fail("ValueError: format specs are not supported");
        field.resize(colon);
      }
      Value v;
      if (field.empty()) {
        if (auto_index >= args.positional.size()) in.fail("IndexError: Replacement index out of range");
        v = args.positional[auto_index++];
      } else if (std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
        size_t k = std::stoul(field);
        if (k >= args.positional.size()) in.fail("IndexError: Replacement index out of range");
        v = args.positional[k];
      } else {
        bool found = false;
        for (auto& [name, val] : args.keyword)
          if (name == field) {
            v = val;
            found = true;
          }
        if (!found) in.fail("KeyError: '" + field + "'");
      }
      out += to_str(v);
      in.check_size(out.size());
      i = close;
    } else if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') ++i;
      else in.fail("ValueError: Single '}' encountered in format string");
      out += '}';
    } else {
      out += c;
    }
  }
  return out;
}

// printf-style "%" formatting of Python strings: %s %r %d %i %f %%.
std::string py_percent_format(Interpreter& in, const std::string& fmt, const Value& arg) {
  std::vector<Value> args = arg.is_list() && arg.list_data().tuple ? arg.list_data().items : std::vector<Value>{arg};
  std::string out;
  size_t ai = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i >= fmt.size()) in.fail("ValueError: incomplete format");
    char c = fmt[i];
    if (c == '%') {
      out += '%';
      continue;
    }
    if (ai >= args.size()) in.fail("TypeError: not enough arguments for format string");
    const Value& v = args[ai++];
    if (c == 's') out += to_str(v);
    else if (c == 'r') out += to_repr(v);
    else if (c == 'd' || c == 'i') {
      if (!v.is_number()) in.fail("TypeError: %d format: a real number is required");
      out += std::to_string(v.is_float() ? static_cast<int64_t>(v.as_float()) : v.as_int());
    } else if (c == 'f') {
      char b[64];
      std::snprintf(b, sizeof b, "%f", v.as_float());
      out += b;
    } else {
      in.fail(std::string("ValueError: unsupported format character '") + c + "'");
    }
  }
  if (ai < args.size()) in.fail("TypeError: not all arguments converted during string formatting");
  return out;
}

}  // namespace agora::chat
