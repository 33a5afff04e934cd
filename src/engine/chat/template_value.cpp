// Value: construction, truthiness, str/repr/json conversion, equality and ordering.
#include "engine/chat/template_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace agora::chat {

void throw_error(std::string message) { throw TemplateError{std::move(message)}; }

// ---- DictData --------------------------------------------------------------------------------
const Value* DictData::find(std::string_view key) const {
  for (const auto& [k, v] : entries)
    if (k == key) return &v;
  return nullptr;
}
Value* DictData::find(std::string_view key) {
  for (auto& [k, v] : entries)
    if (k == key) return &v;
  return nullptr;
}
void DictData::set(std::string key, Value value) {
  if (Value* v = find(key)) {
    *v = std::move(value);
    return;
  }
  entries.emplace_back(std::move(key), std::move(value));
}

// ---- construction ----------------------------------------------------------------------------
Value Value::undefined(std::string hint) {
  Value v;
  v.s_ = std::move(hint);
  return v;
}
Value Value::none() {
  Value v;
  v.kind_ = ValueKind::none;
  return v;
}
Value Value::boolean(bool b) {
  Value v;
  v.kind_ = ValueKind::boolean;
  v.b_ = b;
  return v;
}
Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = ValueKind::integer;
  v.i_ = i;
  return v;
}
Value Value::floating(double f) {
  Value v;
  v.kind_ = ValueKind::floating;
  v.f_ = f;
  return v;
}
Value Value::string(std::string s, bool safe) {
  Value v;
  v.kind_ = ValueKind::string;
  v.s_ = std::move(s);
  v.safe_ = safe;
  return v;
}
Value Value::list(std::vector<Value> items, bool tuple) {
  Value v;
  v.kind_ = ValueKind::list;
  v.list_ = std::make_shared<ListData>();
  v.list_->items = std::move(items);
  v.list_->tuple = tuple;
  return v;
}
Value Value::dict() {
  Value v;
  v.kind_ = ValueKind::dict;
  v.dict_ = std::make_shared<DictData>();
  return v;
}
Value Value::callable(std::string name, NativeFn fn) {
  Value v;
  v.kind_ = ValueKind::callable;
  v.fn_ = std::make_shared<CallableData>(CallableData{std::move(name), std::move(fn), {}});
  return v;
}
Value Value::bound_method(std::string name, NativeFn fn, const Value& self) {
  Value v = callable(std::move(name), std::move(fn));
  v.fn_->bound.push_back(self);
  return v;
}
Value Value::make_namespace() {
  Value v;
  v.kind_ = ValueKind::ns;
  v.dict_ = std::make_shared<DictData>();
  return v;
}

bool Value::truthy() const {
  switch (kind_) {
    case ValueKind::undefined:
    case ValueKind::none: return false;
    case ValueKind::boolean: return b_;
    case ValueKind::integer: return i_ != 0;
    case ValueKind::floating: return f_ != 0.0;
    case ValueKind::string: return !s_.empty();
    case ValueKind::list: return list_->generator || !list_->items.empty();
    case ValueKind::dict: return !dict_->entries.empty();
    case ValueKind::callable:
    case ValueKind::ns: return true;
  }
  return false;
}

std::string Value::type_name() const {
  switch (kind_) {
    case ValueKind::undefined: return "Undefined";
    case ValueKind::none: return "NoneType";
    case ValueKind::boolean: return "bool";
    case ValueKind::integer: return "int";
    case ValueKind::floating: return "float";
    case ValueKind::string: return safe_ ? "Markup" : "str";
    case ValueKind::list: return list_->generator ? "generator" : (list_->tuple ? "tuple" : "list");
    case ValueKind::dict: return "dict";
    case ValueKind::callable: return "function";
    case ValueKind::ns: return "Namespace";
  }
  return "object";
}

Value CallArgs::get(size_t index, std::string_view name) const {
  for (const auto& [k, v] : keyword)
    if (k == name) return v;
  if (index < positional.size()) return positional[index];
  return Value::undefined(std::string(name));
}
bool CallArgs::has(size_t index, std::string_view name) const {
  for (const auto& kv : keyword)
    if (kv.first == name) return true;
  return index < positional.size();
}

