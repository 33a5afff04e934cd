// JSON Schema -> grammar (response_format json_schema, tool parameters). The only part of the
// engine that reads JSON: the schema arrives as text and is parsed here, with depth and size
// caps checked before parsing.
//
//   auto gbnf = json_schema_to_gbnf(schema_text, {.strict = true});   // GBNF text, start `root`
//   auto grammar = compile_json_schema(schema_text, {.strict = true}); // ready for the matcher
//
// Supported keywords: type (incl. unions), properties, required, additionalProperties, enum,
// const, items, prefixItems, minItems, maxItems, minLength, maxLength, pattern (see
// regex_to_gbnf.h), format (date, time, date-time, uuid, email), minimum / maximum /
// exclusiveMinimum / exclusiveMaximum (integers), anyOf, oneOf (as anyOf), allOf (of object
// schemas), $ref to "#..." JSON pointers (incl. $defs / definitions, recursion), and the
// annotations title, description, default, examples, $schema, $id, $comment, deprecated,
// readOnly, writeOnly. Anything else is an error naming the keyword(s) and the schema path.
//
// Generation choices: properties appear in declaration order, required ones always, optional
// ones possibly omitted; with `properties` and no `additionalProperties` no extra keys are
// generated; whitespace between tokens is bounded (builtin_grammars.h). `{}` and `true` mean any
// JSON value.
//
// strict (OpenAI Structured Outputs rules): the root is an object schema; every object lists all
// its properties in `required` and sets `additionalProperties: false`.
#pragma once

#include <string>
#include <string_view>

#include "engine/grammar/grammar.h"
#include "engine/util/status.h"

namespace agora {

struct JsonSchemaOptions {
  bool strict = false;
};

// GBNF text for the JSON documents valid under `schema`; errors are invalid_argument (bad or
// unsupported schema) or out_of_range (a limit in grammar_limits.h).
Result<std::string> json_schema_to_gbnf(std::string_view schema, const JsonSchemaOptions& options = {});

// json_schema_to_gbnf + parse_gbnf.
Result<Grammar> compile_json_schema(std::string_view schema, const JsonSchemaOptions& options = {});

}  // namespace agora
