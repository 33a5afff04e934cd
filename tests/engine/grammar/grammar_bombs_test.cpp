// ctest-labels: unit
// RELIABILITY.md test 13, grammar and schema bombs: each input is rejected with a clear error in
// under 100 ms, or compiled within the caps and run without a hang; no recursion on user input
// (also run under ASan with an 8 MiB stack: see docs/grammars.md). Each limit in
// grammar_limits.h is crossed here at least once.
#include <gtest/gtest.h>

#include <chrono>

#include "engine/grammar/gbnf_parser.h"
#include "engine/grammar/grammar_limits.h"
#include "engine/grammar/json_schema.h"
#include "grammar_test_util.h"

namespace agora {
namespace {

namespace gl = grammar_limits;

// The time bounds below are hang guards, not performance assertions: RELIABILITY test 13's
// 100 ms target is a benchmark figure (measured on an idle machine, docs/grammars.md), while this
// suite also runs on loaded CI machines. The bounds are 20x the target (200x under sanitizers).
#if defined(__SANITIZE_ADDRESS__)
constexpr double kBudgetScale = 200.0;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr double kBudgetScale = 200.0;
#else
constexpr double kBudgetScale = 20.0;
#endif
#else
constexpr double kBudgetScale = 20.0;
#endif

std::string repeat(const std::string& s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

template <typename F>
double time_ms(F&& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void expect_gbnf_rejected(const std::string& text, const std::string& fragment, ErrorCode code) {
  Result<Grammar> g = Status();
  double ms = time_ms([&] { g = parse_gbnf(text); });
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), code) << g.status().message();
  EXPECT_NE(g.status().message().find(fragment), std::string::npos) << g.status().message();
  EXPECT_LT(ms, 100.0 * kBudgetScale);
}

void expect_schema_rejected(const std::string& schema, const std::string& fragment, ErrorCode code) {
  Result<Grammar> g = Status();
  double ms = time_ms([&] { g = compile_json_schema(schema); });
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), code) << g.status().message();
  EXPECT_NE(g.status().message().find(fragment), std::string::npos) << g.status().message();
  EXPECT_LT(ms, 100.0 * kBudgetScale);
}

TEST(GrammarBombs, SixtyThousandNestedGroups) {
  std::string text = "root ::= " + repeat("(", 60000) + "\"a\"" + repeat(")", 60000);
  expect_gbnf_rejected(text, "kMaxNestingDepth", ErrorCode::out_of_range);
  // Exactly at the limit still compiles.
  size_t d = static_cast<size_t>(gl::kMaxNestingDepth);
  auto g = test::compile("root ::= " + repeat("(", d) + "\"a\"" + repeat(")", d));
  EXPECT_TRUE(test::accepts(g, "a"));
}

TEST(GrammarBombs, LeftRecursion) {
  expect_gbnf_rejected("root ::= root \"a\" | \"b\"", "left recursion", ErrorCode::invalid_argument);
  expect_gbnf_rejected("root ::= a\na ::= b \"x\" | \"y\"\nb ::= \"\"? a", "left recursion",
                       ErrorCode::invalid_argument);
}

TEST(GrammarBombs, NestedNullableRepetitionCompilesAndRuns) {
  auto g = test::compile("root ::= ((\"a\"*)*)* \"b\"");
  EXPECT_TRUE(test::accepts(g, repeat("a", 1000) + "b"));
}

TEST(GrammarBombs, FiveThousandRuleChains) {
  std::string tail_chain, deep_chain;
  for (int i = 0; i < 5000; ++i) {
    std::string me = i == 0 ? "root" : "r" + std::to_string(i);
    tail_chain += me + " ::= r" + std::to_string(i + 1) + "\n";
    deep_chain += me + " ::= r" + std::to_string(i + 1) + " \"" + std::to_string(i % 10) + "\"\n";
  }
  tail_chain += "r5000 ::= \"x\"\n";
  deep_chain += "r5000 ::= \"x\"\n";
  std::shared_ptr<const Grammar> a, b;
  EXPECT_LT(time_ms([&] { a = test::compile(tail_chain); }), 100.0 * kBudgetScale);
  EXPECT_LT(time_ms([&] { b = test::compile(deep_chain); }), 100.0 * kBudgetScale);
  EXPECT_TRUE(test::accepts(a, "x"));
  std::string digits;
  for (int i = 4999; i >= 0; --i) digits += std::to_string(i % 10);
  EXPECT_TRUE(test::accepts(b, "x" + digits));
  EXPECT_FALSE(test::accepts(b, "x" + digits.substr(1)));
}

TEST(GrammarBombs, HugeRepetitionBounds) {
  expect_gbnf_rejected("root ::= \"a\"{0,4294967296}", "kMaxRepetition", ErrorCode::out_of_range);
  expect_gbnf_rejected("root ::= \"a\"{100000}", "kMaxRepetition", ErrorCode::out_of_range);
  // Products of allowed bounds stay linear in size: each level is one rule reference.
  std::shared_ptr<const Grammar> g;
  double ms = time_ms([&] { g = test::compile("root ::= ((\"a\"{1,10000}){0,10000}){2}"); });
  EXPECT_LT(ms, 500.0 * kBudgetScale);
  EXPECT_TRUE(test::accepts(g, repeat("a", 30)));
  // Long inputs are so ambiguous here (inner x outer split points) that the stack-width cap
  // may refuse them; what matters is that the answer comes quickly.
  EXPECT_LT(time_ms([&] { test::accepts(g, repeat("a", 3000)); }), 2000.0 * kBudgetScale);
  // A nullable body repeated 10000 times opens 10000 parses at once: rejected when compiled.
  expect_gbnf_rejected("root ::= (\"a\"{0,10000}){0,10000}", "kMaxStacksPerState",
                       ErrorCode::out_of_range);
  // Many large repetitions together hit the element cap.
  std::string many = "root ::= " + repeat("[a-z]{10000} ", 120);
  expect_gbnf_rejected(many, "kMaxElements", ErrorCode::out_of_range);
}

