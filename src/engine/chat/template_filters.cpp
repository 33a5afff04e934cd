// Jinja2 filters and tests, with transformers' tojson. Each follows the Python implementation's
// behaviour on undefined values, Markup and Python types (documented in docs/chat-templates.md).
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "engine/chat/template_evaluator.h"
#include "engine/chat/template_strings.h"

namespace agora::chat {
namespace {

Value generator(std::vector<Value> items) {
  Value v = Value::list(std::move(items));
  v.list_data().generator = true;
  return v;
}

// Jinja's make_attrgetter: "a.b.0" looks up each part with getitem semantics.
Value attr_path(Interpreter& in, const Value& item, const std::string& path) {
  Value cur = item;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    Value key = numeric ? Value::integer(std::atoll(part.c_str())) : Value::string(part);
    cur = get_item(in, cur, key);
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

Value sort_key(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value::string(py_lower(v.str()));
  return v;
}

int64_t get_int(Interpreter& in, const Value& v, int64_t dflt, const char* what) {
  if (v.is_undefined() || v.is_none()) return dflt;
  if (!v.is_int() && !v.is_bool()) in.fail(std::string("TypeError: ") + what + " must be an integer");
  return v.as_int();
}

Value filter_tojson(Interpreter& in, const Value& v, CallArgs& a) {
  JsonDumpOptions o;
  o.ensure_ascii = a.get(0, "ensure_ascii").truthy();
  Value indent = a.get(1, "indent");
  if (!indent.is_undefined() && !indent.is_none()) {
    o.has_indent = true;
    if (indent.is_string()) o.indent_str = indent.str();
    else if (indent.is_int()) o.indent_str = std::string(static_cast<size_t>(std::clamp<int64_t>(indent.as_int(), 0, 64)), ' ');
    else in.fail("TypeError: tojson indent must be an int or a str");
    o.item_sep = ",";
  }
  Value seps = a.get(2, "separators");
  if (!seps.is_undefined() && !seps.is_none()) {
    if (!seps.is_list() || seps.list_data().items.size() != 2 || !seps.list_data().items[0].is_string() ||
        !seps.list_data().items[1].is_string())
      in.fail("TypeError: tojson separators must be a pair of strings");
    o.item_sep = seps.list_data().items[0].str();
    o.key_sep = seps.list_data().items[1].str();
  }
  o.sort_keys = a.get(3, "sort_keys").truthy();
  std::string s;
  try {
    s = to_json(v, o, in.limits().max_value_depth);
  } catch (const TemplateError& e) {
    in.fail(e.message);
  }
  in.check_size(s.size());
  return Value::string(std::move(s));
}

Value filter_indent(Interpreter& in, const Value& v, CallArgs& a) {
  Value width = a.get(0, "width");
  std::string ind = width.is_string() ? width.str() : std::string(static_cast<size_t>(std::clamp<int64_t>(get_int(in, width, 4, "indent width"), 0, 1024)), ' ');
  bool first = a.get(1, "first").truthy();
  bool blank = a.get(2, "blank").truthy();
  std::string s = to_str(v) + "\n";
  std::vector<std::string> lines = py_splitlines(s, false);
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) rv += (i ? "\n" + ind : "") + lines[i];
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) rv += "\n" + (lines[i].empty() ? "" : ind + lines[i]);
  }
  if (first) rv = ind + rv;
  in.check_size(rv.size());
  return Value::string(std::move(rv), v.is_safe());
}

Value filter_int(const Value& v, CallArgs& a) {
  Value dflt = a.get(0, "default");
  Value fallback = dflt.is_undefined() ? Value::integer(0) : dflt;
  if (v.is_int() || v.is_bool()) return Value::integer(v.as_int());
  if (v.is_float()) {
    double f = v.as_float();
    if (!std::isfinite(f) || std::fabs(f) > 9.2e18) return fallback;
    return Value::integer(static_cast<int64_t>(f));
  }
  if (v.is_string()) {
    std::string s = py_strip(v.str(), std::nullopt, true, true);
    s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
    if (s.empty()) return fallback;
    char* end = nullptr;
    errno = 0;
    long long x = std::strtoll(s.c_str(), &end, 10);
    if (*end == '\0' && errno == 0) return Value::integer(x);
    double f = std::strtod(s.c_str(), &end);
    if (*end == '\0' && std::isfinite(f) && std::fabs(f) < 9.2e18) return Value::integer(static_cast<int64_t>(f));
  }
  return fallback;
}

