// The compiled form of a context-free grammar over Unicode code points (the GBNF parser and the
// JSON Schema converter both produce it; the matcher runs it).
//
//   Result<Grammar> g = parse_gbnf(text);                 // gbnf_parser.h
//   auto shared = std::make_shared<const Grammar>(std::move(*g));
//   GrammarMatcher m(shared, vocab);                      // grammar_matcher.h
//
// A Grammar is immutable once built and may be shared by any number of threads and sequences.
// Layout (llama.cpp-like, flattened for locality): every alternative of every rule is a run of
// `elements` ending in an `end` element; a rule lists the offsets where its alternatives start.
// Terminals are indices into `classes`: one element matches exactly one code point.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/util/status.h"

namespace agora {

// A position in grammar source text, 1-based; line 0 means "generated, no source position".
struct SourcePos {
  uint32_t line = 0;
  uint32_t column = 0;
};
std::string to_string(SourcePos pos);  // "line 3, column 7"

// A set of code points: sorted, disjoint, non-adjacent inclusive ranges, optionally complemented.
class CharClass {
 public:
  CharClass() = default;
  // Normalises `ranges` (any order, may overlap); `negated` complements the set.
  CharClass(std::vector<std::pair<uint32_t, uint32_t>> ranges, bool negated);
  static CharClass single(uint32_t cp) { return CharClass({{cp, cp}}, false); }
  static CharClass any() { return CharClass({}, true); }

  bool matches(uint32_t cp) const {
    if (cp < 128) return (ascii_[cp >> 6] >> (cp & 63)) & 1;
    return matches_slow(cp);
  }
  // True when some code point in [lo, hi] is in the set.
  bool intersects(uint32_t lo, uint32_t hi) const;
  bool negated() const { return negated_; }
  const std::vector<std::pair<uint32_t, uint32_t>>& ranges() const { return ranges_; }
  bool operator==(const CharClass& o) const {
    return negated_ == o.negated_ && ranges_ == o.ranges_;
  }
  std::string to_gbnf() const;  // "[a-z]" / "[^\"]" / "\"x\"" — for debugging and tests

 private:
  bool matches_slow(uint32_t cp) const;
  std::vector<std::pair<uint32_t, uint32_t>> ranges_;
  bool negated_ = false;
  uint64_t ascii_[2] = {0, 0};  // membership of 0..127, negation applied
};

enum class ElementKind : uint8_t {
  end,       // end of an alternative
  rule_ref,  // value = rule index
  chars,     // value = class index
};

struct GrammarElement {
  ElementKind kind = ElementKind::end;
  uint32_t value = 0;
  bool operator==(const GrammarElement&) const = default;
};

struct GrammarRule {
  std::string name;
  std::vector<uint32_t> alternatives;  // offsets into Grammar::elements
  SourcePos pos;                       // where it was defined (or generated from)
};

struct Grammar {
  std::vector<CharClass> classes;
  std::vector<GrammarElement> elements;
  std::vector<GrammarRule> rules;
  uint32_t root = 0;  // index of the start rule

  // Prints the compiled grammar as GBNF (one line per rule); for debugging and tests.
  std::string to_gbnf() const;
};

// Assembles a Grammar rule by rule. Used by the GBNF parser; `finish` validates the whole: every
// referenced rule defined, limits respected, no left recursion that would grow the parse stack,
// and the root able to derive some string. Not thread-safe; single use.
class GrammarBuilder {
 public:
  using Sequence = std::vector<GrammarElement>;

  // The id of rule `name`, created undefined on first use; `pos` is remembered as its first use.
  Result<uint32_t> rule_id(std::string_view name, SourcePos pos);
  // A fresh rule named `base-N` for a group or repetition; defined later with `define`.
  Result<uint32_t> generated_rule(std::string_view base, SourcePos pos);
  // Gives rule `id` its alternatives; an error if it is already defined.
  Status define(uint32_t id, std::vector<Sequence> alternatives, SourcePos pos);
  bool is_defined(uint32_t id) const { return rules_[id].defined; }
  // A terminal element for `cls` (identical classes share one index).
  Result<GrammarElement> chars(CharClass cls);
  GrammarElement ref(uint32_t rule) const { return {ElementKind::rule_ref, rule}; }
  size_t n_elements() const { return n_elements_; }
  const std::string& rule_name(uint32_t id) const { return rules_[id].name; }

  Result<Grammar> finish(std::string_view root_name);

 private:
  struct PendingRule {
    std::string name;
    std::vector<Sequence> alternatives;
    SourcePos pos;        // definition, or first use while undefined
    bool defined = false;
  };
  std::vector<PendingRule> rules_;
  std::unordered_map<std::string, uint32_t> by_name_;
  std::vector<CharClass> classes_;
  std::unordered_map<std::string, uint32_t> class_index_;  // key: serialised class
  size_t n_elements_ = 0;
  uint32_t n_generated_ = 0;
};

}  // namespace agora
