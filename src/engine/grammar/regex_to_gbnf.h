// A practical subset of ECMAScript regular expressions (JSON Schema `pattern`) -> GBNF.
//
// Supported: literals, escapes (\d \w \s \D \W \S \t \n \r \f \v \0 \xHH \uHHHH and escaped
// punctuation), `.`, classes `[...]` / `[^...]` with ranges and class escapes, groups `( )`,
// `(?: )`, `(?<name> )`, alternation `|`, quantifiers `* + ? {m} {m,} {m,n}` (a trailing lazy `?`
// is accepted and ignored), `^` at the start and `$` at the end.
// Rejected with an error naming the construct: backreferences, lookaround, word boundaries,
// anchors elsewhere, a quantifier with nothing to repeat (`foo**`), bounds over kMaxRepetition,
// nesting over kMaxPatternDepth, patterns over kMaxPatternBytes.
//
// The pattern is taken as a whole-string match (anchors implied): every generated string also
// matches the unanchored search semantics of JSON Schema, so outputs stay valid.
#pragma once

#include <string>
#include <string_view>

#include "engine/util/status.h"

namespace agora {

// `json_string_body`: emit the JSON-escaped form of each matched character (`"` as \", `\` as \\,
// control characters left out), so the result can sit between the quotes of a JSON string.
// Returns one parenthesised GBNF expression.
Result<std::string> regex_to_gbnf(std::string_view pattern, bool json_string_body);

}  // namespace agora
