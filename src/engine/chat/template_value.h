// The dynamic value of the template language: Python's data model as Jinja2 sees it.
//
// A Value is one of: undefined (Jinja's Undefined: prints empty, iterates empty, fails on use),
// None, bool, int (int64), float, str (UTF-8; `safe` marks markupsafe.Markup), list (or tuple),
// dict (insertion-ordered, string keys), a callable (builtin, bound method or macro) or a
// namespace(). Lists, dicts and namespaces are shared by reference like Python objects, so
// `ns.x = 1` and `list.append` are seen through every alias. Values are not thread-safe; a
// render owns all the values it creates.
//
// Operations that Python would reject (str + int, iterating None, ...) throw TemplateError;
// the evaluator catches it at the render boundary and returns a Status (no exception leaves
// the module).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agora::chat {

// Error raised while evaluating a template; converted to a Status at the API boundary.
struct TemplateError {
  std::string message;
};
[[noreturn]] void throw_error(std::string message);

enum class ValueKind { undefined, none, boolean, integer, floating, string, list, dict, callable, ns };

class Value;
struct CallArgs;
class Interpreter;

struct ListData {
  std::vector<Value> items;
  bool tuple = false;      // a Python tuple (prints with parentheses)
  bool generator = false;  // a lazy Jinja result (map/select/...): not JSON serialisable
};

struct DictData {
  std::vector<std::pair<std::string, Value>> entries;  // insertion order, unique keys
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  void set(std::string key, Value value);  // replaces in place or appends
};

using NativeFn = std::function<Value(Interpreter&, CallArgs&)>;
struct CallableData {
  std::string name;  // for messages: "raise_exception", "dict.get", macro name
  NativeFn fn;
  std::vector<Value> bound;  // the object a bound method captured (walked by cycle checks)
};

class Value {
 public:
  Value() = default;  // undefined
  static Value undefined(std::string hint = {});
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value floating(double f);
  static Value string(std::string s, bool safe = false);
  static Value list(std::vector<Value> items = {}, bool tuple = false);
  static Value dict();
  static Value callable(std::string name, NativeFn fn);
  static Value bound_method(std::string name, NativeFn fn, const Value& self);
  static Value make_namespace();

  ValueKind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == ValueKind::undefined; }
  bool is_none() const { return kind_ == ValueKind::none; }
  bool is_bool() const { return kind_ == ValueKind::boolean; }
  bool is_int() const { return kind_ == ValueKind::integer; }
  bool is_float() const { return kind_ == ValueKind::floating; }
  bool is_number() const { return is_int() || is_float() || is_bool(); }
  bool is_string() const { return kind_ == ValueKind::string; }
  bool is_list() const { return kind_ == ValueKind::list; }
  bool is_dict() const { return kind_ == ValueKind::dict; }
  bool is_namespace() const { return kind_ == ValueKind::ns; }
  bool is_callable() const { return kind_ == ValueKind::callable; }
  bool is_safe() const { return safe_; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return kind_ == ValueKind::boolean ? (b_ ? 1 : 0) : i_; }
  double as_float() const { return kind_ == ValueKind::floating ? f_ : static_cast<double>(as_int()); }
  const std::string& str() const { return s_; }  // string contents, or undefined's hint
  ListData& list_data() const { return *list_; }
  DictData& dict_data() const { return *dict_; }  // dicts and namespaces
  const CallableData& callable_data() const { return *fn_; }
  const std::shared_ptr<ListData>& list_ptr() const { return list_; }

  // Python truthiness.
  bool truthy() const;
  // Python type name for messages ("str", "NoneType", "dict", ...).
  std::string type_name() const;

 private:
  ValueKind kind_ = ValueKind::undefined;
  bool b_ = false;
  bool safe_ = false;
  int64_t i_ = 0;
  double f_ = 0;
  std::string s_;
  std::shared_ptr<ListData> list_;
  std::shared_ptr<DictData> dict_;
  std::shared_ptr<CallableData> fn_;
};

// Arguments of a call: positional, then keyword (in call order).
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
  // Takes argument `name` (keyword) or positional #index; undefined when absent.
  Value get(size_t index, std::string_view name) const;
  bool has(size_t index, std::string_view name) const;
};

// ---- conversions with Python semantics ------------------------------------------------------
// str(v) as Jinja prints it: undefined → "", None → "None", floats like repr, containers as repr.
std::string to_str(const Value& v, int depth_cap = 256);
// repr(v): strings quoted the way Python quotes them.
std::string to_repr(const Value& v, int depth_cap = 256);
// Python float repr (shortest round-trip, "1.0", "1e-05", "inf").
std::string float_repr(double f);

// json.dumps(v, ensure_ascii, indent, separators, sort_keys) as transformers' tojson calls it.
// indent < 0 means None. Throws TemplateError for values JSON cannot hold.
struct JsonDumpOptions {
  bool ensure_ascii = false;
  int indent = -1;
  std::string indent_str;  // used when indent was given as a string
  bool has_indent = false;
  std::string item_sep = ", ";
  std::string key_sep = ": ";
  bool sort_keys = false;
};
std::string to_json(const Value& v, const JsonDumpOptions& opt, int depth_cap = 256);

// Python ==, with 1 == 1.0 == True and deep container equality.
bool values_equal(const Value& a, const Value& b, int depth = 0);
// Python <: numbers, strings, lists; throws TemplateError for other pairs.
bool value_less(const Value& a, const Value& b, int depth = 0);

// markupsafe.escape of a string.
std::string html_escape(std::string_view s);

// ---- UTF-8 helpers (Python strings index by code point) -------------------------------------
std::vector<uint32_t> utf8_decode(std::string_view s);
void utf8_append(std::string& out, uint32_t cp);
std::string utf8_encode(const std::vector<uint32_t>& cps, size_t begin, size_t end);
size_t utf8_length(std::string_view s);
bool is_py_space(uint32_t cp);

}  // namespace agora::chat
