// Tool-call parsing per family: table-driven, with the shapes the test templates teach.
// ctest-labels: unit
#include <gtest/gtest.h>

#include "engine/chat/tool_call_parser.h"
#include "support/testdata.h"

namespace agora::chat {
namespace {

struct Case {
  const char* label;
  ToolCallFamily family;
  const char* text;
  const char* content;
  const char* reasoning;
  std::vector<std::pair<const char*, const char*>> calls;  // name, arguments
};

TEST(ToolCallParser, Families) {
  const std::vector<Case> cases = {
      {"hermes single", ToolCallFamily::hermes,
       "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Paris, France\"}}\n</tool_call>", "", "",
       {{"get_weather", "{\"location\": \"Paris, France\"}"}}},
      {"hermes parallel + text", ToolCallFamily::hermes,
       "Let me check.\n<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}\n</tool_call>\n<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 3, \"b\": 4}}\n</tool_call>",
       "Let me check.", "", {{"add", "{\"a\": 1, \"b\": 2}"}, {"add", "{\"a\": 3, \"b\": 4}"}}},
      {"hermes unclosed", ToolCallFamily::hermes, "<tool_call>{\"name\": \"add\", \"arguments\": {}}", "", "", {{"add", "{}"}}},
      {"hermes bad json stays text", ToolCallFamily::hermes, "<tool_call>{\"name\": add}</tool_call>",
       "<tool_call>{\"name\": add}</tool_call>", "", {}},
      {"hermes plain", ToolCallFamily::hermes, "Hello there", "Hello there", "", {}},
      {"llama3 json", ToolCallFamily::llama3, "{\"name\": \"get_weather\", \"parameters\": {\"location\": \"Paris\"}}", "", "",
       {{"get_weather", "{\"location\": \"Paris\"}"}}},
      {"llama3 two json", ToolCallFamily::llama3,
       "{\"name\": \"a\", \"parameters\": {}}; {\"name\": \"b\", \"parameters\": {\"x\": 1}}", "", "", {{"a", "{}"}, {"b", "{\"x\": 1}"}}},
      {"llama3 python tag builtin", ToolCallFamily::llama3, "<|python_tag|>brave_search.call(query=\"weather Paris\")", "", "",
       {{"brave_search", "{\"query\": \"weather Paris\"}"}}},
      {"llama3 python tag json", ToolCallFamily::llama3, "<|python_tag|>{\"name\": \"add\", \"parameters\": {\"a\": 1}}", "", "",
       {{"add", "{\"a\": 1}"}}},
      {"llama3 text with braces", ToolCallFamily::llama3, "Use {x} here", "Use {x} here", "", {}},
      {"llama3 json without parameters is text", ToolCallFamily::llama3, "{\"name\": \"x\"}", "{\"name\": \"x\"}", "", {}},
      {"mistral", ToolCallFamily::mistral,
       "[TOOL_CALLS][{\"name\": \"add\", \"arguments\": {\"a\": 40, \"b\": 2}, \"id\": \"call00001\"}]", "", "",
       {{"add", "{\"a\": 40, \"b\": 2}"}}},
      {"mistral parallel", ToolCallFamily::mistral,
       "[TOOL_CALLS] [{\"name\": \"a\", \"arguments\": {}}, {\"name\": \"b\", \"arguments\": {\"k\": \"v\"}}]", "", "",
       {{"a", "{}"}, {"b", "{\"k\": \"v\"}"}}},
      {"functionary v3.1", ToolCallFamily::functionary_v3_1,
       "<function=get_weather>{\"location\": \"Paris, France\"}</function>", "", "", {{"get_weather", "{\"location\": \"Paris, France\"}"}}},
      {"functionary v3.1 python", ToolCallFamily::functionary_v3_1, "<|python_tag|>print(1)", "", "",
       {{"python", "{\"code\": \"print(1)\"}"}}},
      {"functionary v3.1 parallel", ToolCallFamily::functionary_v3_1,
       "<function=a>{}</function><function=b>{\"x\": [1, 2]}</function>", "", "", {{"a", "{}"}, {"b", "{\"x\": [1, 2]}"}}},
      {"functionary v3.2 text", ToolCallFamily::functionary_v3_2, "all\nHello!", "Hello!", "", {}},
      {"functionary v3.2 call", ToolCallFamily::functionary_v3_2, "get_weather\n{\"location\": \"Paris\"}", "", "",
       {{"get_weather", "{\"location\": \"Paris\"}"}}},
      {"functionary v3.2 text then calls", ToolCallFamily::functionary_v3_2,
       "all\nChecking.>>>add\n{\"a\": 1}>>>add\n{\"a\": 2}", "Checking.", "", {{"add", "{\"a\": 1}"}, {"add", "{\"a\": 2}"}}},
      {"firefunction", ToolCallFamily::firefunction,
       " functools[{\"name\": \"add\", \"arguments\": {\"a\": 40, \"b\": 2}}]", "", "", {{"add", "{\"a\": 40, \"b\": 2}"}}},
      {"command-r plus", ToolCallFamily::command_r,
       "Action:\n```json\n[\n    {\n        \"tool_name\": \"add\",\n        \"parameters\": {\"a\": 1}\n    }\n]```", "", "",
       {{"add", "{\"a\": 1}"}}},
      {"command-r7b", ToolCallFamily::command_r7b,
       "<|START_THINKING|>I will add.<|END_THINKING|><|START_ACTION|>[\n    {\"tool_call_id\": \"0\", \"tool_name\": \"add\", \"parameters\": {\"a\": 40, \"b\": 2}}\n]<|END_ACTION|>",
       "", "I will add.", {{"add", "{\"a\": 40, \"b\": 2}"}}},
      {"command-r7b response", ToolCallFamily::command_r7b, "<|START_RESPONSE|>It is 42.<|END_RESPONSE|>", "It is 42.", "", {}},
      {"deepseek r1 reasoning", ToolCallFamily::deepseek_r1, "<think>\n7 times 6 is 42.\n</think>\n\nThe answer is 42.",
       "The answer is 42.", "7 times 6 is 42.", {}},
      {"deepseek r1 prompt-opened think", ToolCallFamily::deepseek_r1, "Hmm.\n</think>\n\nDone.", "Done.", "Hmm.", {}},
      {"deepseek r1 tool call", ToolCallFamily::deepseek_r1,
       "<think>need tool</think>\n<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>add\n```json\n{\"a\": 40, \"b\": 2}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"location\": \"Paris\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
       "", "need tool", {{"add", "{\"a\": 40, \"b\": 2}"}, {"get_weather", "{\"location\": \"Paris\"}"}}},
      {"none", ToolCallFamily::none, "<tool_call>{}</tool_call>", "<tool_call>{}</tool_call>", "", {}},
  };
  for (const auto& c : cases) {
    ParsedMessage m = parse_tool_calls(c.family, c.text);
    EXPECT_EQ(m.content, c.content) << c.label;
    EXPECT_EQ(m.reasoning_content, c.reasoning) << c.label;
    ASSERT_EQ(m.tool_calls.size(), c.calls.size()) << c.label;
    for (size_t i = 0; i < c.calls.size(); ++i) {
      EXPECT_EQ(m.tool_calls[i].name, c.calls[i].first) << c.label;
      EXPECT_EQ(m.tool_calls[i].arguments, c.calls[i].second) << c.label;
    }
  }
}

TEST(ToolCallParser, KeepsModelIds) {
  auto m = parse_tool_calls(ToolCallFamily::mistral, "[TOOL_CALLS][{\"name\": \"add\", \"arguments\": {}, \"id\": \"abc123XYZ\"}]");
  ASSERT_EQ(m.tool_calls.size(), 1u);
  EXPECT_EQ(m.tool_calls[0].id, "abc123XYZ");
}

TEST(ToolCallParser, DetectsFamilyFromTemplates) {
  const std::vector<std::pair<const char*, ToolCallFamily>> table = {
      {"CohereForAI-c4ai-command-r-plus-tool_use.jinja", ToolCallFamily::command_r},
      {"CohereForAI-c4ai-command-r7b-12-2024-tool_use.jinja", ToolCallFamily::command_r7b},
      {"NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja", ToolCallFamily::hermes},
      {"NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja", ToolCallFamily::hermes},
      {"Qwen-Qwen2.5-7B-Instruct.jinja", ToolCallFamily::hermes},
      {"deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja", ToolCallFamily::deepseek_r1},
      {"deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", ToolCallFamily::deepseek_r1},
      {"llama-cpp-deepseek-r1.jinja", ToolCallFamily::deepseek_r1},
      {"fireworks-ai-llama-3-firefunction-v2.jinja", ToolCallFamily::firefunction},
      {"meetkai-functionary-medium-v3.1.jinja", ToolCallFamily::functionary_v3_1},
      {"meetkai-functionary-medium-v3.2.jinja", ToolCallFamily::functionary_v3_2},
      {"meta-llama-Llama-3.1-8B-Instruct.jinja", ToolCallFamily::llama3},
      {"meta-llama-Llama-3.2-3B-Instruct.jinja", ToolCallFamily::llama3},
      {"meta-llama-Llama-3.3-70B-Instruct.jinja", ToolCallFamily::llama3},
      {"mistralai-Mistral-Nemo-Instruct-2407.jinja", ToolCallFamily::mistral},
      {"google-gemma-2-2b-it.jinja", ToolCallFamily::none},
      {"microsoft-Phi-3.5-mini-instruct.jinja", ToolCallFamily::none},
  };
  for (const auto& [file, fam] : table) {
    std::string src = test::read_file(test::testdata_path(std::string("templates/") + file));
    EXPECT_EQ(family_name(detect_tool_call_family(src)), std::string(family_name(fam))) << file;
  }
}

// Streaming: feeding byte by byte never emits text that later turns out to be a tool call, and
// the streamed content is a prefix of the final content.
TEST(ToolCallParser, StreamingHoldsBackCalls) {
  struct S {
    ToolCallFamily f;
    std::string text;
  };
  const std::vector<S> streams = {
      {ToolCallFamily::hermes, "Sure.\n<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1}}\n</tool_call>"},
      {ToolCallFamily::mistral, "[TOOL_CALLS][{\"name\": \"add\", \"arguments\": {}}]"},
      {ToolCallFamily::llama3, "{\"name\": \"add\", \"parameters\": {}}"},
      {ToolCallFamily::functionary_v3_1, "Ok <function=add>{}</function>"},
      {ToolCallFamily::functionary_v3_2, "all\nHi>>>add\n{}"},
      {ToolCallFamily::deepseek_r1, "<think>plan it</think>\n\nAnswer <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>add\n```json\n{}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>"},
      {ToolCallFamily::hermes, "No calls here, just <tool text."},
  };
  for (const auto& s : streams) {
    ToolCallStreamParser p(s.f);
    std::string content, reasoning;
    for (char ch : s.text) {
      auto d = p.feed(std::string_view(&ch, 1));
      content += d.content;
      reasoning += d.reasoning_content;
    }
    ParsedMessage final = p.finish();
    EXPECT_EQ(final.content.substr(0, content.size()), content) << s.text;
    EXPECT_EQ(final.reasoning_content.substr(0, reasoning.size()), reasoning) << s.text;
    EXPECT_EQ(content.find("tool_call>"), std::string::npos) << s.text;
    EXPECT_EQ(content.find("TOOL_CALLS"), std::string::npos) << s.text;
    EXPECT_EQ(content.find("function"), std::string::npos) << s.text;
    EXPECT_EQ(content.find("\"name\""), std::string::npos) << s.text;
  }
}

}  // namespace
}  // namespace agora::chat
