// Grammars the engine offers without user input: `json_object` mode and the JSON building blocks
// the JSON Schema converter reuses. Whitespace and number lengths are bounded so that a model
// cannot loop forever inside one value's padding or digits.
#pragma once

#include <string>

namespace agora {

// GBNF for any JSON object (response_format {"type":"json_object"}); start rule `root`.
const std::string& json_object_gbnf();
// GBNF for any JSON value; start rule `root`.
const std::string& json_value_gbnf();
// The shared rule definitions (no `root`): json-ws, json-value, json-object, json-array,
// json-string, json-char, json-number, json-integer, json-boolean, json-null.
const std::string& json_primitives_gbnf();

}  // namespace agora
