// Evaluator: walks a parsed template with a context of variables and produces the output
// text, following Jinja2's semantics as transformers configures it (ImmutableSandboxed
// environment, default Undefined, transformers' tojson/raise_exception/strftime_now).
//
// An Interpreter renders once: it owns the scopes, the output buffer and the step counter.
// The AST is only read, so one parsed template can be rendered by many interpreters (threads)
// at once. Every resource is capped by TemplateLimits; exceeding one is an error, never a hang.
#pragma once

#include <memory>
#include <optional>
#include <unordered_set>
#include <string>
#include <vector>

#include "engine/chat/template_ast.h"
#include "engine/chat/template_limits.h"
#include "engine/chat/template_value.h"

namespace agora::chat {

// Broken-down local time for strftime_now (fixed in tests, the wall clock otherwise).
struct TemplateTime {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
};
// Parses "YYYY-MM-DD[THH:MM[:SS]]"; nullopt when malformed.
std::optional<TemplateTime> parse_iso_time(const std::string& s);
// The current local time.
TemplateTime current_time();
// Python's strftime for the directives templates use (%d %b %B %Y %y %m %H %M %S %I %p %A %a %j %%).
std::string format_time(const TemplateTime& t, const std::string& format);

class Interpreter {
 public:
  Interpreter(const TemplateLimits& limits, TemplateTime now) : limits_(limits), now_(now) {}

  // Renders `root` (a body node) with `context` (a dict of top-level variables). Throws
  // TemplateError; callers at the API boundary catch it.
  std::string render(const Node& root, const Value& context);

  // ---- services for filters, tests, methods and builtins ----
  Value call(const Value& callee, CallArgs& args);
  Value filter(const std::string& name, const Value& operand, CallArgs& args);
  bool test(const std::string& name, const Value& operand, CallArgs& args);
  // Counts one evaluation step; throws when limits.max_steps is exceeded.
  void step();
  // Throws when a value of `bytes` bytes would exceed limits.max_output_bytes.
  void check_size(size_t bytes) const;
  const TemplateLimits& limits() const { return limits_; }
  const TemplateTime& now() const { return now_; }
  // Error with the position of the node being evaluated.
  [[noreturn]] void fail(const std::string& message) const;

  struct Scope;

 private:
  struct Frame;
  enum class Flow { normal, break_, continue_ };

  Flow exec_body(const std::vector<NodePtr>& body, std::string& out);
  Flow exec(const Node& n, std::string& out);
  void exec_for(const Node& n, std::string& out);
  void exec_set(const Node& n);
  void exec_macro(const Node& n);
  void exec_call_block(const Node& n, std::string& out);
  Value eval(const Node& n);
  Value eval_binary(const Node& n);
  Value eval_compare(const Node& n);
  Value eval_call(const Node& n);
  Value eval_filter(const Node& n);
  Value eval_test(const Node& n);
  void collect_args(const Node& n, size_t first, CallArgs& args);
  std::shared_ptr<Scope> self_ref(Scope* s) const;
  Value make_macro(const Node& n, std::shared_ptr<Scope> closure, std::string name);
  Value lookup(const std::string& name) const;
  void assign(const std::string& name, Value v);
  void emit(std::string& out, const Value& v);

  const TemplateLimits& limits_;
  TemplateTime now_;
  uint64_t steps_ = 0;
  int call_depth_ = 0;
  int eval_depth_ = 0;
  size_t total_output_ = 0;
  const Node* current_ = nullptr;
  std::shared_ptr<Scope> scope_;
  std::vector<Value> placeholder_;
  std::vector<std::shared_ptr<Scope>> captured_scopes_;  // scopes macros close over
  std::unordered_set<const Scope*> captured_;  // values of nested {% filter %} block bodies
};

// True when `v` is, or (transitively) contains, the container whose data is at `target`.
// Mutations use it to refuse reference cycles, which would leak and recurse forever.
bool reaches(const Value& v, const void* target, int depth_cap);

// Attribute lookup as Jinja's sandboxed getattr does: Python attribute (method) first, then
// item. Returns undefined (with a hint) when neither exists.
Value get_attribute(Interpreter& in, const Value& obj, const std::string& name);
// Subscript as Jinja's getitem does: item first, then attribute for string keys.
Value get_item(Interpreter& in, const Value& obj, const Value& key);
// The bound method `name` of `obj` (str/list/dict methods), or undefined when none.
Value get_method(const Value& obj, const std::string& name);
// Items that iterating `v` yields (list items, dict keys, string characters). Throws for
// values that are not iterable; undefined iterates as empty.
std::vector<Value> iterate(const Value& v);
// The builtin globals: range, namespace, dict, raise_exception, strftime_now, ...
Value get_builtin(const std::string& name);
// Filters and tests (template_filters.cpp).
Value apply_filter(Interpreter& in, const std::string& name, const Value& v, CallArgs& args);
bool apply_test(Interpreter& in, const std::string& name, const Value& v, CallArgs& args);

}  // namespace agora::chat
