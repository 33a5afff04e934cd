// libFuzzer target: parse and render arbitrary templates with a small fixed context, under
// tight limits. Any crash, hang, leak or sanitizer report is a bug; errors are expected.
// Built only with -DAGORA_FUZZ=ON. Corpus: tests/fuzz/corpus/chat_template/.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/chat/chat_template.h"
#include "engine/chat/json_text.h"
#include "engine/chat/tool_call_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace agora::chat;
  std::string_view src(reinterpret_cast<const char*>(data), size);
  static const Value context = [] {
    auto v = parse_json(R"({"messages": [{"role": "system", "content": "sys"},
      {"role": "user", "content": "Hi <b> & \"q\" é"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "call00001", "type": "function",
        "function": {"name": "add", "arguments": {"a": 1, "b": [2, 3]}}}]},
      {"role": "tool", "tool_call_id": "call00001", "content": "3"}],
      "tools": [{"type": "function", "function": {"name": "add", "description": "Add.",
        "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}}}],
      "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>", "documents": null})");
    return v.value();
  }();
  TemplateLimits limits;
  limits.max_steps = 200'000;
  limits.max_output_bytes = 1 << 20;
  limits.max_range = 10'000;
  auto t = ChatTemplate::parse(src, limits);
  if (t.ok()) {
    RenderOptions o;
    o.now = TemplateTime{2025, 1, 15, 12, 0, 0};
    (void)t->render(context, o);
  }
  // The same bytes as model output, for every tool-call family, and as JSON.
  for (int f = 0; f <= static_cast<int>(ToolCallFamily::deepseek_r1); ++f) {
    auto fam = static_cast<ToolCallFamily>(f);
    (void)parse_tool_calls(fam, src);
    if (size < 512) {
      ToolCallStreamParser p(fam);
      for (size_t i = 0; i < size; i += 7) p.feed(src.substr(i, 7));
      (void)p.finish();
    }
  }
  (void)parse_json(src);
  return 0;
}
