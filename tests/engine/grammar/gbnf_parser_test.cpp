// ctest-labels: unit
// GBNF parsing: syntax, errors with positions, and the language each construct accepts.
#include "engine/grammar/gbnf_parser.h"

#include <gtest/gtest.h>

#include "engine/grammar/builtin_grammars.h"
#include "grammar_test_util.h"

namespace agora {
namespace {

using test::accepts;
using test::accepts_prefix;
using test::compile;

TEST(GbnfParser, LiteralsAndAlternation) {
  auto g = compile(R"g(root ::= "yes" | "no" # a comment
)g");
  EXPECT_TRUE(accepts(g, "yes"));
  EXPECT_TRUE(accepts(g, "no"));
  EXPECT_FALSE(accepts(g, "ye"));
  EXPECT_FALSE(accepts(g, "yesno"));
  EXPECT_FALSE(accepts(g, ""));
  EXPECT_TRUE(accepts_prefix(g, "ye"));
}

TEST(GbnfParser, CharClassesRangesNegationAndAny) {
  auto g = compile(R"g(root ::= [a-c0-9] [^x-z] .)g");
  EXPECT_TRUE(accepts(g, "aaa"));
  EXPECT_TRUE(accepts(g, "5w\xE2\x82\xAC"));  // euro sign as the last code point
  EXPECT_FALSE(accepts(g, "dab"));
  EXPECT_FALSE(accepts(g, "ayb"));
  EXPECT_FALSE(accepts(g, "ab"));
}

TEST(GbnfParser, Escapes) {
  auto g = compile(R"g(root ::= "\x41\u00e9\U0001F600\n\t\"\\" [\]\-])g");
  EXPECT_TRUE(accepts(g, "A\xC3\xA9\xF0\x9F\x98\x80\n\t\"\\]"));
  EXPECT_TRUE(accepts(g, "A\xC3\xA9\xF0\x9F\x98\x80\n\t\"\\-"));
  EXPECT_FALSE(accepts(g, "A\xC3\xA9\xF0\x9F\x98\x80\n\t\"\\a"));
}

TEST(GbnfParser, Repetitions) {
  auto g = compile(R"g(root ::= "a"* "b"+ "c"? "d"{2} "e"{1,3} "f"{2,} "g"{,1})g");
  EXPECT_TRUE(accepts(g, "bddeff"));
  EXPECT_TRUE(accepts(g, "aaabbbcddeeefffffg"));
  EXPECT_FALSE(accepts(g, "ddeff"));        // needs a b
  EXPECT_FALSE(accepts(g, "bdeff"));        // d{2}
  EXPECT_FALSE(accepts(g, "bddeeeeff"));    // e{1,3}
  EXPECT_FALSE(accepts(g, "bddef"));        // f{2,}
  EXPECT_FALSE(accepts(g, "bddeffgg"));     // g{,1}
  auto s = compile(R"g(root ::= "ab"{2,3})g");
  EXPECT_TRUE(accepts(s, "abab"));
  EXPECT_TRUE(accepts(s, "ababab"));
  EXPECT_FALSE(accepts(s, "ab"));
  EXPECT_FALSE(accepts(s, "abababab"));
}

TEST(GbnfParser, GroupsRulesAndMultiline) {
  auto g = compile(R"g(
# leading comment
root ::= item ( "," item )*
item ::=
    ( "x"
    | "y" ) num
  | "z"
num ::= [0-9]+
)g");
  EXPECT_TRUE(accepts(g, "x1,y22,z"));
  EXPECT_TRUE(accepts(g, "z"));
  EXPECT_FALSE(accepts(g, "x"));
  EXPECT_FALSE(accepts(g, "x1,"));
}

TEST(GbnfParser, RecursionAndEmpty) {
  auto g = compile(R"g(root ::= "(" root ")" root | "")g");
  EXPECT_TRUE(accepts(g, ""));
  EXPECT_TRUE(accepts(g, "(()())()"));
  EXPECT_FALSE(accepts(g, "(()"));
  EXPECT_FALSE(accepts(g, ")("));
}

TEST(GbnfParser, NullableRepetitionIsFinite) {
  auto g = compile(R"g(root ::= ("a"*)* "b")g");
  EXPECT_TRUE(accepts(g, "b"));
  EXPECT_TRUE(accepts(g, "aaab"));
  EXPECT_FALSE(accepts(g, "aa"));
  auto t = compile("root ::= a\na ::= b | \"x\"\nb ::= a");  // tail cycle
  EXPECT_TRUE(accepts(t, "x"));
}

void expect_error(const std::string& text, const std::string& fragment) {
  auto g = parse_gbnf(text);
  ASSERT_FALSE(g.ok()) << "accepted: " << text;
  EXPECT_NE(g.status().message().find(fragment), std::string::npos)
      << "message: " << g.status().message() << "\nwanted: " << fragment;
}

TEST(GbnfParser, ErrorsPointAtLineAndColumn) {
  expect_error("root ::= \"a\"\nfoo ::= \"b\" @", "line 2, column 13");
  expect_error("root ::= \"abc", "line 1, column 10: unterminated string");
  expect_error("root ::= [a-", "unterminated character class");
  expect_error("root ::= x\n", "undefined rule 'x' used at line 1, column 10");
  expect_error("root = \"a\"", "line 1, column 6: expected '::='");
  expect_error("root ::= (\"a\"", "expected ')'");
  expect_error("root ::= \"\\q\"", "unknown escape");
  expect_error("root ::= \"a\"{3,2}", "maximum is below its minimum");
  expect_error("root ::= \"a\"\nroot ::= \"b\"", "defined twice");
  expect_error("foo ::= \"a\"", "no rule named 'root'");
  expect_error("root ::= [z-a]", "range end is before its start");
  expect_error("root ::= <[12]>", "token references");
  expect_error("root ::= \"\\uD800\"", "not a Unicode scalar value");
  expect_error("root ::= \"\xC3\"", "invalid UTF-8");
}

TEST(GbnfParser, LeftRecursionRejected) {
  expect_error("root ::= root \"a\" | \"b\"", "left recursion: rule 'root'");
  expect_error("root ::= x \"a\"\nx ::= y\ny ::= \"\" | root", "left recursion");
  expect_error("root ::= \"b\"? root \"a\" | \"c\"", "left recursion");
}

TEST(GbnfParser, UnproductiveGrammar) {
  expect_error("root ::= root \"a\"", "can never complete");
  expect_error("root ::= \"a\" root", "can never complete");
  // Unfinishable alternatives are pruned, so the matcher never steers into them.
  auto g = compile("root ::= \"a\" loop | \"b\"\nloop ::= \"c\" loop");
  EXPECT_TRUE(accepts(g, "b"));
  EXPECT_FALSE(accepts_prefix(g, "a"));
}

TEST(GbnfParser, BuiltinJsonGrammars) {
  auto obj = compile(json_object_gbnf());
  EXPECT_TRUE(accepts(obj, R"g({"a": [1, 2.5e3, -0, true, null, "x\"\u00e9"], "b": {}})g"));
  EXPECT_TRUE(accepts(obj, "{}"));
  EXPECT_FALSE(accepts(obj, "[]"));
  EXPECT_FALSE(accepts(obj, R"g({"a": 01})g"));
  EXPECT_FALSE(accepts(obj, R"g({"a" 1})g"));
  EXPECT_FALSE(accepts(obj, "{\"a\": \"\x01\"}"));
  auto val = compile(json_value_gbnf());
  EXPECT_TRUE(accepts(val, "[]"));
  EXPECT_TRUE(accepts(val, "\"\""));
  EXPECT_TRUE(accepts(val, "-12.5E-3"));
}

TEST(GbnfParser, DebugPrinterRoundTrips) {
  auto g = compile(R"g(root ::= "a" [b-d]* ("e" | [^f]))g");
  ASSERT_TRUE(g);
  auto again = compile(g->to_gbnf());
  EXPECT_TRUE(accepts(again, "abdce"));
  EXPECT_TRUE(accepts(again, "ax"));
  EXPECT_FALSE(accepts(again, "af"));
}

}  // namespace
}  // namespace agora
