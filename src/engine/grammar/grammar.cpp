// Grammar IR: character classes, the builder and the debug printer. Contracts in grammar.h.
#include "engine/grammar/grammar.h"

#include <algorithm>
#include <cstdio>

#include "engine/grammar/grammar_analysis.h"
#include "engine/grammar/grammar_limits.h"
#include "engine/grammar/parse_stacks.h"

namespace agora {

namespace gl = grammar_limits;

std::string to_string(SourcePos pos) {
  if (pos.line == 0) return "generated rule";
  return "line " + std::to_string(pos.line) + ", column " + std::to_string(pos.column);
}

// ---- CharClass ---------------------------------------------------------------------------------

CharClass::CharClass(std::vector<std::pair<uint32_t, uint32_t>> ranges, bool negated)
    : negated_(negated) {
  for (auto& r : ranges) {
    if (r.first > r.second) std::swap(r.first, r.second);
  }
  std::sort(ranges.begin(), ranges.end());
  for (const auto& r : ranges) {
    if (!ranges_.empty() && r.first <= ranges_.back().second + 1) {
      ranges_.back().second = std::max(ranges_.back().second, r.second);
    } else {
      ranges_.push_back(r);
    }
  }
  for (uint32_t cp = 0; cp < 128; ++cp) {
    if (matches_slow(cp)) ascii_[cp >> 6] |= uint64_t{1} << (cp & 63);
  }
}

bool CharClass::matches_slow(uint32_t cp) const {
  // First range whose end is >= cp.
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), cp,
                             [](const std::pair<uint32_t, uint32_t>& r, uint32_t v) {
                               return r.second < v;
                             });
  bool in = it != ranges_.end() && it->first <= cp;
  return in != negated_;
}

bool CharClass::intersects(uint32_t lo, uint32_t hi) const {
  if (lo > hi) return false;
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), lo,
                             [](const std::pair<uint32_t, uint32_t>& r, uint32_t v) {
                               return r.second < v;
                             });
  if (!negated_) return it != ranges_.end() && it->first <= hi;
  // Complement: some point of [lo, hi] escapes the (merged, non-adjacent) ranges unless a single
  // range covers it entirely.
  return !(it != ranges_.end() && it->first <= lo && it->second >= hi);
}

namespace {

void append_class_char(std::string& out, uint32_t cp, bool in_brackets) {
  char buf[16];
  if (cp == '\\' || (in_brackets && (cp == ']' || cp == '^' || cp == '-' || cp == '[')) ||
      (!in_brackets && cp == '"')) {
    out += '\\';
    out += static_cast<char>(cp);
  } else if (cp == '\n') {
    out += "\\n";
  } else if (cp == '\r') {
    out += "\\r";
  } else if (cp == '\t') {
    out += "\\t";
  } else if (cp < 0x20 || cp == 0x7f) {
    std::snprintf(buf, sizeof buf, "\\x%02X", cp);
    out += buf;
  } else if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp <= 0xFFFF) {
    std::snprintf(buf, sizeof buf, "\\u%04X", cp);
    out += buf;
  } else {
    std::snprintf(buf, sizeof buf, "\\U%08X", cp);
    out += buf;
  }
}

}  // namespace

std::string CharClass::to_gbnf() const {
  std::string out;
  if (!negated_ && ranges_.size() == 1 && ranges_[0].first == ranges_[0].second) {
    out += '"';
    append_class_char(out, ranges_[0].first, false);
    out += '"';
    return out;
  }
  if (negated_ && ranges_.empty()) return ".";
  out += negated_ ? "[^" : "[";
  for (const auto& r : ranges_) {
    append_class_char(out, r.first, true);
    if (r.second != r.first) {
      out += '-';
      append_class_char(out, r.second, true);
    }
  }
  out += ']';
  return out;
}

std::string Grammar::to_gbnf() const {
  std::string out;
  for (const auto& rule : rules) {
    out += rule.name;
    out += " ::=";
    for (size_t a = 0; a < rule.alternatives.size(); ++a) {
      if (a > 0) out += " |";
      for (uint32_t i = rule.alternatives[a]; elements[i].kind != ElementKind::end; ++i) {
        out += ' ';
        if (elements[i].kind == ElementKind::rule_ref) {
          out += rules[elements[i].value].name;
        } else {
          out += classes[elements[i].value].to_gbnf();
        }
      }
      if (elements[rule.alternatives[a]].kind == ElementKind::end) out += " \"\"";
    }
    out += '\n';
  }
  return out;
}