Value filter_float(const Value& v, CallArgs& a) {
  Value dflt = a.get(0, "default");
  Value fallback = dflt.is_undefined() ? Value::floating(0.0) : dflt;
  if (v.is_number()) return Value::floating(v.as_float());
  if (v.is_string()) {
    std::string s = py_strip(v.str(), std::nullopt, true, true);
    if (s.empty()) return fallback;
    char* end = nullptr;
    double f = std::strtod(s.c_str(), &end);
    if (*end == '\0') return Value::floating(f);
  }
  return fallback;
}

Value filter_round(Interpreter& in, const Value& v, CallArgs& a) {
  if (!v.is_number()) in.fail("TypeError: round() needs a number, not " + v.type_name());
  int64_t precision = get_int(in, a.get(0, "precision"), 0, "round precision");
  Value m = a.get(1, "method");
  std::string method = m.is_string() ? m.str() : "common";
  double x = v.as_float();
  double scale = std::pow(10.0, static_cast<double>(std::clamp<int64_t>(precision, -300, 300)));
  double y = x * scale;
  if (method == "ceil") y = std::ceil(y);
  else if (method == "floor") y = std::floor(y);
  else if (method == "common") y = std::nearbyint(y);
  else in.fail("FilterArgumentError: method must be common, ceil or floor");
  return Value::floating(y / scale);
}

std::vector<Value> sorted(Interpreter& in, std::vector<Value> items, bool reverse, bool case_sensitive,
                          const std::string& attribute) {
  std::vector<std::pair<Value, Value>> keyed;
  for (auto& v : items) {
    in.step();
    keyed.emplace_back(sort_key(attribute.empty() ? v : attr_path(in, v, attribute), case_sensitive), v);
  }
  try {
    std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
      return reverse ? value_less(y.first, x.first) : value_less(x.first, y.first);
    });
  } catch (const TemplateError& e) {
    in.fail(e.message);
  }
  std::vector<Value> out;
  for (auto& kv : keyed) out.push_back(std::move(kv.second));
  return out;
}

// select/reject/selectattr/rejectattr: `args` past `skip` are (test name, test args...).
Value select_impl(Interpreter& in, const Value& v, CallArgs& a, bool by_attr, bool keep_if) {
  std::string attribute;
  size_t skip = 0;
  if (by_attr) {
    Value attr = a.get(0, "attribute");
    if (!attr.is_string()) in.fail("TypeError: selectattr/rejectattr need an attribute name");
    attribute = attr.str();
    skip = 1;
  }
  std::string test_name;
  CallArgs test_args;
  if (a.positional.size() > skip) {
    if (!a.positional[skip].is_string()) in.fail("TypeError: test name must be a string");
    test_name = a.positional[skip].str();
    test_args.positional.assign(a.positional.begin() + static_cast<long>(skip) + 1, a.positional.end());
  }
  std::vector<Value> out;
  if (!v.truthy()) return generator({});  // Jinja: `if value:` before iterating (None → empty)
  for (auto& item : iterate(v)) {
    in.step();
    Value x = by_attr ? attr_path(in, item, attribute) : item;
    bool r = test_name.empty() ? x.truthy() : apply_test(in, test_name, x, test_args);
    if (r == keep_if) out.push_back(item);
  }
  return generator(std::move(out));
}

Value filter_map(Interpreter& in, const Value& v, CallArgs& a) {
  std::vector<Value> out;
  if (!v.truthy()) return generator({});  // Jinja: `if value:` before iterating (None → empty)
  Value attr = a.get(99, "attribute");
  if (attr.is_string()) {
    Value dflt = a.get(99, "default");
    for (auto& item : iterate(v)) {
      in.step();
      Value x = attr_path(in, item, attr.str());
      out.push_back(x.is_undefined() && !dflt.is_undefined() ? dflt : x);
    }
    return generator(std::move(out));
  }
  if (a.positional.empty() || !a.positional[0].is_string()) in.fail("TypeError: map needs a filter name or attribute=");
  std::string name = a.positional[0].str();
  CallArgs fargs;
  fargs.positional.assign(a.positional.begin() + 1, a.positional.end());
  fargs.keyword = a.keyword;
  for (auto& item : iterate(v)) {
    in.step();
    CallArgs copy = fargs;
    out.push_back(apply_filter(in, name, item, copy));
  }
  return generator(std::move(out));
}

