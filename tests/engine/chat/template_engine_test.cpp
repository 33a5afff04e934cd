// Template engine features, Python semantics, error reporting and every limit in
// template_limits.h (each crossed on purpose).
// ctest-labels: unit
#include <gtest/gtest.h>

#include "engine/chat/chat_formatter.h"
#include "engine/chat/chat_template.h"
#include "engine/chat/json_text.h"
#include "support/testdata.h"

namespace agora::chat {
namespace {

std::string render(const std::string& src, const std::string& ctx_json = "{}", const TemplateLimits& limits = {}) {
  auto ctx = parse_json(ctx_json);
  EXPECT_TRUE(ctx.ok()) << ctx.status().message();
  RenderOptions o;
  o.now = parse_iso_time("2025-01-15T12:00:00");
  auto r = render_template(src, ctx.value(), o, limits);
  return r.ok() ? r.value() : "ERROR: " + r.status().message();
}

bool fails(const std::string& src, const std::string& ctx_json = "{}", const TemplateLimits& limits = {}) {
  return render(src, ctx_json, limits).rfind("ERROR: ", 0) == 0;
}

TEST(TemplateEngine, Table) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{{ 'a' ~ 1 ~ none }}", "a1None"},
      {"{{ [1, 'x', none, true, 1.5] }}", "[1, 'x', None, True, 1.5]"},
      {"{{ {'a': 1} }}", "{'a': 1}"},
      {"{{ 'abc'[::-1] }}|{{ 'héllo'[1:3] }}|{{ [1,2,3][-1] }}", "cba|él|3"},
      {"{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }}", "3 -4 1 2 3.5 1024"},
      {"{{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ [1,2] == [1,2] }}", "True True True True"},
      {"{{ 'b' in 'abc' }} {{ 2 in [1,2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }}", "True True True True"},
      {"{% for x in [1,2,3] %}{{ loop.index }}{{ loop.first }}{{ loop.last }}{{ loop.revindex }}|{% endfor %}",
       "1TrueFalse3|2FalseFalse2|3FalseTrue1|"},
      {"{% for x in [1,2,3,4] if x is even %}{{ x }}{{ loop.length }}{% endfor %}", "2242"},
      {"{% for x in [] %}a{% else %}empty{% endfor %}", "empty"},
      {"{% for x in range(5) %}{% if x == 3 %}{% break %}{% endif %}{% if x == 1 %}{% continue %}{% endif %}{{ x }}{% endfor %}", "02"},
      {"{% for a, b in {'x': 1, 'y': 2}.items() %}{{ a }}={{ b }};{% endfor %}", "x=1;y=2;"},
      {"{% for x in 'ab' %}{{ loop.cycle('o', 'e') }}{{ loop.previtem }}{{ loop.nextitem }}{% endfor %}", "obea"},
      {"{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}", "3"},
      {"{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}", "1"},
      {"{% set x %}  body {% endset %}[{{ x }}]", "[  body ]"},
      {"{% set x | trim %}  body {% endset %}[{{ x }}]", "[body]"},
      {"{% filter upper %}hi {{ 'there' }}{% endfilter %}", "HI THERE"},
      {"{% macro m(a, b='d') %}{{ a }}-{{ b }}{% endmacro %}{{ m(1) }} {{ m(1, b=2) }}", "1-d 1-2"},
      {"{% macro w() %}<{{ caller() }}>{% endmacro %}{% call w() %}in{% endcall %}", "<in>"},
      {"{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}", "321"},
      {"{{ '  x  ' | trim }}|{{ 'a,b' .split(',') }}|{{ ' a  b '.split() }}", "x|['a', 'b']|['a', 'b']"},
      {"{{ 'Hello World'.lower() }} {{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }} {{ 'ab'.upper() }}",
       "hello world Hello World Hello AB"},
      {"{{ 'abc'.startswith('a') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'aXbX'.replace('X', '-') }}", "True True a-b-"},
      {"{{ [3, 1, 2] | sort | join(',') }} {{ [1, 2, 2] | unique | list }} {{ ['a', 'B'] | map('upper') | join }}",
       "1,2,3 [1, 2] AB"},
      {"{{ [{'a': 1}, {'a': 2}] | selectattr('a', 'equalto', 2) | list }} {{ [1, 2, 3] | reject('odd') | list }}",
       "[{'a': 2}] [2]"},
      {"{{ [{'n': 'x'}, {'n': 'y'}] | map(attribute='n') | join('+') }}", "x+y"},
      {"{{ x | default('d') }} {{ '' | default('e', true) }} {{ none is none }} {{ x is defined }}", "d e True False"},
      {"{{ '3' | int + 1 }} {{ 'x' | int }} {{ '2.5' | float }} {{ 2.567 | round(2) }} {{ -3 | abs }}", "4 0 2.5 2.57 3"},
      {"{{ {'b': 1, 'a': 2} | dictsort }} {{ {'a': 1} | items | list }}", "[('a', 2), ('b', 1)] [('a', 1)]"},
      {"{{ 'a\nb' | indent(2) }}|{{ 'a\nb' | indent(2, true) }}", "a\n  b|  a\n  b"},
      {"{{ {'a': [1, 'é', none, true]} | tojson }}", "{\"a\": [1, \"é\", null, true]}"},
      {"{{ {'a': {'b': []}} | tojson(indent=2) }}", "{\n  \"a\": {\n    \"b\": []\n  }\n}"},
      {"{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}", "{\"a\": 2, \"b\": 1}"},
      {"{{ 0.1 }} {{ 1e20 }} {{ 1.0 }} {{ 1e-5 }} {{ 3.0 * 2 }}", "0.1 1e+20 1.0 1e-05 6.0"},
      {"{{ '<a>' | e }} {{ '<' | safe + '<' }}", "&lt;a&gt; <&lt;"},
      {"{{ strftime_now('%d %b %Y') }} {{ strftime_now('%A %B %H:%M') }}", "15 Jan 2025 Wednesday January 12:00"},
      {"{{ 'x' if false }}|{{ 'y' if true else 'n' }}", "|y"},
      {"{{ 'a' is string }} {{ 1 is number }} {{ {} is mapping }} {{ 'x' is iterable }} {{ 5 is divisibleby 5 }}",
       "True True True True True"},
      {"{% raw %}{{ not rendered }}{% endraw %}", "{{ not rendered }}"},
      {"{# comment #}a", "a"},
      {"{% if true %}\n  x\n{% endif %}\n", "  x\n"},
      {"  {% if true %}x{% endif %}", "x"},
      {"a  {%- if true -%}  b  {%- endif %}", "ab"},
      {"{{ '%s=%d' % ('a', 3) }} {{ '{}-{}'.format(1, 'b') }}", "a=3 1-b"},
      {"{{ messages[0].content }}{{ messages[0]['role'] }}", "hiuser"},
      {"{{ messages | length }} {{ messages | first | attr('role') }} {{ (messages | last).content }}", "1 user hi"},
      {"{% with a = 1 %}{{ a }}{% endwith %}{{ a }}", "1"},
      {"{% set a, b = [1, 2] %}{{ b }}{{ a }}", "21"},
      {"{{ x.y is defined }}", "ERROR"},
  };
  for (const auto& [src, want] : cases) {
    std::string got = render(src, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}");
    if (want == "ERROR") {
      EXPECT_EQ(got.rfind("ERROR: ", 0), 0u) << src << " → " << got;
    } else {
      EXPECT_EQ(got, want) << src;
    }
  }
}

