// Whole-grammar checks run once when a grammar is built (GrammarBuilder::finish).
#pragma once

#include "engine/grammar/grammar.h"
#include "engine/util/status.h"

namespace agora {

// Validates and simplifies `g` in place:
//  - drops alternatives that reference a rule unable to derive any finite string (so a sequence
//    can never be steered into a state it cannot finish); an error if the root is such a rule;
//  - rejects left recursion that would grow the parse stack without consuming input: a cycle of
//    rule references reachable through nullable prefixes that contains a non-tail reference
//    (`a ::= a "x"`). Tail-only cycles (`a ::= b`, `b ::= a | "x"`) and repetitions of nullable
//    expressions (`("a"*)*`) are accepted: the matcher closes them with a visited set.
// Linear time and memory in the grammar size; iterative (no recursion on grammar structure).
Status analyse_grammar(Grammar& g);

// Per-rule nullability (can derive the empty string), computed by a worklist. For tests.
std::vector<bool> nullable_rules(const Grammar& g);

}  // namespace agora