int64_t length_of(Interpreter& in, const Value& v) {
  switch (v.kind()) {
    case ValueKind::undefined: return 0;
    case ValueKind::string: return static_cast<int64_t>(utf8_length(v.str()));
    case ValueKind::list:
      if (v.list_data().generator) in.fail("TypeError: object of type 'generator' has no len()");
      return static_cast<int64_t>(v.list_data().items.size());
    case ValueKind::dict: return static_cast<int64_t>(v.dict_data().entries.size());
    default: in.fail("TypeError: object of type '" + v.type_name() + "' has no len()");
  }
}

}  // namespace

Value apply_filter(Interpreter& in, const std::string& name, const Value& v, CallArgs& a) {
  in.step();
  if (name == "tojson") return filter_tojson(in, v, a);
  if (name == "safe") return Value::string(to_str(v), true);
  if (name == "escape" || name == "e" || name == "forceescape") {
    if (v.is_string() && v.is_safe() && name != "forceescape") return v;
    return Value::string(html_escape(to_str(v)), true);
  }
  if (name == "string") return v.is_string() ? v : Value::string(to_str(v, in.limits().max_value_depth));
  if (name == "trim") {
    Value chars = a.get(0, "chars");
    std::optional<std::string> set;
    if (chars.is_string()) set = chars.str();
    return Value::string(py_strip(to_str(v), set, true, true), v.is_safe());
  }
  if (name == "upper") return Value::string(py_upper(to_str(v)), v.is_safe());
  if (name == "lower") return Value::string(py_lower(to_str(v)), v.is_safe());
  if (name == "capitalize") return Value::string(py_capitalize(to_str(v)), v.is_safe());
  if (name == "title") return Value::string(py_title(to_str(v)), v.is_safe());
  if (name == "replace") {
    Value from = a.get(0, "old"), to = a.get(1, "new"), count = a.get(2, "count");
    std::string r = py_replace(to_str(v), to_str(from), to_str(to), count.is_int() ? count.as_int() : -1);
    in.check_size(r.size());
    return Value::string(std::move(r), v.is_safe());
  }
  if (name == "indent") return filter_indent(in, v, a);
  if (name == "length" || name == "count") return Value::integer(length_of(in, v));
  if (name == "wordcount") return Value::integer(static_cast<int64_t>(py_split_whitespace(to_str(v), -1, false).size()));
  if (name == "first" || name == "last") {
    std::vector<Value> items = iterate(v);
    if (items.empty()) return Value::undefined("No " + name + " item, sequence was empty.");
    return name == "first" ? items.front() : items.back();
  }
  if (name == "list") return Value::list(iterate(v));
  if (name == "join") {
    Value sep = a.get(0, "d");
    Value attr = a.get(1, "attribute");
    std::string d = sep.is_undefined() ? "" : to_str(sep);
    std::string out;
    bool first = true;
    for (auto& item : iterate(v)) {
      in.step();
      if (!first) out += d;
      first = false;
      out += to_str(attr.is_string() ? attr_path(in, item, attr.str()) : item, in.limits().max_value_depth);
      in.check_size(out.size());
    }
    return Value::string(std::move(out));
  }
  if (name == "default" || name == "d") {
    Value dflt = a.get(0, "default_value");
    bool boolean = a.get(1, "boolean").truthy();
    if (v.is_undefined() || (boolean && !v.truthy())) return dflt.is_undefined() ? Value::string("") : dflt;
    return v;
  }
  if (name == "map") return filter_map(in, v, a);
  if (name == "select" || name == "reject") return select_impl(in, v, a, false, name == "select");
  if (name == "selectattr" || name == "rejectattr") return select_impl(in, v, a, true, name == "selectattr");
  if (name == "int") return filter_int(v, a);
  if (name == "float") return filter_float(v, a);
  if (name == "abs") {
    if (v.is_float()) return Value::floating(std::fabs(v.as_float()));
    if (v.is_int() || v.is_bool()) {
      if (v.as_int() == INT64_MIN) in.fail("OverflowError: integer too large");
      return Value::integer(std::llabs(v.as_int()));
    }
    in.fail("TypeError: bad operand type for abs(): '" + v.type_name() + "'");
  }
  if (name == "round") return filter_round(in, v, a);
  if (name == "items") {
    if (v.is_undefined()) return Value::list();
    if (!v.is_dict()) in.fail("TypeError: can only get item pairs from a mapping.");
    std::vector<Value> out;
    for (const auto& [k, x] : v.dict_data().entries) out.push_back(Value::list({Value::string(k), x}, true));
    return generator(std::move(out));
  }
  if (name == "dictsort") {
    if (!v.is_dict()) in.fail("TypeError: dictsort needs a mapping");
    bool cs = a.get(0, "case_sensitive").truthy();
    Value by = a.get(1, "by");
    bool by_value = by.is_string() && by.str() == "value";
    bool reverse = a.get(2, "reverse").truthy();
    std::vector<Value> pairs;
    for (const auto& [k, x] : v.dict_data().entries) pairs.push_back(Value::list({Value::string(k), x}, true));
    return Value::list(sorted(in, std::move(pairs), reverse, cs, by_value ? "1" : "0"));
  }
  if (name == "sort") {
    Value attr = a.get(2, "attribute");
    return Value::list(sorted(in, iterate(v), a.get(0, "reverse").truthy(), a.get(1, "case_sensitive").truthy(),
                              attr.is_string() ? attr.str() : ""));
  }
  if (name == "unique") {
    bool cs = a.get(0, "case_sensitive").truthy();
    Value attr = a.get(1, "attribute");
    std::vector<Value> out, seen;
    for (auto& item : iterate(v)) {
      in.step();
      Value key = sort_key(attr.is_string() ? attr_path(in, item, attr.str()) : item, cs);
      bool dup = false;
      for (const auto& s : seen)
        if (values_equal(s, key)) dup = true;
      if (!dup) {
        seen.push_back(key);
        out.push_back(item);
      }
    }
    return generator(std::move(out));
  }
  if (name == "reverse") {
    if (v.is_string()) {
      std::vector<uint32_t> cps = utf8_decode(v.str());
      std::reverse(cps.begin(), cps.end());
      return Value::string(utf8_encode(cps, 0, cps.size()), v.is_safe());
    }
    std::vector<Value> items = iterate(v);
    std::reverse(items.begin(), items.end());
    return generator(std::move(items));
  }
  if (name == "sum") {
    Value attr = a.get(0, "attribute");
    Value total = a.has(1, "start") ? a.get(1, "start") : Value::integer(0);
    for (auto& item : iterate(v)) {
      Value x = attr.is_string() ? attr_path(in, item, attr.str()) : item;
      if (!x.is_number() || !total.is_number()) in.fail("TypeError: unsupported operand type(s) for +");
      if (x.is_float() || total.is_float()) total = Value::floating(total.as_float() + x.as_float());
      else {
        int64_t r;
        if (__builtin_add_overflow(total.as_int(), x.as_int(), &r)) in.fail("OverflowError: sum too large");
        total = Value::integer(r);
      }
    }
    return total;
  }
  if (name == "min" || name == "max") {
    Value attr = a.get(1, "attribute");
    std::vector<Value> s = sorted(in, iterate(v), name == "max", a.get(0, "case_sensitive").truthy(),
                                  attr.is_string() ? attr.str() : "");
    if (s.empty()) return Value::undefined("No aggregated item, sequence was empty.");
    return s.front();
  }
  if (name == "attr") {
    Value n = a.get(0, "name");
    if (!n.is_string()) in.fail("TypeError: attr needs a name");
    return get_attribute(in, v, n.str());
  }
  if (name == "format") {
    if (!a.keyword.empty()) in.fail("FilterArgumentError: format with keyword arguments is not supported");
    return Value::string(py_percent_format(in, to_str(v), Value::list(a.positional, true)));
  }
  if (name == "pprint") return Value::string(to_repr(v, in.limits().max_value_depth));
  if (name == "center") {
    int64_t width = get_int(in, a.get(0, "width"), 80, "center width");
    std::string s = to_str(v);
    auto len = static_cast<int64_t>(utf8_length(s));
    if (width <= len) return Value::string(s);
    in.check_size(static_cast<size_t>(width));
    int64_t total = width - len, left = total / 2 + (total & width & 1);
    return Value::string(std::string(static_cast<size_t>(left), ' ') + s + std::string(static_cast<size_t>(total - left), ' '));
  }
  in.fail("TemplateAssertionError: No filter named '" + name + "'");
}

