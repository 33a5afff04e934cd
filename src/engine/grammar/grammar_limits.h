// Every limit of the grammar module, in one place (STYLE.md rule 8). Each has a test that crosses it
// (tests/engine/grammar/grammar_bombs_test.cpp). Inputs that exceed a compile-time limit are
// rejected with ErrorCode::out_of_range and a message naming the limit; runtime limits make the
// offending transition dead instead of growing without bound.
#pragma once

#include <cstddef>
#include <cstdint>

namespace agora::grammar_limits {

// ---- GBNF text and compiled grammar ------------------------------------------------------------
inline constexpr size_t kMaxGrammarBytes = 4u << 20;       // GBNF source text
inline constexpr int kMaxNestingDepth = 128;               // nested ( ) groups in one rule
inline constexpr size_t kMaxRules = 100'000;               // rules after lowering repetitions
inline constexpr size_t kMaxElements = 1'000'000;          // compiled elements, all rules
inline constexpr size_t kMaxCharClasses = 1'000'000;       // distinct terminal classes
inline constexpr uint32_t kMaxRepetition = 10'000;         // m and n in {m,n}

// ---- JSON Schema ----------------------------------------------------------------------------
inline constexpr size_t kMaxSchemaBytes = 1u << 20;        // schema document text
inline constexpr int kMaxSchemaDepth = 64;                 // JSON nesting of the schema document
inline constexpr size_t kMaxSchemaProperties = 5'000;      // all `properties` entries together
inline constexpr size_t kMaxEnumValues = 5'000;            // all enum entries together
inline constexpr size_t kMaxPatternBytes = 4'096;          // one `pattern` regex
inline constexpr int kMaxPatternDepth = 32;                // nested groups inside one pattern
inline constexpr size_t kMaxSchemaGbnfBytes = 2u << 20;    // GBNF generated from one schema

// ---- matching ---------------------------------------------------------------------------------
inline constexpr size_t kMaxStacksPerState = 4'096;        // parallel parses kept at one position
inline constexpr size_t kMaxExpansionSteps = 200'000;      // work to close one state; over = dead
inline constexpr size_t kMaxStackNodes = 1u << 20;         // interned stack nodes before a reset
inline constexpr size_t kMaxDfaStates = 8'192;             // cached byte-level states before a reset
inline constexpr size_t kMaxCachedMasks = 32;              // token masks kept per matcher (LRU)
inline constexpr size_t kMaxTokenBytes = 1'024;            // longer tokens are never allowed

}  // namespace agora::grammar_limits