// ---- UTF-8 -----------------------------------------------------------------------------------
std::vector<uint32_t> utf8_decode(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) {  // invalid byte: keep it as a code point of its own
      out.push_back(c);
      ++i;
      continue;
    }
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    bool bad = false;
    for (int k = 1; k < n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 2) bad = true;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (bad) {
      out.push_back(c);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += n;
  }
  return out;
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

std::string utf8_encode(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end && i < cps.size(); ++i) utf8_append(out, cps[i]);
  return out;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++n;
  return n;
}

bool is_py_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

// ---- str / repr ------------------------------------------------------------------------------
std::string float_repr(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  if (f == 0) return std::signbit(f) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // e.g. "-1.2345e+02"
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t e = sci.find('e');
  std::string mant = sci.substr(0, e);
  int exp = std::stoi(sci.substr(e + 1));
  std::string digits;
  for (char c : mant)
    if (c != '.') digits += c;
  std::string out = neg ? "-" : "";
  if (exp >= -5 && exp < 16) {  // Python repr: fixed notation when -4 <= exp < 16
    if (exp < -4) goto scientific;
    if (exp < 0) {
      out += "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    } else if (static_cast<int>(digits.size()) <= exp + 1) {
      out += digits + std::string(static_cast<size_t>(exp + 1 - static_cast<int>(digits.size())), '0') + ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(exp + 1)) + "." + digits.substr(static_cast<size_t>(exp + 1));
    }
    return out;
  }
scientific:
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char eb[16];
  std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  return out + eb;
}

static std::string repr_string(const std::string& s) {
  bool has_single = s.find('\'') != std::string::npos;
  bool has_double = s.find('"') != std::string::npos;
  char q = has_single && !has_double ? '"' : '\'';
  std::string out(1, q);
  for (uint32_t cp : utf8_decode(s)) {
    if (cp == static_cast<uint32_t>(q) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp == 0xad) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", cp);
      out += b;
    } else {
      utf8_append(out, cp);
    }
  }
  out += q;
  return out;
}

static void check_depth(int depth, int cap) {
  if (depth > cap) throw_error("RecursionError: value nested deeper than " + std::to_string(cap));
}

static std::string repr_impl(const Value& v, int depth, int cap, bool top_str);

static std::string repr_impl(const Value& v, int depth, int cap, bool top_str) {
  check_depth(depth, cap);
  switch (v.kind()) {
    case ValueKind::undefined: return "";
    case ValueKind::none: return "None";
    case ValueKind::boolean: return v.as_bool() ? "True" : "False";
    case ValueKind::integer: return std::to_string(v.as_int());
    case ValueKind::floating: return float_repr(v.as_float());
    case ValueKind::string: return top_str ? v.str() : repr_string(v.str());
    case ValueKind::list: {
      const auto& l = v.list_data();
      if (l.generator) return "<generator object>";
      std::string out = l.tuple ? "(" : "[";
      for (size_t i = 0; i < l.items.size(); ++i) {
        if (i) out += ", ";
        out += repr_impl(l.items[i], depth + 1, cap, false);
      }
      if (l.tuple && l.items.size() == 1) out += ",";
      out += l.tuple ? ")" : "]";
      return out;
    }
    case ValueKind::dict: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, val] : v.dict_data().entries) {
        if (!first) out += ", ";
        first = false;
        out += repr_string(k) + ": " + repr_impl(val, depth + 1, cap, false);
      }
      return out + "}";
    }
    case ValueKind::callable: return "<function " + v.callable_data().name + ">";
    case ValueKind::ns: return "<Namespace>";
  }
  return "";
}

std::string to_str(const Value& v, int depth_cap) { return repr_impl(v, 0, depth_cap, true); }
std::string to_repr(const Value& v, int depth_cap) { return repr_impl(v, 0, depth_cap, false); }

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// ---- JSON ------------------------------------------------------------------------------------
static void json_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out += '"';
  for (uint32_t cp : utf8_decode(s)) {
    switch (cp) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (cp < 0x20 || (ensure_ascii && cp >= 0x7f)) {
          char b[16];
          if (cp >= 0x10000) {
            uint32_t c = cp - 0x10000;
            std::snprintf(b, sizeof b, "\\u%04x\\u%04x", 0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff));
          } else {
            std::snprintf(b, sizeof b, "\\u%04x", cp);
          }
          out += b;
        } else {
          utf8_append(out, cp);
        }
    }
  }
  out += '"';
}