TEST(TemplateEngine, PythonTypeErrors) {
  EXPECT_TRUE(fails("{{ 'a' + 1 }}"));
  EXPECT_TRUE(fails("{{ 'a' + none }}"));
  EXPECT_TRUE(fails("{{ 'a' + {} }}"));
  EXPECT_TRUE(fails("{% for x in none %}{% endfor %}"));
  EXPECT_TRUE(fails("{{ undefined_thing + 'x' }}"));
  EXPECT_TRUE(fails("{{ undefined_thing.attr }}"));
  EXPECT_TRUE(fails("{{ [1] | map('upper') | tojson }}"));  // generators are not JSON serialisable
  EXPECT_TRUE(fails("{{ 1 / 0 }}"));
  EXPECT_TRUE(fails("{{ 1 < 'a' }}"));
  EXPECT_TRUE(fails("{{ raise_exception('boom') }}"));
  EXPECT_EQ(render("{{ undefined_thing }}{% for x in undefined_thing %}x{% endfor %}{{ undefined_thing | length }}"), "0");
}

TEST(TemplateEngine, ErrorsCarryPosition) {
  auto r = render_template("line one\n{{ 'a' + 1 }}", Value::dict());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 2"), std::string::npos) << r.status().message();
  auto p = ChatTemplate::parse("ok\n\n{% if x %}never closed");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("line 3"), std::string::npos) << p.status().message();
  EXPECT_NE(p.status().message().find("endif"), std::string::npos) << p.status().message();
  auto raise = render_template("{{ raise_exception('System role not supported') }}", Value::dict());
  ASSERT_FALSE(raise.ok());
  EXPECT_NE(raise.status().message().find("System role not supported"), std::string::npos);
}

TEST(TemplateEngine, SyntaxErrors) {
  for (const char* src : {"{{ ", "{% if %}", "{% for x %}{% endfor %}", "{{ 'unterminated }}", "{% bogus %}",
                          "{# open", "{{ a ] }}", "{% endif %}", "{{ (1 }}", "{% macro %}{% endmacro %}"}) {
    EXPECT_FALSE(ChatTemplate::parse(src).ok()) << src;
  }
}

