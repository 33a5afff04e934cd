// GBNF (llama.cpp's grammar format) -> Grammar.
//
// Supported: `name ::= ...` rules (names [A-Za-z0-9_-]+, `root` is the start), alternation `|`,
// grouping `( )`, string literals "..." , character classes `[a-z]` / `[^...]`, `.` (any code
// point), postfix `*` `+` `?` `{m}` `{m,}` `{m,n}` `{,n}`, escapes \n \r \t \\ \" \' \[ \] \- \^
// \xHH \uHHHH \UHHHHHHHH, `#` comments, newlines inside parentheses and before a continuing `|`.
// Not supported: llama.cpp token references (`<[id]>`, `<think>`) — an error names them.
//
// Errors are values: ErrorCode::invalid_argument (syntax, undefined rule, left recursion) or
// out_of_range (a limit from grammar_limits.h), with a message "line L, column C: ...".
// Input size and nesting are capped before any work that could grow with them.
#pragma once

#include <string_view>

#include "engine/grammar/grammar.h"
#include "engine/util/status.h"

namespace agora {

Result<Grammar> parse_gbnf(std::string_view text, std::string_view root_rule = "root");

}  // namespace agora