static void json_impl(std::string& out, const Value& v, const JsonDumpOptions& o, int depth, int cap) {
  check_depth(depth, cap);
  auto newline = [&](int level) {
    if (!o.has_indent) return;
    out += '\n';
    for (int i = 0; i < level; ++i) out += o.indent_str;
  };
  switch (v.kind()) {
    case ValueKind::none: out += "null"; return;
    case ValueKind::boolean: out += v.as_bool() ? "true" : "false"; return;
    case ValueKind::integer: out += std::to_string(v.as_int()); return;
    case ValueKind::floating: {
      double f = v.as_float();
      if (std::isnan(f)) out += "NaN";
      else if (std::isinf(f)) out += f > 0 ? "Infinity" : "-Infinity";
      else out += float_repr(f);
      return;
    }
    case ValueKind::string: json_string(out, v.str(), o.ensure_ascii); return;
    case ValueKind::list: {
      const auto& l = v.list_data();
      if (l.generator) throw_error("TypeError: Object of type generator is not JSON serializable");
      if (l.items.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < l.items.size(); ++i) {
        if (i) out += o.item_sep;
        newline(depth + 1);
        json_impl(out, l.items[i], o, depth + 1, cap);
      }
      newline(depth);
      out += ']';
      return;
    }
    case ValueKind::dict: {
      const auto& entries = v.dict_data().entries;
      if (entries.empty()) {
        out += "{}";
        return;
      }
      std::vector<size_t> order(entries.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      if (o.sort_keys)
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t a, size_t b) { return entries[a].first < entries[b].first; });
      out += '{';
      for (size_t i = 0; i < order.size(); ++i) {
        if (i) out += o.item_sep;
        newline(depth + 1);
        json_string(out, entries[order[i]].first, o.ensure_ascii);
        out += o.key_sep;
        json_impl(out, entries[order[i]].second, o, depth + 1, cap);
      }
      newline(depth);
      out += '}';
      return;
    }
    default: throw_error("TypeError: Object of type " + v.type_name() + " is not JSON serializable");
  }
}

std::string to_json(const Value& v, const JsonDumpOptions& opt, int depth_cap) {
  std::string out;
  json_impl(out, v, opt, 0, depth_cap);
  return out;
}

// ---- comparison ------------------------------------------------------------------------------
bool values_equal(const Value& a, const Value& b, int depth) {
  check_depth(depth, 256);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() == b.as_float();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case ValueKind::undefined:
    case ValueKind::none: return true;
    case ValueKind::string: return a.str() == b.str();
    case ValueKind::list: {
      const auto& x = a.list_data();
      const auto& y = b.list_data();
      if (&x == &y) return true;
      if (x.tuple != y.tuple || x.generator || y.generator || x.items.size() != y.items.size()) return false;
      for (size_t i = 0; i < x.items.size(); ++i)
        if (!values_equal(x.items[i], y.items[i], depth + 1)) return false;
      return true;
    }
    case ValueKind::dict: {
      const auto& x = a.dict_data();
      const auto& y = b.dict_data();
      if (&x == &y) return true;
      if (x.entries.size() != y.entries.size()) return false;
      for (const auto& [k, v] : x.entries) {
        const Value* o = y.find(k);
        if (!o || !values_equal(v, *o, depth + 1)) return false;
      }
      return true;
    }
    case ValueKind::callable: return &a.callable_data() == &b.callable_data();
    case ValueKind::ns: return &a.dict_data() == &b.dict_data();
    default: return false;
  }
}

bool value_less(const Value& a, const Value& b, int depth) {
  check_depth(depth, 256);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() < b.as_float();
    return a.as_int() < b.as_int();
  }
  if (a.is_string() && b.is_string()) {
    return utf8_decode(a.str()) < utf8_decode(b.str());  // code point order, like Python
  }
  if (a.is_list() && b.is_list() && a.list_data().tuple == b.list_data().tuple) {
    const auto& x = a.list_data().items;
    const auto& y = b.list_data().items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!values_equal(x[i], y[i], depth + 1)) return value_less(x[i], y[i], depth + 1);
    }
    return x.size() < y.size();
  }
  throw_error("TypeError: '<' not supported between instances of '" + a.type_name() + "' and '" +
              b.type_name() + "'");
}

}  // namespace agora::chat