// ---- limits: each one crossed on purpose ----------------------------------------------------
TEST(TemplateLimitsTest, TemplateSize) {
  TemplateLimits l;
  l.max_template_bytes = 10;
  EXPECT_EQ(ChatTemplate::parse(std::string(11, 'a'), l).status().code(), ErrorCode::out_of_range);
  EXPECT_TRUE(ChatTemplate::parse(std::string(10, 'a'), l).ok());
}

TEST(TemplateLimitsTest, ParseDepth) {
  std::string deep = "{{ " + std::string(500, '(') + "1" + std::string(500, ')') + " }}";
  EXPECT_FALSE(ChatTemplate::parse(deep).ok());
  std::string nested;
  for (int i = 0; i < 300; ++i) nested += "{% if true %}";
  for (int i = 0; i < 300; ++i) nested += "{% endif %}";
  EXPECT_FALSE(ChatTemplate::parse(nested).ok());
}

TEST(TemplateLimitsTest, Steps) {
  TemplateLimits l;
  l.max_steps = 10'000;
  EXPECT_TRUE(fails("{% for i in range(100000) %}{{ i }}{% endfor %}", "{}", l));
  EXPECT_FALSE(fails("{% for i in range(10) %}{{ i }}{% endfor %}", "{}", l));
}

TEST(TemplateLimitsTest, OutputBytes) {
  TemplateLimits l;
  l.max_output_bytes = 1000;
  EXPECT_TRUE(fails("{{ 'x' * 2000 }}", "{}", l));
  EXPECT_TRUE(fails("{% for i in range(2000) %}x{% endfor %}", "{}", l));
  EXPECT_TRUE(fails("{{ 'x' * 10000000000 }}"));  // default limit, no huge allocation
  EXPECT_FALSE(fails("{{ 'x' * 500 }}", "{}", l));
}

TEST(TemplateLimitsTest, Range) {
  EXPECT_TRUE(fails("{% for i in range(100001) %}{% endfor %}"));
}

TEST(TemplateLimitsTest, CallDepth) {
  EXPECT_TRUE(fails("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"));
  TemplateLimits l;
  l.max_call_depth = 5;
  EXPECT_TRUE(fails("{% macro f(n) %}{% if n %}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(6) }}", "{}", l));
  EXPECT_FALSE(fails("{% macro f(n) %}{% if n %}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}", "{}", l));
}

TEST(TemplateLimitsTest, ValueDepth) {
  // A list that contains itself cannot be printed or serialised forever.
  EXPECT_TRUE(fails("{% set a = [] %}{% set _ = a.append(a) %}{{ a }}"));
  EXPECT_TRUE(fails("{% set a = [] %}{% set _ = a.append(a) %}{{ a | tojson }}"));
}

TEST(TemplateLimitsTest, JsonDepth) {
  EXPECT_FALSE(parse_json(std::string(kMaxJsonDepth + 2, '[') + std::string(kMaxJsonDepth + 2, ']')).ok());
  EXPECT_TRUE(parse_json(std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']')).ok());
}

TEST(JsonText, RoundTrip) {
  auto v = parse_json(R"({"a": [1, 2.5, "x\u00e9\n", null, true], "b": {}})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(dump_json(*v), "{\"a\": [1, 2.5, \"xé\\n\", null, true], \"b\": {}}");
  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "01", "\"\\x\"", "1 2", "nul"}) EXPECT_FALSE(parse_json(bad).ok()) << bad;
}

// ---- ChatFormatter ---------------------------------------------------------------------------
TEST(ChatFormatterTest, QwenToolCallMatchesTransformers) {
  std::string src = test::read_file(test::testdata_path("templates/Qwen-Qwen2.5-7B-Instruct.jinja"));
  auto f = ChatFormatter::create(src);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->tool_call_family(), ToolCallFamily::hermes);
  std::vector<ChatMessage> msgs(4);
  msgs[0].role = "user";
  msgs[0].content = "What is 40 + 2? Use the tool.";
  msgs[1].role = "assistant";
  msgs[1].tool_calls.push_back({"call00001", "function", "add", "{\"a\": 40, \"b\": 2}"});
  msgs[2].role = "tool";
  msgs[2].content = "42";
  msgs[2].tool_call_id = "call00001";
  msgs[2].name = "add";
  msgs[3].role = "assistant";
  msgs[3].content = "40 + 2 = 42.";
  FormatOptions o;
  o.add_generation_prompt = false;
  auto r = f->format(msgs, "", o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_NE(r->find("<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 40, \"b\": 2}}\n</tool_call>"), std::string::npos) << *r;
}

TEST(ChatFormatterTest, ChatMlFallbackAndRenderChat) {
  std::vector<ChatMessage> msgs(1);
  msgs[0].role = "user";
  msgs[0].content_parts = {"a", "b"};
  auto r = render_chat("", msgs, "", true, "", "");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, "<|im_start|>user\na\nb<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_FALSE(render_chat("", msgs, "{not json", true, "", "").ok());
}

}  // namespace
}  // namespace agora::chat
