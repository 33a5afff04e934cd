// ChatFormatter: OpenAI-shaped chat messages + tools → prompt text through a model's template.
//
// The platform parses requests into these plain structs at its edge (no JSON inside the
// engine); tool schemas travel as JSON text and are read with json_text.h. When a model ships
// no template, ChatML is used. A formatter is immutable after construction and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/chat/chat_template.h"
#include "engine/chat/tool_call_parser.h"
#include "engine/util/status.h"

namespace agora::chat {

struct ChatToolCall {
  std::string id;
  std::string type = "function";
  std::string name;
  std::string arguments;  // JSON text, as OpenAI sends it
};

struct ChatMessage {
  std::string role;                    // system, developer, user, assistant, tool
  std::optional<std::string> content;  // nullopt = JSON null (assistant message with only tool calls)
  std::vector<std::string> content_parts;  // multi-part text content; joined with "\n" when set
  std::vector<ChatToolCall> tool_calls;
  std::string tool_call_id;  // role == tool
  std::string name;          // role == tool: the function name
};

// ChatML, used when a model has no template.
inline constexpr std::string_view kChatMlTemplate =
    "{%- for message in messages -%}{{- '<|im_start|>' + message.role + '\\n' + (message.content or '') + "
    "'<|im_end|>\\n' -}}{%- endfor -%}{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}";

struct FormatOptions {
  bool add_generation_prompt = true;
  std::string bos_token;
  std::string eos_token;
  std::optional<TemplateTime> now;  // what strftime_now formats; wall clock when absent
};

class ChatFormatter {
 public:
  // `template_source` empty → ChatML.
  static Result<ChatFormatter> create(std::string_view template_source, const TemplateLimits& limits = {});

  // Renders the prompt. `tools_json` is a JSON array of OpenAI tool objects, or empty for none.
  Result<std::string> format(const std::vector<ChatMessage>& messages, std::string_view tools_json,
                             const FormatOptions& options) const;

  // The tool-call family this template's model writes (for parse_tool_calls).
  ToolCallFamily tool_call_family() const { return family_; }
  // True when the template expects tool-call arguments as objects (`arguments | tojson`), false
  // when it concatenates them as strings; the formatter passes them accordingly.
  bool arguments_as_objects() const { return args_as_objects_; }

 private:
  static bool trim_empty(std::string_view s);
  ChatTemplate template_;
  ToolCallFamily family_ = ToolCallFamily::none;
  bool args_as_objects_ = true;
};

// Builds the template context for `messages` (the Values transformers would receive).
Value messages_to_value(const std::vector<ChatMessage>& messages, bool arguments_as_objects);

// One-call convenience for the engine: parse template (ChatML when empty), render.
Result<std::string> render_chat(std::string_view template_source, const std::vector<ChatMessage>& messages,
                                std::string_view tools_json, bool add_generation_prompt, std::string_view bos_token,
                                std::string_view eos_token);

}  // namespace agora::chat
