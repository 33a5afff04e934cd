// Lexer of the Jinja2 template language, configured as transformers configures Jinja2:
// trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False.
//
// Whitespace control is resolved here: text tokens come out already stripped by `-`, `+`,
// trim_blocks and lstrip_blocks, so the parser and evaluator never see raw whitespace rules.
// `{% raw %}…{% endraw %}` becomes one text token. Comments disappear.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/util/status.h"

namespace agora::chat {

enum class TokenType {
  text,         // literal template text (value)
  var_begin,    // {{
  var_end,      // }}
  block_begin,  // {%
  block_end,    // %}
  name,         // identifier or keyword (value)
  string,       // string literal, unescaped (value)
  integer,      // (int_value)
  floating,     // (float_value)
  op,           // operator or punctuation (value)
  eof,
};

struct Token {
  TokenType type = TokenType::eof;
  std::string value;
  int64_t int_value = 0;
  double float_value = 0;
  int line = 1;
  int col = 1;
};

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

// Splits `source` into tokens. Errors (unterminated tag, string or comment; stray character)
// name the line and column.
Result<std::vector<Token>> tokenize(std::string_view source, const LexOptions& options = {});

}  // namespace agora::chat