// ---- GrammarBuilder ------------------------------------------------------------------------------

Result<uint32_t> GrammarBuilder::rule_id(std::string_view name, SourcePos pos) {
  auto it = by_name_.find(std::string(name));
  if (it != by_name_.end()) return it->second;
  if (rules_.size() >= gl::kMaxRules) {
    return Result<uint32_t>(ErrorCode::out_of_range,
                            "grammar has more than " + std::to_string(gl::kMaxRules) +
                                " rules (kMaxRules) at " + to_string(pos));
  }
  uint32_t id = static_cast<uint32_t>(rules_.size());
  rules_.push_back({std::string(name), {}, pos, false});
  by_name_.emplace(std::string(name), id);
  return id;
}

Result<uint32_t> GrammarBuilder::generated_rule(std::string_view base, SourcePos pos) {
  // A user rule may already own `base-N` (or define it later: then `define` reports a duplicate).
  for (;;) {
    std::string name = std::string(base) + "-" + std::to_string(++n_generated_);
    if (by_name_.count(name) == 0) return rule_id(name, pos);
  }
}

Status GrammarBuilder::define(uint32_t id, std::vector<Sequence> alternatives, SourcePos pos) {
  PendingRule& r = rules_[id];
  if (r.defined) {
    return Status(ErrorCode::invalid_argument, "rule '" + r.name + "' is defined twice (at " +
                                                   to_string(r.pos) + " and " + to_string(pos) +
                                                   ")");
  }
  size_t n = 0;
  for (const auto& s : alternatives) n += s.size() + 1;
  n_elements_ += n;
  if (n_elements_ > gl::kMaxElements) {
    return Status(ErrorCode::out_of_range, "grammar compiles to more than " +
                                               std::to_string(gl::kMaxElements) +
                                               " elements (kMaxElements) at " + to_string(pos));
  }
  r.alternatives = std::move(alternatives);
  r.pos = pos;
  r.defined = true;
  return {};
}

Result<GrammarElement> GrammarBuilder::chars(CharClass cls) {
  std::string key = cls.to_gbnf();
  auto it = class_index_.find(key);
  if (it != class_index_.end()) return GrammarElement{ElementKind::chars, it->second};
  if (classes_.size() >= gl::kMaxCharClasses) {
    return Result<GrammarElement>(ErrorCode::out_of_range,
                                  "grammar has more than " + std::to_string(gl::kMaxCharClasses) +
                                      " distinct character classes (kMaxCharClasses)");
  }
  uint32_t id = static_cast<uint32_t>(classes_.size());
  classes_.push_back(std::move(cls));
  class_index_.emplace(std::move(key), id);
  return GrammarElement{ElementKind::chars, id};
}

Result<Grammar> GrammarBuilder::finish(std::string_view root_name) {
  auto root = by_name_.find(std::string(root_name));
  if (root == by_name_.end() || !rules_[root->second].defined) {
    return Result<Grammar>(ErrorCode::invalid_argument,
                           "grammar has no rule named '" + std::string(root_name) + "'");
  }
  for (const auto& r : rules_) {
    if (!r.defined) {
      return Result<Grammar>(ErrorCode::invalid_argument,
                             "undefined rule '" + r.name + "' used at " + to_string(r.pos));
    }
  }
  Grammar g;
  g.root = root->second;
  g.classes = std::move(classes_);
  g.elements.reserve(n_elements_);
  g.rules.reserve(rules_.size());
  for (auto& r : rules_) {
    GrammarRule out{std::move(r.name), {}, r.pos};
    for (const auto& seq : r.alternatives) {
      out.alternatives.push_back(static_cast<uint32_t>(g.elements.size()));
      g.elements.insert(g.elements.end(), seq.begin(), seq.end());
      g.elements.push_back({ElementKind::end, 0});
    }
    g.rules.push_back(std::move(out));
  }
  rules_.clear();
  by_name_.clear();
  Status st = analyse_grammar(g);
  if (!st.ok()) return st;
  // The start state must be closable within the matcher's caps, or no sequence could ever use
  // this grammar: say so now rather than at the first token.
  if (ParseStacks(g).initial() == ParseStacks::kDead) {
    return Result<Grammar>(ErrorCode::out_of_range,
                           "grammar is too ambiguous at its start: over " +
                               std::to_string(gl::kMaxStacksPerState) +
                               " parallel parses (kMaxStacksPerState) or " +
                               std::to_string(gl::kMaxExpansionSteps) +
                               " expansion steps (kMaxExpansionSteps)");
  }
  return g;
}

}  // namespace agora
