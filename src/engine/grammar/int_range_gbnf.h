// GBNF for the decimal integers in a range, written the way JSON writes them (no leading zeros,
// no "-0"): used for JSON Schema `minimum` / `maximum` on integers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace agora {

// A GBNF expression (alternatives in one parenthesised group) matching exactly the integers n
// with lo <= n <= hi; an absent bound is unbounded on that side. Requires lo <= hi when both are
// given. Output size is O(digits^2), independent of the width of the range.
std::string int_range_gbnf(std::optional<int64_t> lo, std::optional<int64_t> hi);

}  // namespace agora
