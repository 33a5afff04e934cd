// Recursive-descent parser following Jinja2's grammar and operator precedence:
//   conditional > or > and > not > compare (==, !=, <, <=, >, >=, in, not in) > + -
//   > ~ > * / // % > ** > unary - + > primary with postfix (. [] ()) and filters/tests.
#include "engine/chat/template_parser.h"

#include <initializer_list>

#include "engine/chat/template_lexer.h"

namespace agora::chat {
namespace {

struct ParseError {
  std::string message;
  int line, col;
};

class Parser {
 public:
  Parser(std::vector<Token> tokens, const TemplateLimits& limits) : toks_(std::move(tokens)), limits_(limits) {}

  NodePtr parse_root() {
    auto root = make(NodeKind::body);
    std::string end = parse_body(root->body, {});
    if (!end.empty()) fail("unexpected '" + end + "'");
    return root;
  }

 private:
  std::vector<Token> toks_;
  size_t pos_ = 0;
  const TemplateLimits& limits_;
  int depth_ = 0;

  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.depth_ > p.limits_.max_parse_depth)
        p.fail("template nested deeper than " + std::to_string(p.limits_.max_parse_depth) + " levels");
    }
    ~DepthGuard() { --p.depth_; }
  };

  const Token& cur() const { return toks_[pos_]; }
  const Token& peek(size_t n = 1) const { return toks_[std::min(pos_ + n, toks_.size() - 1)]; }
  void advance() {
    if (pos_ + 1 < toks_.size()) ++pos_;
  }
  [[noreturn]] void fail(const std::string& msg) const { throw ParseError{msg, cur().line, cur().col}; }

  bool is_op(const char* op) const { return cur().type == TokenType::op && cur().value == op; }
  bool is_name(const char* n) const { return cur().type == TokenType::name && cur().value == n; }
  void expect_op(const char* op) {
    if (!is_op(op)) fail(std::string("expected '") + op + "'");
    advance();
  }
  std::string expect_name() {
    if (cur().type != TokenType::name) fail("expected a name");
    std::string n = cur().value;
    advance();
    return n;
  }
  void expect_block_end() {
    if (cur().type != TokenType::block_end) fail("expected end of statement block");
    advance();
  }

  NodePtr make(NodeKind k) {
    auto n = std::make_unique<Node>();
    n->kind = k;
    n->line = cur().line;
    n->col = cur().col;
    return n;
  }

  // ---- statements ------------------------------------------------------------------------
  // Parses nodes into `out` until a block tag whose keyword is in `ends`; returns that keyword
  // (the stream is left on it), or "" at end of input (an error when `ends` is non-empty).
  std::string parse_body(std::vector<NodePtr>& out, std::initializer_list<const char*> ends) {
    DepthGuard guard(*this);
    while (cur().type != TokenType::eof) {
      const Token& t = cur();
      if (t.type == TokenType::text) {
        auto n = make(NodeKind::text);
        n->name = t.value;
        out.push_back(std::move(n));
        advance();
      } else if (t.type == TokenType::var_begin) {
        advance();
        auto n = make(NodeKind::output);
        n->kids.push_back(parse_tuple(true));
        if (cur().type != TokenType::var_end) fail("expected '}}'");
        advance();
        out.push_back(std::move(n));
      } else if (t.type == TokenType::block_begin) {
        advance();
        if (cur().type != TokenType::name) fail("expected a statement name");
        for (const char* e : ends)
          if (cur().value == e) return e;
        out.push_back(parse_statement());
      } else {
        fail("unexpected token");
      }
    }
    if (ends.size() != 0) {
      std::string expected;
      for (const char* e : ends) expected += std::string(expected.empty() ? "" : " or ") + "'" + e + "'";
      fail("unexpected end of template, expected " + expected);
    }
    return "";
  }

  NodePtr parse_statement() {
    const std::string kw = cur().value;
    if (kw == "if") return parse_if();
    if (kw == "for") return parse_for();
    if (kw == "set") return parse_set();
    if (kw == "macro") return parse_macro();
    if (kw == "call") return parse_call_block();
    if (kw == "filter") return parse_filter_block();
    if (kw == "with") return parse_with();
    if (kw == "generation") {  // transformers' AssistantTracker: renders its body unchanged
      auto n = make(NodeKind::body);
      advance();
      expect_block_end();
      parse_body(n->body, {"endgeneration"});
      advance();
      expect_block_end();
      return n;
    }
    if (kw == "break" || kw == "continue") {
      auto n = make(kw == "break" ? NodeKind::break_ : NodeKind::continue_);
      advance();
      expect_block_end();
      return n;
    }
    fail("unknown tag '" + kw + "'");
  }

  NodePtr parse_if() {
    auto n = make(NodeKind::if_);
    advance();  // if / elif
    n->kids.push_back(parse_tuple(true));
    expect_block_end();
    std::string end = parse_body(n->body, {"elif", "else", "endif"});
    if (end == "elif") {
      n->else_body.push_back(parse_if());
      return n;
    }
    if (end == "else") {
      advance();
      expect_block_end();
      parse_body(n->else_body, {"endif"});
    }
    advance();  // endif
    expect_block_end();
    return n;
  }

  std::vector<std::string> parse_targets() {
    std::vector<std::string> names;
    bool paren = is_op("(");
    if (paren) advance();
    names.push_back(expect_name());
    while (is_op(",")) {
      advance();
      if (cur().type != TokenType::name) break;
      names.push_back(expect_name());
    }
    if (paren) expect_op(")");
    return names;
  }

  NodePtr parse_for() {
    auto n = make(NodeKind::for_);
    advance();
    n->targets = parse_targets();
    if (!is_name("in")) fail("expected 'in'");
    advance();
    n->kids.push_back(parse_tuple(false));
    n->kids.emplace_back();
    if (is_name("if")) {
      advance();
      n->kids[1] = parse_expression(true);
    }
    if (is_name("recursive")) fail("recursive loops are not supported");
    expect_block_end();
    std::string end = parse_body(n->body, {"else", "endfor"});
    if (end == "else") {
      advance();
      expect_block_end();
      parse_body(n->else_body, {"endfor"});
    }
    advance();
    expect_block_end();
    return n;
  }

  NodePtr parse_set() {
    auto n = make(NodeKind::set);
    advance();
    if (cur().type == TokenType::name && peek().type == TokenType::op && peek().value == ".") {
      n->name = expect_name();
      advance();
      n->attr = expect_name();
      expect_op("=");
      n->kids.push_back(parse_tuple(true));
      expect_block_end();
      return n;
    }
    n->targets = parse_targets();
    if (is_op("=")) {
      advance();
      n->kids.push_back(parse_tuple(true));
      expect_block_end();
      return n;
    }
    if (n->targets.size() != 1) fail("expected '='");
    n->kind = NodeKind::set_block;
    n->kids.emplace_back();
    if (is_op("|")) n->kids[0] = parse_filters(make(NodeKind::placeholder));
    expect_block_end();
    parse_body(n->body, {"endset"});
    advance();
    expect_block_end();
    return n;
  }

  void parse_params(Node& n) {
    expect_op("(");
    while (!is_op(")")) {
      if (!n.params.empty()) expect_op(",");
      if (is_op(")")) break;
      n.params.push_back(expect_name());
      if (is_op("=")) {
        advance();
        n.kids.push_back(parse_expression(true));
      } else {
        n.kids.emplace_back();
      }
    }
    advance();
  }

  NodePtr parse_macro() {
    auto n = make(NodeKind::macro);
    advance();
    n->name = expect_name();
    parse_params(*n);
    expect_block_end();
    parse_body(n->body, {"endmacro"});
    advance();
    expect_block_end();
    return n;
  }

  NodePtr parse_call_block() {
    auto n = make(NodeKind::call_block);
    advance();
    auto holder = std::make_unique<Node>();
    if (is_op("(")) parse_params(*holder);
    n->params = std::move(holder->params);
    auto call = parse_expression(true);
    if (call->kind != NodeKind::call) fail("expected a call after 'call'");
    n->kids.push_back(std::move(call));
    for (auto& d : holder->kids) n->kids.push_back(std::move(d));  // defaults of caller params
    expect_block_end();
    parse_body(n->body, {"endcall"});
    advance();
    expect_block_end();
    return n;
  }

  NodePtr parse_filter_block() {
    auto n = make(NodeKind::filter_block);
    advance();
    auto holder = make(NodeKind::placeholder);
    // The first filter has no leading '|'.
    n->kids.push_back(parse_one_filter(std::move(holder)));
    if (is_op("|")) n->kids[0] = parse_filters(std::move(n->kids[0]));
    expect_block_end();
    parse_body(n->body, {"endfilter"});
    advance();
    expect_block_end();
    return n;
  }

  NodePtr parse_with() {
    auto n = make(NodeKind::with_);
    advance();
    while (cur().type != TokenType::block_end) {
      if (!n->targets.empty()) expect_op(",");
      n->targets.push_back(expect_name());
      expect_op("=");
      n->kids.push_back(parse_expression(true));
    }
    expect_block_end();
    parse_body(n->body, {"endwith"});
    advance();
    expect_block_end();
    return n;
  }

  // ---- expressions -----------------------------------------------------------------------
  NodePtr parse_tuple(bool with_condexpr) {
    auto first = parse_expression(with_condexpr);
    if (!is_op(",")) return first;
    auto t = make(NodeKind::tuple);
    t->kids.push_back(std::move(first));
    while (is_op(",")) {
      advance();
      if (cur().type == TokenType::block_end || cur().type == TokenType::var_end || is_op(")") || is_name("in") || is_op("="))
        break;
      t->kids.push_back(parse_expression(with_condexpr));
    }
    return t;
  }

  NodePtr parse_expression(bool with_condexpr) {
    DepthGuard guard(*this);
    auto expr = parse_or();
    if (!with_condexpr) return expr;
    while (is_name("if")) {
      auto n = make(NodeKind::conditional);
      advance();
      auto cond = parse_or();
      NodePtr otherwise;
      if (is_name("else")) {
        advance();
        otherwise = parse_expression(true);
      }
      n->kids.push_back(std::move(expr));
      n->kids.push_back(std::move(cond));
      n->kids.push_back(std::move(otherwise));
      expr = std::move(n);
    }
    return expr;
  }

  NodePtr binary(NodeKind k, const std::string& op, NodePtr a, NodePtr b) {
    auto n = make(k);
    n->line = a->line;
    n->col = a->col;
    n->name = op;
    n->kids.push_back(std::move(a));
    n->kids.push_back(std::move(b));
    return n;
  }

  NodePtr parse_or() {
    auto left = parse_and();
    while (is_name("or")) {
      advance();
      left = binary(NodeKind::logical, "or", std::move(left), parse_and());
    }
    return left;
  }
  NodePtr parse_and() {
    auto left = parse_not();
    while (is_name("and")) {
      advance();
      left = binary(NodeKind::logical, "and", std::move(left), parse_not());
    }
    return left;
  }
  NodePtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this);
      auto n = make(NodeKind::unary);
      n->name = "not";
      advance();
      n->kids.push_back(parse_not());
      return n;
    }
    return parse_compare();
  }
  NodePtr parse_compare() {
    auto first = parse_math1();
    NodePtr cmp;
    while (true) {
      std::string op;
      if (cur().type == TokenType::op && (cur().value == "==" || cur().value == "!=" || cur().value == "<" ||
                                          cur().value == "<=" || cur().value == ">" || cur().value == ">=")) {
        op = cur().value;
        advance();
      } else if (is_name("in")) {
        op = "in";
        advance();
      } else if (is_name("not") && peek().type == TokenType::name && peek().value == "in") {
        op = "notin";
        advance();
        advance();
      } else {
        break;
      }
      if (!cmp) {
        cmp = make(NodeKind::compare);
        cmp->line = first->line;
        cmp->col = first->col;
        cmp->kids.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->kids.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }
  NodePtr parse_math1() {
    auto left = parse_concat();
    while (is_op("+") || is_op("-")) {
      std::string op = cur().value;
      advance();
      left = binary(NodeKind::binary, op, std::move(left), parse_concat());
    }
    return left;
  }
  NodePtr parse_concat() {
    auto left = parse_math2();
    while (is_op("~")) {
      advance();
      left = binary(NodeKind::binary, "~", std::move(left), parse_math2());
    }
    return left;
  }
  NodePtr parse_math2() {
    auto left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      std::string op = cur().value;
      advance();
      left = binary(NodeKind::binary, op, std::move(left), parse_pow());
    }
    return left;
  }
  NodePtr parse_pow() {
    auto left = parse_unary(true);
    while (is_op("**")) {
      advance();
      left = binary(NodeKind::binary, "**", std::move(left), parse_unary(true));
    }
    return left;
  }
  NodePtr parse_unary(bool with_filter) {
    DepthGuard guard(*this);
    NodePtr node;
    if (is_op("-") || is_op("+")) {
      node = make(NodeKind::unary);
      node->name = cur().value;
      advance();
      node->kids.push_back(parse_unary(false));
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filters(std::move(node));
    return node;
  }

  NodePtr parse_primary() {
    const Token& t = cur();
    if (t.type == TokenType::name) {
      const std::string& v = t.value;
      auto n = make(NodeKind::literal);
      if (v == "true" || v == "True") n->value = Value::boolean(true);
      else if (v == "false" || v == "False") n->value = Value::boolean(false);
      else if (v == "none" || v == "None") n->value = Value::none();
      else {
        n->kind = NodeKind::name;
        n->name = v;
      }
      advance();
      return n;
    }
    if (t.type == TokenType::string) {
      auto n = make(NodeKind::literal);
      std::string s;
      while (cur().type == TokenType::string) {  // adjacent literals concatenate
        s += cur().value;
        advance();
      }
      n->value = Value::string(std::move(s));
      return n;
    }
    if (t.type == TokenType::integer || t.type == TokenType::floating) {
      auto n = make(NodeKind::literal);
      n->value = t.type == TokenType::integer ? Value::integer(t.int_value) : Value::floating(t.float_value);
      advance();
      return n;
    }
    if (is_op("(")) {
      advance();
      if (is_op(")")) {
        advance();
        return make(NodeKind::tuple);
      }
      auto inner = parse_expression(true);
      if (is_op(",")) {
        auto tup = make(NodeKind::tuple);
        tup->kids.push_back(std::move(inner));
        while (is_op(",")) {
          advance();
          if (is_op(")")) break;
          tup->kids.push_back(parse_expression(true));
        }
        inner = std::move(tup);
      }
      expect_op(")");
      return inner;
    }
    if (is_op("[")) {
      auto n = make(NodeKind::list);
      advance();
      while (!is_op("]")) {
        if (!n->kids.empty()) expect_op(",");
        if (is_op("]")) break;
        n->kids.push_back(parse_expression(true));
      }
      advance();
      return n;
    }
    if (is_op("{")) {
      auto n = make(NodeKind::dict);
      advance();
      while (!is_op("}")) {
        if (!n->kids.empty()) expect_op(",");
        if (is_op("}")) break;
        n->kids.push_back(parse_expression(true));
        expect_op(":");
        n->kids.push_back(parse_expression(true));
      }
      advance();
      return n;
    }
    fail("unexpected token '" + t.value + "'");
  }

  NodePtr parse_postfix(NodePtr node) {
    while (true) {
      if (is_op(".")) {
        advance();
        if (cur().type == TokenType::integer) {
          auto n = make(NodeKind::getitem);
          auto key = make(NodeKind::literal);
          key->value = Value::integer(cur().int_value);
          advance();
          n->kids.push_back(std::move(node));
          n->kids.push_back(std::move(key));
          node = std::move(n);
        } else {
          auto n = make(NodeKind::getattr);
          n->name = expect_name();
          n->kids.push_back(std::move(node));
          node = std::move(n);
        }
      } else if (is_op("[")) {
        node = parse_subscript(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  NodePtr parse_subscript(NodePtr obj) {
    auto n = make(NodeKind::getitem);
    advance();  // [
    NodePtr parts[3];
    int idx = 0;
    bool is_slice = false;
    while (!is_op("]")) {
      if (is_op(":")) {
        is_slice = true;
        if (++idx > 2) fail("invalid slice");
        advance();
        continue;
      }
      if (parts[idx]) fail("expected ']'");
      parts[idx] = parse_expression(true);
    }
    advance();
    n->kids.push_back(std::move(obj));
    if (is_slice) {
      n->kind = NodeKind::slice;
      for (auto& p : parts) n->kids.push_back(std::move(p));
    } else {
      if (!parts[0]) fail("expected a subscript");
      n->kids.push_back(std::move(parts[0]));
    }
    return n;
  }

  // Parses "(args)" into kids[first..] / arg_names of `n`.
  void parse_args(Node& n) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (is_op(")")) break;
      if (is_op("*") || is_op("**")) fail("*args and **kwargs in calls are not supported");
      if (cur().type == TokenType::name && peek().type == TokenType::op && peek().value == "=") {
        n.arg_names.push_back(cur().value);
        advance();
        advance();
      } else {
        n.arg_names.emplace_back();
      }
      n.kids.push_back(parse_expression(true));
    }
    advance();
  }

  NodePtr parse_call(NodePtr callee) {
    auto n = make(NodeKind::call);
    n->line = callee->line;
    n->col = callee->col;
    n->kids.push_back(std::move(callee));
    parse_args(*n);
    return n;
  }

  NodePtr parse_one_filter(NodePtr operand) {
    auto n = make(NodeKind::filter);
    n->name = expect_name();
    while (is_op(".")) {
      advance();
      n->name += "." + expect_name();
    }
    n->kids.push_back(std::move(operand));
    if (is_op("(")) parse_args(*n);
    return n;
  }

  NodePtr parse_filters(NodePtr node) {
    while (true) {
      if (is_op("|")) {
        advance();
        node = parse_one_filter(std::move(node));
      } else if (is_name("is")) {
        advance();
        auto n = make(NodeKind::test);
        if (is_name("not")) {
          n->negated = true;
          advance();
        }
        n->name = expect_name();
        n->kids.push_back(std::move(node));
        if (is_op("(")) {
          parse_args(*n);
        } else if ((cur().type == TokenType::name || cur().type == TokenType::string || cur().type == TokenType::integer ||
                    cur().type == TokenType::floating || is_op("[") || is_op("{")) &&
                   !is_name("else") && !is_name("or") && !is_name("and") && !is_name("if") && !is_name("in") &&
                   !is_name("is") && !is_name("not")) {
          auto arg = parse_postfix(parse_primary());
          n->kids.push_back(std::move(arg));
          n->arg_names.emplace_back();
        }
        node = std::move(n);
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }
};

}  // namespace

Result<NodePtr> parse_template(std::string_view source, const TemplateLimits& limits) {
  if (source.size() > limits.max_template_bytes)
    return Status(ErrorCode::out_of_range, "template is " + std::to_string(source.size()) +
                                               " bytes, more than the limit of " +
                                               std::to_string(limits.max_template_bytes));
  auto tokens = tokenize(source);
  if (!tokens.ok()) return tokens.status();
  try {
    Parser parser(std::move(tokens.value()), limits);
    return parser.parse_root();
  } catch (const ParseError& e) {
    return Status(ErrorCode::invalid_argument, "template syntax error at line " + std::to_string(e.line) +
                                                   ", column " + std::to_string(e.col) + ": " + e.message);
  }
}

}  // namespace agora::chat
