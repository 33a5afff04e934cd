// Abstract syntax tree of a parsed template. One Node type with a kind tag keeps the tree
// plain data; the fields each kind uses are listed beside the kind. The tree is immutable after
// parsing and may be rendered by many threads at once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/chat/template_value.h"

namespace agora::chat {

enum class NodeKind {
  // ---- expressions
  literal,      // value
  name,         // name
  list,         // kids = items
  tuple,        // kids = items
  dict,         // kids = key0, value0, key1, value1, ...
  getattr,      // kids[0] = object, name = attribute
  getitem,      // kids[0] = object, kids[1] = key
  slice,        // kids[0] = object, kids[1..3] = start, stop, step (null when absent)
  call,         // kids[0] = callee, kids[1..] = args, arg_names[i] = keyword of kids[i+1] or ""
  filter,       // name; kids[0] = operand (placeholder in filter blocks), kids[1..] = args
  test,         // name; kids[0] = operand, kids[1..] = args; negated
  placeholder,  // the body output of a {% filter %} / {% set x | f %} block
  unary,        // name = "not" | "-" | "+"; kids[0]
  binary,       // name = "+", "-", "*", "/", "//", "%", "**", "~"; kids[0], kids[1]
  logical,      // name = "and" | "or"; kids[0], kids[1]
  compare,      // kids[0..n], ops[i] between kids[i] and kids[i+1]
  conditional,  // kids[0] = value, kids[1] = condition, kids[2] = else value (may be null)
  // ---- statements
  text,         // name = the text
  output,       // kids[0] = expression
  if_,          // kids[0] = condition; body; else_body (elif = nested if_ in else_body)
  for_,         // targets; kids[0] = iterable, kids[1] = filter condition (may be null); body; else_body
  set,          // targets (several = unpacking) or (name = namespace var, attr); kids[0] = value
  set_block,    // targets[0]; body; kids[0] = filter chain or null
  macro,        // name; params; kids = default values (null when none), parallel to params; body
  call_block,   // kids[0] = call expression; params (of caller); body
  filter_block, // kids[0] = filter chain; body
  with_,        // targets; kids = values; body
  break_,
  continue_,
  body,         // body (the template root, or {% generation %})
};

struct Node;
using NodePtr = std::unique_ptr<Node>;

struct Node {
  NodeKind kind;
  int line = 0;
  int col = 0;
  Value value;
  std::string name;
  std::string attr;
  bool negated = false;
  std::vector<NodePtr> kids;
  std::vector<std::string> arg_names;
  std::vector<std::string> ops;
  std::vector<std::string> targets;
  std::vector<std::string> params;
  std::vector<NodePtr> body;
  std::vector<NodePtr> else_body;
};

}  // namespace agora::chat
