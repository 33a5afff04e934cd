// Integer ranges as digit patterns. Contracts in int_range_gbnf.h.
//
// Non-negative [a, b] is split by digit count; for equal lengths, strings A <= B are handled by
// the classic prefix decomposition: common prefix, then A's first digit followed by [A', 9..9],
// the digits strictly between followed by anything, and B's first digit followed by [0..0, B'].
// Recursion depth is bounded by the digit count (at most 20).
#include "engine/grammar/int_range_gbnf.h"

#include <string>
#include <vector>

namespace agora {

namespace {

std::string digit_class(char lo, char hi) {
  if (lo == hi) return std::string("\"") + lo + "\"";
  if (lo == '0' && hi == '9') return "[0-9]";
  return std::string("[") + lo + "-" + hi + "]";
}

std::string any_digits(size_t n) {
  if (n == 0) return "";
  if (n == 1) return "[0-9]";
  return "[0-9]{" + std::to_string(n) + "}";
}

// Same-length digit strings a <= b: alternatives appended to `alts`, each prefixed by `prefix`.
void same_length(const std::string& prefix, const std::string& a, const std::string& b,
                 std::vector<std::string>& alts) {
  if (a.empty()) {
    alts.push_back(prefix.empty() ? "\"\"" : prefix);
    return;
  }
  const size_t rest = a.size() - 1;
  if (a[0] == b[0]) {
    same_length(prefix + " \"" + a[0] + "\"", a.substr(1), b.substr(1), alts);
    return;
  }
  const bool a_zeros = a.find_first_not_of('0', 1) == std::string::npos;
  const bool b_nines = b.find_first_not_of('9', 1) == std::string::npos;
  char lo = a[0], hi = b[0];
  if (!a_zeros) {
    same_length(prefix + " \"" + a[0] + "\"", a.substr(1), std::string(rest, '9'), alts);
    ++lo;
  }
  if (!b_nines) --hi;
  if (lo <= hi) alts.push_back(prefix + " " + digit_class(lo, hi) + " " + any_digits(rest));
  if (!b_nines) {
    same_length(prefix + " \"" + b[0] + "\"", std::string(rest, '0'), b.substr(1), alts);
  }
}

uint64_t pow10(size_t n) {
  uint64_t p = 1;
  while (n--) p *= 10;
  return p;
}

// Non-negative [a, b] (b absent: unbounded).
void unsigned_range(uint64_t a, std::optional<uint64_t> b, std::vector<std::string>& alts) {
  std::string as = std::to_string(a);
  if (b && *b < a) return;
  std::string bs = b ? std::to_string(*b) : "";
  for (size_t len = as.size(); len <= 20; ++len) {
    if (b && len > bs.size()) break;
    uint64_t lo = len == as.size() ? a : pow10(len - 1);
    if (!b && len > as.size()) {  // every longer number
      alts.push_back("[1-9] [0-9]{" + std::to_string(len - 1) + ",}");
      break;
    }
    std::string los = std::to_string(lo);
    std::string his = (b && len == bs.size()) ? bs : std::string(len, '9');
    same_length("", los, his, alts);
  }
}

std::string join(const std::vector<std::string>& alts) {
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) {
    if (i) out += " |";
    out += " " + alts[i];
  }
  return out + " )";
}

uint64_t magnitude(int64_t v) { return v < 0 ? uint64_t{0} - static_cast<uint64_t>(v) : static_cast<uint64_t>(v); }

}  // namespace

std::string int_range_gbnf(std::optional<int64_t> lo, std::optional<int64_t> hi) {
  std::vector<std::string> alts;
  // Negative part: -m for m in [max(1, -hi), -lo].
  if (!lo || *lo < 0) {
    std::vector<std::string> neg;
    uint64_t m_lo = (hi && *hi < 0) ? magnitude(*hi) : 1;
    std::optional<uint64_t> m_hi;
    if (lo) m_hi = magnitude(*lo);
    unsigned_range(m_lo, m_hi, neg);
    for (auto& s : neg) alts.push_back("\"-\" " + s);
  }
  // Non-negative part: [max(0, lo), hi].
  if (!hi || *hi >= 0) {
    uint64_t a = (lo && *lo > 0) ? static_cast<uint64_t>(*lo) : 0;
    std::optional<uint64_t> b;
    if (hi) b = static_cast<uint64_t>(*hi);
    unsigned_range(a, b, alts);
  }
  return join(alts);
}

}  // namespace agora
