// A small, strict JSON reader producing template Values. The engine knows no JSON library; this
// exists so callers can hand over tool schemas / tool-call arguments as text, and so the
// tool-call parser can check that model output is valid JSON. Depth is capped (kMaxJsonDepth);
// numbers without fraction/exponent that fit int64 become ints, others floats; object key order
// is kept; duplicate keys keep the last value (as Python's json does).
#pragma once

#include <string>
#include <string_view>

#include "engine/chat/template_value.h"
#include "engine/util/status.h"

namespace agora::chat {

// Parses exactly one JSON value (surrounding whitespace allowed). Errors name the byte offset.
Result<Value> parse_json(std::string_view text);
// Length of the JSON value that starts at text[0] (after optional leading whitespace), or an
// error when the prefix is not a complete JSON value. Used to find where a JSON object written
// by a model ends inside longer text.
Result<size_t> json_prefix_length(std::string_view text);
// Compact serialisation as Python's json.dumps(ensure_ascii=False) writes it: ", " and ": ".
std::string dump_json(const Value& v);

}  // namespace agora::chat