bool apply_test(Interpreter& in, const std::string& name, const Value& v, CallArgs& a) {
  in.step();
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "number") return v.is_number();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict();
  if (name == "iterable") return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
  if (name == "sequence") return v.is_undefined() || v.is_string() || (v.is_list() && !v.list_data().generator) || v.is_dict();
  if (name == "callable") return v.is_callable();
  if (name == "escaped") return v.is_string() && v.is_safe();
  if (name == "lower") return v.is_string() && py_lower(v.str()) == v.str();
  if (name == "upper") return v.is_string() && py_upper(v.str()) == v.str();
  if (name == "odd" || name == "even") {
    if (!v.is_int() && !v.is_bool()) in.fail("TypeError: " + name + " test needs an integer");
    bool odd = (v.as_int() % 2) != 0;
    return name == "odd" ? odd : !odd;
  }
  if (name == "divisibleby") {
    int64_t d = get_int(in, a.get(0, "num"), 0, "divisibleby argument");
    if (d == 0) in.fail("ZeroDivisionError: integer division or modulo by zero");
    if (!v.is_int() && !v.is_bool()) in.fail("TypeError: divisibleby needs an integer");
    return v.as_int() % d == 0;
  }
  Value other = a.get(0, "other");
  if (name == "eq" || name == "equalto" || name == "==") return values_equal(v, other);
  if (name == "ne" || name == "!=") return !values_equal(v, other);
  if (name == "lt" || name == "lessthan" || name == "<" || name == "gt" || name == "greaterthan" || name == ">" ||
      name == "le" || name == "<=" || name == "ge" || name == ">=") {
    try {
      if (name == "lt" || name == "lessthan" || name == "<") return value_less(v, other);
      if (name == "gt" || name == "greaterthan" || name == ">") return value_less(other, v);
      if (name == "le" || name == "<=") return !value_less(other, v);
      return !value_less(v, other);
    } catch (const TemplateError& e) {
      in.fail(e.message);
    }
  }
  if (name == "in") {
    Value seq = a.get(0, "seq");
    if (seq.is_string()) return v.is_string() && seq.str().find(v.str()) != std::string::npos;
    if (seq.is_dict()) return v.is_string() && seq.dict_data().find(v.str()) != nullptr;
    for (const auto& x : iterate(seq))
      if (values_equal(x, v)) return true;
    return false;
  }
  if (name == "sameas") {
    if (v.kind() != other.kind()) return false;
    if (v.is_list()) return v.list_ptr() == other.list_ptr();
    if (v.is_dict() || v.is_namespace()) return &v.dict_data() == &other.dict_data();
    return values_equal(v, other);
  }
  if (name == "filter" || name == "test") {
    static const char* kFilters[] = {"tojson", "safe", "escape", "e", "string", "trim", "upper", "lower", "capitalize",
                                     "title", "replace", "indent", "length", "count", "first", "last", "list", "join",
                                     "default", "d", "map", "select", "reject", "selectattr", "rejectattr", "int",
                                     "float", "abs", "round", "items", "dictsort", "sort", "unique", "reverse", "sum",
                                     "min", "max", "attr", "format", "pprint", "center", "wordcount", "forceescape"};
    static const char* kTests[] = {"defined", "undefined", "none", "boolean", "true", "false", "integer", "float",
                                   "number", "string", "mapping", "iterable", "sequence", "callable", "escaped",
                                   "lower", "upper", "odd", "even", "divisibleby", "eq", "equalto", "ne", "lt", "gt",
                                   "le", "ge", "in", "sameas", "filter", "test", "lessthan", "greaterthan"};
    if (!v.is_string()) return false;
    if (name == "filter") return std::find(std::begin(kFilters), std::end(kFilters), v.str()) != std::end(kFilters);
    return std::find(std::begin(kTests), std::end(kTests), v.str()) != std::end(kTests);
  }
  in.fail("TemplateAssertionError: No test named '" + name + "'");
}

}  // namespace agora::chat