TEST(GrammarBombs, ExponentialAmbiguityIsCapped) {
  // After n 'a's there are 2^n distinct parse stacks (each c/d choice differs): the matcher caps
  // the width (kMaxStacksPerState) and refuses to go on instead of hanging or exhausting memory.
  auto g = test::compile("root ::= s\ns ::= \"a\" s \"c\" | \"a\" s \"d\" | \"\"");
  ASSERT_TRUE(g);
  GrammarMatcher m(g, test::byte_vocab());
  TokenMask mask;
  size_t n_ok = 0;
  double ms = time_ms([&] {
    for (int i = 0; i < 40; ++i) {
      if (!m.accept_bytes("a").ok()) break;
      ++n_ok;
      m.fill_mask(mask);
    }
  });
  EXPECT_LT(n_ok, 40u);
  EXPECT_GE(n_ok, 8u);
  EXPECT_LT(ms, 2000.0 * kBudgetScale);
}

TEST(GrammarBombs, TextSizeLimit) {
  std::string big = "root ::= \"a\"\n" + repeat("# filler\n", gl::kMaxGrammarBytes / 9 + 1);
  expect_gbnf_rejected(big, "kMaxGrammarBytes", ErrorCode::out_of_range);
}

TEST(GrammarBombs, Schemas) {
  expect_schema_rejected("{\"type\": \"object\", \"properties\": {", "not valid JSON",
                         ErrorCode::invalid_argument);
  expect_schema_rejected(repeat("{\"items\":", 100000) + "{}" + repeat("}", 100000),
                         "kMaxSchemaDepth", ErrorCode::out_of_range);
  expect_schema_rejected(repeat("[", 1000000), "kMaxSchemaDepth", ErrorCode::out_of_range);
  expect_schema_rejected(R"({"type": "string", "pattern": "foo**"})", "nothing to repeat",
                         ErrorCode::invalid_argument);
  expect_schema_rejected(R"({"type": "string", "pattern": "a{0,99999999}"})", "kMaxRepetition",
                         ErrorCode::out_of_range);
  expect_schema_rejected(R"({"type": "string", "pattern": ")" + repeat("(", 40) + "a" +
                             repeat(")", 40) + "\"}",
                         "kMaxPatternDepth", ErrorCode::out_of_range);
  expect_schema_rejected(R"({"type": "string", "maxLength": 1000000})", "kMaxRepetition",
                         ErrorCode::out_of_range);
  std::string props = "{\"type\":\"object\",\"properties\":{";
  for (size_t i = 0; i <= gl::kMaxSchemaProperties; ++i) {
    props += (i ? ",\"p" : "\"p") + std::to_string(i) + "\":{\"type\":\"integer\"}";
  }
  props += "}}";
  expect_schema_rejected(props, "kMaxSchemaProperties", ErrorCode::out_of_range);
  std::string en = "{\"enum\":[";
  for (size_t i = 0; i <= gl::kMaxEnumValues; ++i) en += (i ? "," : "") + std::to_string(i);
  en += "]}";
  expect_schema_rejected(en, "kMaxEnumValues", ErrorCode::out_of_range);
  expect_schema_rejected(std::string(gl::kMaxSchemaBytes + 1, ' '), "kMaxSchemaBytes",
                         ErrorCode::out_of_range);
  // A self-referencing schema compiles (recursive rule) but one that never bottoms out does not.
  expect_schema_rejected(R"({"type": "object", "properties": {"a": {"$ref": "#"}}, "required": ["a"]})",
                         "can never complete", ErrorCode::invalid_argument);
  auto ok = compile_json_schema(R"({"type": "object", "properties": {"a": {"$ref": "#"}}})");
  EXPECT_TRUE(ok.ok()) << ok.status().message();
}

TEST(GrammarBombs, MatcherCachesStayBounded) {
  // Every prefix of a long literal is a new state: the DFA and stack caches are reset when they
  // pass their caps and matching carries on correctly.
  std::string lit;
  for (int i = 0; i < 20000; ++i) lit += static_cast<char>('a' + (i * 7) % 26);
  auto g = test::compile("root ::= \"" + lit + "\"");
  ASSERT_TRUE(g);
  GrammarMatcher m(g, test::byte_vocab());
  TokenMask mask;
  for (char c : lit) {
    m.fill_mask(mask);
    ASSERT_EQ(mask.count(), 1u);
    ASSERT_TRUE(m.accept_bytes(std::string(1, c)).ok());
  }
  EXPECT_TRUE(m.is_complete());
  EXPECT_GE(m.stats().n_resets, 1u);
  EXPECT_LE(m.stats().n_dfa_states, gl::kMaxDfaStates + 2);
}

}  // namespace
}  // namespace agora
