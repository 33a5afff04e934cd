// Reading tool calls (and DeepSeek-style reasoning) out of generated text, per model family.
//
// Each family writes calls its own way (see docs/chat-templates.md for the exact shapes):
//   hermes        <tool_call>{"name": …, "arguments": {…}}</tool_call>  (Hermes 2/3, Qwen 2.5)
//   llama3        {"name": …, "parameters": {…}}  or  <|python_tag|>name.call(k="v") / JSON
//   mistral       [TOOL_CALLS][{"name": …, "arguments": {…}, "id": …}, …]
//   functionary_v3_1  <function=name>{…}</function>  and  <|python_tag|>code
//   functionary_v3_2  name\n{…}>>>name2\n{…}   (after the prompt's ">>>"; "all" = text)
//   firefunction  functools[{"name": …, "arguments": {…}}, …]
//   command_r     Action: ```json [{"tool_name": …, "parameters": {…}}] ```   (Command R+)
//   command_r7b   <|START_THINKING|>…<|END_THINKING|><|START_ACTION|>[…]<|END_ACTION|>
//                 and <|START_RESPONSE|>…<|END_RESPONSE|>
//   deepseek_r1   <think>…</think> then <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function
//                 <｜tool▁sep｜>name\n```json\n{…}\n```<｜tool▁call▁end｜>…<｜tool▁calls▁end｜>
// Arguments come back as compact JSON text (the OpenAI `arguments` string). A call whose JSON is
// malformed is not a call: its text stays in `content`. Ids are the model's when it writes one
// (Mistral, Command R7B), otherwise empty for the caller to assign.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace agora::chat {

enum class ToolCallFamily {
  none,  // plain text only
  hermes,
  llama3,
  mistral,
  functionary_v3_1,
  functionary_v3_2,
  firefunction,
  command_r,
  command_r7b,
  deepseek_r1,
};

const char* family_name(ToolCallFamily f);
// Picks the family from a chat template's source (the markers it teaches the model).
ToolCallFamily detect_tool_call_family(std::string_view template_source);

struct ParsedToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text
};

struct ParsedMessage {
  std::string content;
  std::string reasoning_content;
  std::vector<ParsedToolCall> tool_calls;
};

// Parses a complete generation.
ParsedMessage parse_tool_calls(ToolCallFamily family, std::string_view text);

// Incremental parsing for streaming. feed() returns the content/reasoning text that is now
// certain (text that may still become a tool call is held back until it is decided); finish()
// returns the whole parse of everything fed. The deltas concatenated equal a prefix of the
// final content / reasoning_content.
class ToolCallStreamParser {
 public:
  explicit ToolCallStreamParser(ToolCallFamily family) : family_(family) {}
  struct Delta {
    std::string content;
    std::string reasoning_content;
  };
  Delta feed(std::string_view text);
  ParsedMessage finish() const;

 private:
  ToolCallFamily family_;
  std::string buffer_;
  size_t content_sent_ = 0;
  size_t reasoning_sent_ = 0;
};

// Length of the prefix of `text` that is certainly not part of a tool call (for streaming).
size_t safe_content_prefix(ToolCallFamily family, std::string_view text);

}  // namespace agora::chat
