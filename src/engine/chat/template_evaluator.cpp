// Evaluator: statements (output, if, for, set, macro, call, filter, with) and expressions.
#include "engine/chat/template_evaluator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/chat/template_strings.h"

namespace agora::chat {

struct Interpreter::Scope {
  std::vector<std::pair<std::string, Value>> vars;
  std::shared_ptr<Scope> parent;

  Value* find(const std::string& name) {
    for (auto& [k, v] : vars)
      if (k == name) return &v;
    return nullptr;
  }
};

namespace {

// Restores the interpreter's current scope on exit (also when an error unwinds).
template <typename T>
struct Restore {
  T& ref;
  T saved;
  explicit Restore(T& r) : ref(r), saved(r) {}
  ~Restore() { ref = std::move(saved); }
};

struct DepthCount {
  int& d;
  DepthCount(int& depth, int cap, const Interpreter& in) : d(depth) {
    if (++d > cap) {
      --d;
      in.fail("RecursionError: template nesting deeper than " + std::to_string(cap));
    }
  }
  ~DepthCount() { --d; }
};

bool add_overflows(int64_t a, int64_t b, int64_t* r) { return __builtin_add_overflow(a, b, r); }
bool sub_overflows(int64_t a, int64_t b, int64_t* r) { return __builtin_sub_overflow(a, b, r); }
bool mul_overflows(int64_t a, int64_t b, int64_t* r) { return __builtin_mul_overflow(a, b, r); }

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
int64_t py_mod(int64_t a, int64_t b) {
  int64_t m = a % b;
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  return m;
}

}  // namespace

// ---- errors, limits ------------------------------------------------------------------------
void Interpreter::fail(const std::string& message) const {
  if (current_)
    throw TemplateError{message + " (line " + std::to_string(current_->line) + ", column " +
                        std::to_string(current_->col) + ")"};
  throw TemplateError{message};
}

void Interpreter::step() {
  if (++steps_ > limits_.max_steps)
    fail("template exceeded the step limit of " + std::to_string(limits_.max_steps));
}

void Interpreter::check_size(size_t bytes) const {
  if (bytes > limits_.max_output_bytes)
    fail("template output exceeds the limit of " + std::to_string(limits_.max_output_bytes) + " bytes");
}

// ---- scopes ----------------------------------------------------------------------------------
Value Interpreter::lookup(const std::string& name) const {
  for (Scope* s = scope_.get(); s; s = s->parent.get())
    if (Value* v = s->find(name)) return *v;
  Value b = get_builtin(name);
  if (!b.is_undefined()) return b;
  return Value::undefined("'" + name + "' is undefined");
}

void Interpreter::assign(const std::string& name, Value v) {
  if (Value* slot = scope_->find(name)) {
    *slot = std::move(v);
    return;
  }
  scope_->vars.emplace_back(name, std::move(v));
}

// ---- render ----------------------------------------------------------------------------------
std::string Interpreter::render(const Node& root, const Value& context) {
  scope_ = std::make_shared<Scope>();
  if (context.is_dict())
    for (const auto& kv : context.dict_data().entries) scope_->vars.push_back(kv);
  std::string out;
  exec_body(root.body, out);
  return out;
}

void Interpreter::emit(std::string& out, const Value& v) {
  if (v.is_string()) {
    check_size(out.size() + v.str().size());
    out += v.str();
    return;
  }
  std::string s = to_str(v, limits_.max_value_depth);
  check_size(out.size() + s.size());
  out += s;
}

Interpreter::Flow Interpreter::exec_body(const std::vector<NodePtr>& body, std::string& out) {
  for (const auto& n : body) {
    Flow f = exec(*n, out);
    if (f != Flow::normal) return f;
  }
  return Flow::normal;
}

Interpreter::Flow Interpreter::exec(const Node& n, std::string& out) {
  DepthCount guard(eval_depth_, limits_.max_eval_depth, *this);
  step();
  current_ = &n;
  switch (n.kind) {
    case NodeKind::text:
      check_size(out.size() + n.name.size());
      out += n.name;
      return Flow::normal;
    case NodeKind::output: emit(out, eval(*n.kids[0])); return Flow::normal;
    case NodeKind::if_: {
      bool cond = eval(*n.kids[0]).truthy();
      return exec_body(cond ? n.body : n.else_body, out);
    }
    case NodeKind::for_: exec_for(n, out); return Flow::normal;
    case NodeKind::set: exec_set(n); return Flow::normal;
    case NodeKind::set_block: {
      std::string captured;
      exec_body(n.body, captured);
      Value v = Value::string(std::move(captured));
      if (n.kids[0]) {
        placeholder_.push_back(v);
        Value r = eval(*n.kids[0]);
        placeholder_.pop_back();
        v = r;
      }
      assign(n.targets[0], std::move(v));
      return Flow::normal;
    }
    case NodeKind::macro: exec_macro(n); return Flow::normal;
    case NodeKind::call_block: exec_call_block(n, out); return Flow::normal;
    case NodeKind::filter_block: {
      std::string captured;
      exec_body(n.body, captured);
      placeholder_.push_back(Value::string(std::move(captured)));
      Value r = eval(*n.kids[0]);
      placeholder_.pop_back();
      emit(out, r);
      return Flow::normal;
    }
    case NodeKind::with_: {
      Restore<std::shared_ptr<Scope>> restore(scope_);
      std::vector<Value> values;
      for (const auto& k : n.kids) values.push_back(eval(*k));
      auto inner = std::make_shared<Scope>();
      inner->parent = scope_;
      scope_ = inner;
      for (size_t i = 0; i < n.targets.size(); ++i) assign(n.targets[i], values[i]);
      return exec_body(n.body, out);
    }
    case NodeKind::break_: return Flow::break_;
    case NodeKind::continue_: return Flow::continue_;
    case NodeKind::body: return exec_body(n.body, out);
    default: fail("internal error: expression used as a statement");
  }
}

static void bind_targets(Interpreter& in, const std::vector<std::string>& targets, const Value& item,
                         const std::function<void(const std::string&, Value)>& set) {
  if (targets.size() == 1) {
    set(targets[0], item);
    return;
  }
  std::vector<Value> parts = iterate(item);
  if (parts.size() != targets.size())
    in.fail(parts.size() < targets.size() ? "ValueError: not enough values to unpack"
                                          : "ValueError: too many values to unpack");
  for (size_t i = 0; i < targets.size(); ++i) set(targets[i], parts[i]);
}

void Interpreter::exec_for(const Node& n, std::string& out) {
  Value iterable = eval(*n.kids[0]);
  std::vector<Value> items = iterate(iterable);
  Restore<std::shared_ptr<Scope>> restore(scope_);
  auto loop_scope = std::make_shared<Scope>();
  loop_scope->parent = scope_;
  scope_ = loop_scope;
  auto set_var = [this](const std::string& k, Value v) { assign(k, std::move(v)); };
  if (n.kids[1]) {  // {% for x in xs if cond %}: filter first, so loop.* counts kept items
    std::vector<Value> kept;
    for (auto& item : items) {
      step();
      bind_targets(*this, n.targets, item, set_var);
      if (eval(*n.kids[1]).truthy()) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  if (items.empty()) {
    exec_body(n.else_body, out);
    return;
  }
  const auto len = static_cast<int64_t>(items.size());
  for (int64_t i = 0; i < len; ++i) {
    step();
    bind_targets(*this, n.targets, items[i], set_var);
    Value loop = Value::make_namespace();
    auto& d = loop.dict_data();
    d.set("index0", Value::integer(i));
    d.set("index", Value::integer(i + 1));
    d.set("revindex0", Value::integer(len - i - 1));
    d.set("revindex", Value::integer(len - i));
    d.set("first", Value::boolean(i == 0));
    d.set("last", Value::boolean(i == len - 1));
    d.set("length", Value::integer(len));
    d.set("depth", Value::integer(1));
    d.set("depth0", Value::integer(0));
    d.set("previtem", i > 0 ? items[i - 1] : Value::undefined("there is no previous item"));
    d.set("nextitem", i + 1 < len ? items[i + 1] : Value::undefined("there is no next item"));
    d.set("cycle", Value::callable("loop.cycle", [i](Interpreter& in, CallArgs& a) {
            if (a.positional.empty()) in.fail("TypeError: no items for cycling given");
            return a.positional[static_cast<size_t>(i) % a.positional.size()];
          }));
    assign("loop", loop);
    Flow f = exec_body(n.body, out);
    if (f == Flow::break_) break;
  }
}

void Interpreter::exec_set(const Node& n) {
  Value v = eval(*n.kids[0]);
  if (!n.attr.empty()) {
    Value target = lookup(n.name);
    if (!target.is_namespace()) fail("TemplateRuntimeError: cannot assign attribute on non-namespace object");
    if (reaches(v, &target.dict_data(), limits_.max_value_depth))
      fail("TemplateRuntimeError: assignment would make a namespace contain itself");
    target.dict_data().set(n.attr, std::move(v));
    return;
  }
  bind_targets(*this, n.targets, v, [this](const std::string& k, Value x) { assign(k, std::move(x)); });
}

// ---- macros ----------------------------------------------------------------------------------
namespace {
struct MacroDef {
  const Node* node;  // macro or call_block node (params, defaults, body)
  size_t first_default;  // index in node->kids where the parameter defaults start
};
}  // namespace

Value Interpreter::make_macro(const Node& n, std::shared_ptr<Scope> closure_owner, std::string name) {
  const Node* node = &n;
  // The interpreter keeps captured scopes alive for the whole render; the macro holds a plain
  // pointer, so a scope that stores its own macro is not a reference cycle (no leak).
  Scope* closure = closure_owner.get();
  if (captured_.insert(closure).second) captured_scopes_.push_back(std::move(closure_owner));
  size_t first_default = n.kind == NodeKind::call_block ? 1 : 0;
  return Value::callable(name, [node, first_default, closure, this, name](Interpreter& in, CallArgs& args) -> Value {
    DepthCount guard(call_depth_, limits_.max_call_depth, in);
    Restore<std::shared_ptr<Scope>> restore(scope_);
    Restore<const Node*> restore_node(current_);
    // Defaults are evaluated in the macro's defining scope, before parameters are bound.
    scope_ = self_ref(closure);
    auto frame = std::make_shared<Scope>();
    frame->parent = scope_;
    std::vector<bool> bound(node->params.size(), false);
    std::vector<Value> varargs;
    for (size_t i = 0; i < args.positional.size(); ++i) {
      if (i < node->params.size()) {
        frame->vars.emplace_back(node->params[i], args.positional[i]);
        bound[i] = true;
      } else {
        varargs.push_back(args.positional[i]);
      }
    }
    Value kwargs = Value::dict();
    for (auto& [k, v] : args.keyword) {
      bool matched = false;
      for (size_t i = 0; i < node->params.size(); ++i) {
        if (node->params[i] == k) {
          if (bound[i]) fail("TypeError: macro '" + name + "' got multiple values for argument '" + k + "'");
          frame->vars.emplace_back(k, v);
          bound[i] = matched = true;
        }
      }
      if (!matched) {
        if (k == "caller") frame->vars.emplace_back(k, v);
        else kwargs.dict_data().set(k, v);
      }
    }
    for (size_t i = 0; i < node->params.size(); ++i) {
      if (bound[i]) continue;
      const NodePtr& def = node->kids[first_default + i];
      frame->vars.emplace_back(node->params[i], def ? eval(*def)
                                                    : Value::undefined("parameter '" + node->params[i] + "' was not provided"));
    }
    frame->vars.emplace_back("varargs", Value::list(std::move(varargs)));
    frame->vars.emplace_back("kwargs", kwargs);
    scope_ = frame;
    std::string out;
    exec_body(node->body, out);
    return Value::string(std::move(out));
  });
}

std::shared_ptr<Interpreter::Scope> Interpreter::self_ref(Scope* s) const {
  for (const auto& p : captured_scopes_)
    if (p.get() == s) return p;
  fail("internal error: macro scope is gone");
}

void Interpreter::exec_macro(const Node& n) { assign(n.name, make_macro(n, scope_, n.name)); }

void Interpreter::exec_call_block(const Node& n, std::string& out) {
  const Node& call = *n.kids[0];
  Value callee = eval(*call.kids[0]);
  CallArgs args;
  collect_args(call, 1, args);
  args.keyword.emplace_back("caller", make_macro(n, scope_, "caller"));
  current_ = &n;
  emit(out, this->call(callee, args));
}

// ---- expressions -----------------------------------------------------------------------------
void Interpreter::collect_args(const Node& n, size_t first, CallArgs& args) {
  for (size_t i = first; i < n.kids.size(); ++i) {
    const std::string& kw = n.arg_names[i - first];
    if (kw.empty()) args.positional.push_back(eval(*n.kids[i]));
    else args.keyword.emplace_back(kw, eval(*n.kids[i]));
  }
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
  if (callee.is_undefined()) fail("UndefinedError: " + (callee.str().empty() ? std::string("undefined value") : callee.str()) + " (not callable)");
  if (!callee.is_callable()) fail("TypeError: '" + callee.type_name() + "' object is not callable");
  return callee.callable_data().fn(*this, args);
}

Value Interpreter::filter(const std::string& name, const Value& operand, CallArgs& args) {
  return apply_filter(*this, name, operand, args);
}
bool Interpreter::test(const std::string& name, const Value& operand, CallArgs& args) {
  return apply_test(*this, name, operand, args);
}

Value Interpreter::eval(const Node& n) {
  DepthCount guard(eval_depth_, limits_.max_eval_depth, *this);
  step();
  current_ = &n;
  switch (n.kind) {
    case NodeKind::literal: return n.value;
    case NodeKind::name: return lookup(n.name);
    case NodeKind::list:
    case NodeKind::tuple: {
      std::vector<Value> items;
      for (const auto& k : n.kids) items.push_back(eval(*k));
      return Value::list(std::move(items), n.kind == NodeKind::tuple);
    }
    case NodeKind::dict: {
      Value d = Value::dict();
      for (size_t i = 0; i + 1 < n.kids.size(); i += 2) {
        Value k = eval(*n.kids[i]);
        Value v = eval(*n.kids[i + 1]);
        if (!k.is_string()) fail("TypeError: only string keys are supported in dict literals");
        d.dict_data().set(k.str(), std::move(v));
      }
      return d;
    }
    case NodeKind::getattr: {
      Value obj = eval(*n.kids[0]);
      current_ = &n;
      return get_attribute(*this, obj, n.name);
    }
    case NodeKind::getitem: {
      Value obj = eval(*n.kids[0]);
      Value key = eval(*n.kids[1]);
      current_ = &n;
      return get_item(*this, obj, key);
    }
    case NodeKind::slice: {
      Value obj = eval(*n.kids[0]);
      Value parts[3];
      for (int i = 0; i < 3; ++i)
        if (n.kids[1 + i]) parts[i] = eval(*n.kids[1 + i]);
      current_ = &n;
      if (obj.is_undefined()) fail("UndefinedError: " + obj.str());
      int64_t step_v = 1;
      if (!parts[2].is_undefined() && !parts[2].is_none()) {
        if (!parts[2].is_int()) fail("TypeError: slice indices must be integers or None");
        step_v = parts[2].as_int();
        if (step_v == 0) fail("ValueError: slice step cannot be zero");
      }
      std::vector<uint32_t> cps;
      size_t size;
      if (obj.is_string()) {
        cps = utf8_decode(obj.str());
        size = cps.size();
      } else if (obj.is_list() && !obj.list_data().generator) {
        size = obj.list_data().items.size();
      } else {
        fail("TypeError: '" + obj.type_name() + "' object is not subscriptable");
      }
      const auto len = static_cast<int64_t>(size);
      auto bound = [&](const Value& v, int64_t dflt, bool is_start) {
        if (v.is_undefined() || v.is_none()) return dflt;
        if (!v.is_int() && !v.is_bool()) fail("TypeError: slice indices must be integers or None");
        int64_t x = v.as_int();
        if (x < 0) x += len;
        if (step_v > 0) return std::clamp<int64_t>(x, 0, len);
        (void)is_start;
        return std::clamp<int64_t>(x, -1, len - 1);
      };
      int64_t start = bound(parts[0], step_v > 0 ? 0 : len - 1, true);
      int64_t stop = bound(parts[1], step_v > 0 ? len : -1, false);
      std::vector<size_t> idx;
      if (step_v > 0)
        for (int64_t i = start; i < stop; i += step_v) idx.push_back(static_cast<size_t>(i));
      else
        for (int64_t i = start; i > stop; i += step_v) idx.push_back(static_cast<size_t>(i));
      if (obj.is_string()) {
        std::string s;
        for (size_t i : idx) utf8_append(s, cps[i]);
        return Value::string(std::move(s), obj.is_safe());
      }
      std::vector<Value> items;
      for (size_t i : idx) items.push_back(obj.list_data().items[i]);
      return Value::list(std::move(items), obj.list_data().tuple);
    }
    case NodeKind::call: return eval_call(n);
    case NodeKind::filter: return eval_filter(n);
    case NodeKind::test: return eval_test(n);
    case NodeKind::placeholder:
      if (placeholder_.empty()) fail("internal error: placeholder outside a filter block");
      return placeholder_.back();
    case NodeKind::unary: {
      Value v = eval(*n.kids[0]);
      current_ = &n;
      if (n.name == "not") return Value::boolean(!v.truthy());
      if (v.is_undefined()) fail("UndefinedError: " + v.str());
      if (!v.is_number()) fail("TypeError: bad operand type for unary " + n.name + ": '" + v.type_name() + "'");
      if (n.name == "+") return v.is_float() ? v : Value::integer(v.as_int());
      if (v.is_float()) return Value::floating(-v.as_float());
      if (v.as_int() == INT64_MIN) fail("OverflowError: integer too large");
      return Value::integer(-v.as_int());
    }
    case NodeKind::logical: {
      Value a = eval(*n.kids[0]);
      if (n.name == "and") return a.truthy() ? eval(*n.kids[1]) : a;
      return a.truthy() ? a : eval(*n.kids[1]);
    }
    case NodeKind::binary: return eval_binary(n);
    case NodeKind::compare: return eval_compare(n);
    case NodeKind::conditional: {
      if (eval(*n.kids[1]).truthy()) return eval(*n.kids[0]);
      if (n.kids[2]) return eval(*n.kids[2]);
      return Value::undefined("the inline if-expression evaluated to false and no else section was defined");
    }
    default: fail("internal error: statement used as an expression");
  }
}

Value Interpreter::eval_call(const Node& n) {
  Value callee = eval(*n.kids[0]);
  CallArgs args;
  collect_args(n, 1, args);
  current_ = &n;
  return call(callee, args);
}

Value Interpreter::eval_filter(const Node& n) {
  Value operand = eval(*n.kids[0]);
  CallArgs args;
  collect_args(n, 1, args);
  current_ = &n;
  return apply_filter(*this, n.name, operand, args);
}

Value Interpreter::eval_test(const Node& n) {
  Value operand = eval(*n.kids[0]);
  CallArgs args;
  collect_args(n, 1, args);
  current_ = &n;
  bool r = apply_test(*this, n.name, operand, args);
  return Value::boolean(n.negated ? !r : r);
}

static bool contains(Interpreter& in, const Value& container, const Value& item) {
  switch (container.kind()) {
    case ValueKind::undefined: return false;
    case ValueKind::string:
      if (!item.is_string()) in.fail("TypeError: 'in <string>' requires string as left operand, not " + item.type_name());
      return container.str().find(item.str()) != std::string::npos;
    case ValueKind::list:
      for (const auto& v : container.list_data().items)
        if (values_equal(v, item)) return true;
      return false;
    case ValueKind::dict:
      return item.is_string() && container.dict_data().find(item.str()) != nullptr;
    default: in.fail("TypeError: argument of type '" + container.type_name() + "' is not iterable");
  }
}

Value Interpreter::eval_compare(const Node& n) {
  Value left = eval(*n.kids[0]);
  for (size_t i = 0; i < n.ops.size(); ++i) {
    Value right = eval(*n.kids[i + 1]);
    current_ = &n;
    const std::string& op = n.ops[i];
    bool r;
    if (op == "==") r = values_equal(left, right);
    else if (op == "!=") r = !values_equal(left, right);
    else if (op == "in") r = contains(*this, right, left);
    else if (op == "notin") r = !contains(*this, right, left);
    else {
      if (left.is_undefined() || right.is_undefined())
        fail("UndefinedError: " + (left.is_undefined() ? left.str() : right.str()));
      try {
        if (op == "<") r = value_less(left, right);
        else if (op == ">") r = value_less(right, left);
        else if (op == "<=") r = !value_less(right, left);
        else r = !value_less(left, right);
      } catch (const TemplateError& e) {
        fail(e.message);
      }
    }
    if (!r) return Value::boolean(false);
    left = std::move(right);
  }
  return Value::boolean(true);
}

Value Interpreter::eval_binary(const Node& n) {
  Value a = eval(*n.kids[0]);
  Value b = eval(*n.kids[1]);
  current_ = &n;
  const std::string& op = n.name;
  if (op == "~") {
    std::string s = to_str(a, limits_.max_value_depth);
    std::string t = to_str(b, limits_.max_value_depth);
    check_size(s.size() + t.size());
    return Value::string(s + t);
  }
  if (a.is_undefined()) fail("UndefinedError: " + a.str());
  if (b.is_undefined()) fail("UndefinedError: " + b.str());
  auto type_error = [&]() {
    if (op == "+" && a.is_string() && !b.is_string())
      fail("TypeError: can only concatenate str (not \"" + b.type_name() + "\") to str");
    if (op == "+" && a.is_list() && !a.list_data().tuple)
      fail("TypeError: can only concatenate list (not \"" + b.type_name() + "\") to list");
    fail("TypeError: unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" + b.type_name() + "'");
  };
  if (a.is_number() && b.is_number()) {
    bool fl = a.is_float() || b.is_float();
    if (op == "/") {
      if (b.as_float() == 0) fail("ZeroDivisionError: division by zero");
      return Value::floating(a.as_float() / b.as_float());
    }
    if (fl) {
      double x = a.as_float(), y = b.as_float();
      if (op == "+") return Value::floating(x + y);
      if (op == "-") return Value::floating(x - y);
      if (op == "*") return Value::floating(x * y);
      if (op == "**") return Value::floating(std::pow(x, y));
      if (y == 0) fail("ZeroDivisionError: float division by zero");
      if (op == "//") return Value::floating(std::floor(x / y));
      if (op == "%") {
        double m = std::fmod(x, y);
        if (m != 0 && ((m < 0) != (y < 0))) m += y;
        return Value::floating(m);
      }
    } else {
      int64_t x = a.as_int(), y = b.as_int(), r = 0;
      bool over = false;
      if (op == "+") over = add_overflows(x, y, &r);
      else if (op == "-") over = sub_overflows(x, y, &r);
      else if (op == "*") over = mul_overflows(x, y, &r);
      else if (op == "**") {
        if (y < 0) return Value::floating(std::pow(static_cast<double>(x), static_cast<double>(y)));
        r = 1;
        for (int64_t i = 0; i < y && !over; ++i) {
          over = mul_overflows(r, x, &r);
          if (r == 0 || r == 1) break;
          step();
        }
        if (x == -1) r = (y % 2) ? -1 : 1;
      } else {
        if (y == 0) fail("ZeroDivisionError: integer division or modulo by zero");
        if (x == INT64_MIN && y == -1) over = true;
        else r = op == "//" ? floor_div(x, y) : py_mod(x, y);
      }
      if (over) fail("OverflowError: integer result out of the supported 64-bit range");
      return Value::integer(r);
    }
  }
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      check_size(a.str().size() + b.str().size());
      // markupsafe: Markup + str escapes the str; the result stays Markup.
      if (a.is_safe() && !b.is_safe()) return Value::string(a.str() + html_escape(b.str()), true);
      if (!a.is_safe() && b.is_safe()) return Value::string(html_escape(a.str()) + b.str(), true);
      return Value::string(a.str() + b.str(), a.is_safe());
    }
    if (a.is_list() && b.is_list() && a.list_data().tuple == b.list_data().tuple && !a.list_data().generator &&
        !b.list_data().generator) {
      std::vector<Value> items = a.list_data().items;
      check_size(items.size() + b.list_data().items.size());
      items.insert(items.end(), b.list_data().items.begin(), b.list_data().items.end());
      return Value::list(std::move(items), a.list_data().tuple);
    }
    type_error();
  }
  if (op == "*") {
    const Value* seq = a.is_int() || a.is_bool() ? &b : &a;
    const Value* cnt = seq == &b ? &a : &b;
    if ((cnt->is_int() || cnt->is_bool()) && (seq->is_string() || seq->is_list())) {
      int64_t times = std::max<int64_t>(0, cnt->as_int());
      if (seq->is_string()) {
        if (times > 0 && seq->str().size() > 0) check_size(seq->str().size() * std::min<int64_t>(times, INT32_MAX));
        std::string out;
        for (int64_t i = 0; i < times; ++i) out += seq->str();
        return Value::string(std::move(out), seq->is_safe());
      }
      const auto& src = seq->list_data().items;
      if (times > 0 && !src.empty()) check_size(src.size() * std::min<int64_t>(times, INT32_MAX));
      std::vector<Value> items;
      for (int64_t i = 0; i < times; ++i) items.insert(items.end(), src.begin(), src.end());
      return Value::list(std::move(items), seq->list_data().tuple);
    }
  }
  if (op == "%" && a.is_string()) return Value::string(py_percent_format(*this, a.str(), b));
  type_error();
  return Value();
}

}  // namespace agora::chat
