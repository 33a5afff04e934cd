// Python str semantics on UTF-8 strings: strip/split/case mapping/replace/format.
// Case mapping covers ASCII, Latin-1, Greek and Cyrillic; other scripts are left unchanged.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/chat/template_value.h"

namespace agora::chat {

class Interpreter;

// str.strip/lstrip/rstrip: `chars` = set of characters to strip, or Python whitespace.
std::string py_strip(const std::string& s, const std::optional<std::string>& chars, bool left, bool right);
// str.split() / str.rsplit() without a separator (runs of whitespace); limit < 0 = no limit.
std::vector<std::string> py_split_whitespace(const std::string& s, int64_t limit, bool from_right);
// str.split(sep) / str.rsplit(sep); sep must be non-empty.
std::vector<std::string> py_split(const std::string& s, const std::string& sep, int64_t limit, bool from_right);
std::vector<std::string> py_splitlines(const std::string& s, bool keepends);
std::string py_upper(const std::string& s);
std::string py_lower(const std::string& s);
std::string py_title(const std::string& s);
std::string py_capitalize(const std::string& s);
std::string py_replace(const std::string& s, const std::string& from, const std::string& to, int64_t count);
// str.isdigit/isalpha/isalnum/isspace/islower/isupper/isnumeric/isdecimal.
bool py_is(const std::string& s, const std::string& what);
// str.format with {} / {0} / {name} fields (no format specs beyond an empty one).
std::string py_format(Interpreter& in, const std::string& fmt, CallArgs& args);

// Python's `fmt % arg` (arg a tuple for several fields): %s %r %d %i %f %%.
std::string py_percent_format(Interpreter& in, const std::string& fmt, const Value& arg);

}  // namespace agora::chat
