// Attribute and item access, iteration, and the Python methods of str, list and dict that
// chat templates call (`content.strip()`, `message.get('x')`, `tool.items()`, ...).
#include <algorithm>

#include "engine/chat/template_evaluator.h"
#include "engine/chat/template_strings.h"

namespace agora::chat {

std::vector<Value> iterate(const Value& v) {
  switch (v.kind()) {
    case ValueKind::undefined: return {};
    case ValueKind::list: return v.list_data().items;
    case ValueKind::dict: {
      std::vector<Value> keys;
      for (const auto& kv : v.dict_data().entries) keys.push_back(Value::string(kv.first));
      return keys;
    }
    case ValueKind::string: {
      std::vector<Value> chars;
      for (uint32_t cp : utf8_decode(v.str())) {
        std::string s;
        utf8_append(s, cp);
        chars.push_back(Value::string(std::move(s), v.is_safe()));
      }
      return chars;
    }
    default: throw_error("TypeError: '" + v.type_name() + "' object is not iterable");
  }
}

Value get_attribute(Interpreter& in, const Value& obj, const std::string& name) {
  if (obj.is_undefined())
    in.fail("UndefinedError: " + (obj.str().empty() ? std::string("value is undefined") : obj.str()));
  if (obj.is_namespace()) {
    if (const Value* v = obj.dict_data().find(name)) return *v;
    return Value::undefined("'Namespace' object has no attribute '" + name + "'");
  }
  Value m = get_method(obj, name);
  if (!m.is_undefined()) return m;
  if (obj.is_dict()) {
    if (const Value* v = obj.dict_data().find(name)) return *v;
    return Value::undefined("'dict object' has no attribute '" + name + "'");
  }
  if (obj.is_none()) return Value::undefined("'None' has no attribute '" + name + "'");
  return Value::undefined("'" + obj.type_name() + " object' has no attribute '" + name + "'");
}

Value get_item(Interpreter& in, const Value& obj, const Value& key) {
  if (obj.is_undefined())
    in.fail("UndefinedError: " + (obj.str().empty() ? std::string("value is undefined") : obj.str()));
  if (obj.is_dict() || obj.is_namespace()) {
    if (key.is_string()) {
      if (const Value* v = obj.dict_data().find(key.str())) return *v;
      if (obj.is_dict()) {
        Value m = get_method(obj, key.str());
        if (!m.is_undefined()) return m;
      }
    }
    return Value::undefined("'dict object' has no attribute '" + to_str(key) + "'");
  }
  if ((obj.is_list() && !obj.list_data().generator) || obj.is_string()) {
    if (key.is_int() || key.is_bool()) {
      int64_t i = key.as_int();
      if (obj.is_list()) {
        const auto& items = obj.list_data().items;
        const auto n = static_cast<int64_t>(items.size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) return Value::undefined("list object has no element " + to_str(key));
        return items[static_cast<size_t>(i)];
      }
      std::vector<uint32_t> cps = utf8_decode(obj.str());
      const auto n = static_cast<int64_t>(cps.size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) return Value::undefined("str object has no element " + to_str(key));
      std::string s;
      utf8_append(s, cps[static_cast<size_t>(i)]);
      return Value::string(std::move(s), obj.is_safe());
    }
    if (key.is_string()) return get_attribute(in, obj, key.str());
  }
  return Value::undefined("'" + obj.type_name() + " object' has no attribute '" + to_str(key) + "'");
}

namespace {

Value method(std::string name, NativeFn fn) { return Value::callable(std::move(name), std::move(fn)); }
Value method(std::string name, NativeFn fn, const Value& self) {
  return Value::bound_method(std::move(name), std::move(fn), self);
}

std::string arg_str(Interpreter& in, const Value& v, const char* what) {
  if (!v.is_string()) in.fail(std::string("TypeError: ") + what + " must be str, not " + v.type_name());
  return v.str();
}

bool starts_or_ends(Interpreter& in, const std::string& s, const Value& arg, bool start) {
  auto one = [&](const Value& p) {
    const std::string& x = arg_str(in, p, start ? "startswith argument" : "endswith argument");
    if (x.size() > s.size()) return false;
    return start ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0;
  };
  if (arg.is_list() && arg.list_data().tuple) {
    for (const auto& p : arg.list_data().items)
      if (one(p)) return true;
    return false;
  }
  return one(arg);
}

Value string_method(const Value& obj, const std::string& name) {
  const std::string s = obj.str();
  const bool safe = obj.is_safe();
  auto str_result = [safe](std::string r) { return Value::string(std::move(r), safe); };
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    int mode = name == "strip" ? 0 : name == "lstrip" ? 1 : 2;
    return method("str." + name, [s, mode, str_result](Interpreter& in, CallArgs& a) {
      Value chars = a.get(0, "chars");
      std::optional<std::string> set;
      if (!chars.is_undefined() && !chars.is_none()) set = arg_str(in, chars, "strip chars");
      return str_result(py_strip(s, set, mode != 2, mode != 1));
    });
  }
  if (name == "split" || name == "rsplit") {
    bool right = name == "rsplit";
    return method("str." + name, [s, right](Interpreter& in, CallArgs& a) {
      Value sep = a.get(0, "sep");
      Value maxsplit = a.get(1, "maxsplit");
      int64_t limit = maxsplit.is_int() ? maxsplit.as_int() : -1;
      std::vector<std::string> parts;
      if (sep.is_undefined() || sep.is_none()) {
        parts = py_split_whitespace(s, limit, right);
      } else {
        std::string sp = arg_str(in, sep, "separator");
        if (sp.empty()) in.fail("ValueError: empty separator");
        parts = py_split(s, sp, limit, right);
      }
      std::vector<Value> out;
      for (auto& p : parts) out.push_back(Value::string(std::move(p)));
      return Value::list(std::move(out));
    });
  }
  if (name == "startswith" || name == "endswith") {
    bool start = name == "startswith";
    return method("str." + name, [s, start](Interpreter& in, CallArgs& a) {
      return Value::boolean(starts_or_ends(in, s, a.get(0, "prefix"), start));
    });
  }
  if (name == "upper" || name == "lower" || name == "title" || name == "capitalize" || name == "swapcase") {
    return method("str." + name, [s, name, str_result](Interpreter&, CallArgs&) {
      if (name == "upper") return str_result(py_upper(s));
      if (name == "lower") return str_result(py_lower(s));
      if (name == "title") return str_result(py_title(s));
      if (name == "capitalize") return str_result(py_capitalize(s));
      std::string r;
      for (uint32_t cp : utf8_decode(s)) {
        std::string c;
        utf8_append(c, cp);
        std::string u = py_upper(c);
        r += u == c ? py_lower(c) : u;
      }
      return str_result(r);
    });
  }
  if (name == "replace") {
    return method("str.replace", [s, str_result](Interpreter& in, CallArgs& a) {
      std::string from = arg_str(in, a.get(0, "old"), "replace() argument 1");
      std::string to = arg_str(in, a.get(1, "new"), "replace() argument 2");
      Value count = a.get(2, "count");
      int64_t limit = count.is_int() ? count.as_int() : -1;
      std::string r = py_replace(s, from, to, limit);
      in.check_size(r.size());
      return str_result(std::move(r));
    });
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    return method("str." + name, [s, name](Interpreter& in, CallArgs& a) {
      std::string sub = arg_str(in, a.get(0, "sub"), "substring");
      if (name == "count") {
        if (sub.empty()) return Value::integer(static_cast<int64_t>(utf8_length(s) + 1));
        int64_t n = 0;
        for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
        return Value::integer(n);
      }
      size_t p = (name == "find" || name == "index") ? s.find(sub) : s.rfind(sub);
      if (p == std::string::npos) {
        if (name == "index" || name == "rindex") in.fail("ValueError: substring not found");
        return Value::integer(-1);
      }
      return Value::integer(static_cast<int64_t>(utf8_length(s.substr(0, p))));
    });
  }
  if (name == "join") {
    return method("str.join", [s, safe](Interpreter& in, CallArgs& a) {
      std::string r;
      bool first = true;
      for (const auto& v : iterate(a.get(0, "iterable"))) {
        if (!v.is_string()) in.fail("TypeError: sequence item: expected str instance, " + v.type_name() + " found");
        if (!first) r += s;
        first = false;
        r += v.str();
        in.check_size(r.size());
      }
      return Value::string(std::move(r), safe);
    });
  }
  if (name == "isdigit" || name == "isalpha" || name == "isalnum" || name == "isspace" || name == "islower" ||
      name == "isupper" || name == "isnumeric" || name == "isdecimal") {
    return method("str." + name, [s, name](Interpreter&, CallArgs&) {
      return Value::boolean(py_is(s, name));
    });
  }
  if (name == "splitlines") {
    return method("str.splitlines", [s](Interpreter&, CallArgs& a) {
      std::vector<Value> out;
      for (auto& line : py_splitlines(s, a.get(0, "keepends").truthy())) out.push_back(Value::string(std::move(line)));
      return Value::list(std::move(out));
    });
  }
  if (name == "format") {
    return method("str.format", [s](Interpreter& in, CallArgs& a) {
      return Value::string(py_format(in, s, a));
    });
  }
  return Value();
}

Value list_method(const Value& obj, const std::string& name) {
  std::shared_ptr<ListData> list = obj.list_ptr();
  if (list->generator) return Value();
  // Mutating methods work on lists (not tuples). transformers' immutable sandbox refuses them;
  // we accept them deliberately (see docs/chat-templates.md), as llama.cpp's engine does.
  if (!list->tuple && (name == "append" || name == "extend" || name == "pop" || name == "insert")) {
    return method("list." + name, [list, name](Interpreter& in, CallArgs& a) -> Value {
      auto no_cycle = [&](const Value& x) {
        if (reaches(x, list.get(), in.limits().max_value_depth))
          in.fail("TemplateRuntimeError: a list cannot contain itself");
      };
      if (name == "append") {
        in.check_size(list->items.size() + 1);
        no_cycle(a.get(0, "object"));
        list->items.push_back(a.get(0, "object"));
        return Value::none();
      }
      if (name == "extend") {
        for (auto& v : iterate(a.get(0, "iterable"))) {
          in.check_size(list->items.size() + 1);
          no_cycle(v);
          list->items.push_back(v);
        }
        return Value::none();
      }
      const auto n = static_cast<int64_t>(list->items.size());
      if (name == "insert") {
        int64_t i = a.get(0, "index").as_int();
        if (i < 0) i = std::max<int64_t>(0, i + n);
        i = std::min(i, n);
        in.check_size(list->items.size() + 1);
        no_cycle(a.get(1, "object"));
        list->items.insert(list->items.begin() + i, a.get(1, "object"));
        return Value::none();
      }
      Value idx = a.get(0, "index");
      int64_t i = idx.is_undefined() ? n - 1 : idx.as_int();
      if (i < 0) i += n;
      if (i < 0 || i >= n) in.fail("IndexError: pop index out of range");
      Value v = list->items[static_cast<size_t>(i)];
      list->items.erase(list->items.begin() + i);
      return v;
    }, obj);
  }
  if (name == "index" || name == "count") {
    return method("list." + name, [list, name](Interpreter& in, CallArgs& a) -> Value {
      Value x = a.get(0, "value");
      int64_t count = 0;
      for (size_t i = 0; i < list->items.size(); ++i) {
        if (values_equal(list->items[i], x)) {
          if (name == "index") return Value::integer(static_cast<int64_t>(i));
          ++count;
        }
      }
      if (name == "index") in.fail("ValueError: value is not in list");
      return Value::integer(count);
    }, obj);
  }
  return Value();
}

Value dict_method(const Value& obj, const std::string& name) {
  Value self = obj;
  if (name == "items" || name == "keys" || name == "values") {
    return method("dict." + name, [self, name](Interpreter&, CallArgs&) {
      std::vector<Value> out;
      for (const auto& [k, v] : self.dict_data().entries) {
        if (name == "items") out.push_back(Value::list({Value::string(k), v}, true));
        else if (name == "keys") out.push_back(Value::string(k));
        else out.push_back(v);
      }
      return Value::list(std::move(out));
    }, self);
  }
  if (name == "get") {
    return method("dict.get", [self](Interpreter&, CallArgs& a) {
      Value key = a.get(0, "key");
      if (key.is_string())
        if (const Value* v = self.dict_data().find(key.str())) return *v;
      Value d = a.get(1, "default");
      return d.is_undefined() ? Value::none() : d;
    }, self);
  }
  if (name == "copy") {
    return method("dict.copy", [self](Interpreter&, CallArgs&) {
      Value d = Value::dict();
      d.dict_data().entries = self.dict_data().entries;
      return d;
    }, self);
  }
  return Value();
}

}  // namespace

bool reaches(const Value& v, const void* target, int depth_cap) {
  struct Walker {
    const void* target;
    int cap;
    size_t budget = 1'000'000;
    bool walk(const Value& x, int depth) {
      if (depth > cap || budget-- == 0) throw_error("RecursionError: value too deep to check for cycles");
      if (x.is_list()) {
        if (x.list_ptr().get() == target) return true;
        for (const auto& i : x.list_data().items)
          if (walk(i, depth + 1)) return true;
      } else if (x.is_dict() || x.is_namespace()) {
        if (&x.dict_data() == target) return true;
        for (const auto& kv : x.dict_data().entries)
          if (walk(kv.second, depth + 1)) return true;
      } else if (x.is_callable()) {
        for (const auto& b : x.callable_data().bound)
          if (walk(b, depth + 1)) return true;
      }
      return false;
    }
  };
  Walker w{target, depth_cap};
  return w.walk(v, 0);
}

Value get_method(const Value& obj, const std::string& name) {
  switch (obj.kind()) {
    case ValueKind::string: return string_method(obj, name);
    case ValueKind::list: return list_method(obj, name);
    case ValueKind::dict: return dict_method(obj, name);
    default: return Value();
  }
}

}  // namespace agora::chat
