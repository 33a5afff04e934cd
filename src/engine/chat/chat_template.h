// Public API of the Jinja-compatible chat-template engine.
//
// Usage:
//   auto tmpl = agora::chat::ChatTemplate::parse(gguf_chat_template);      // once per model
//   if (!tmpl.ok()) { ... tmpl.status().message() ... }
//   agora::chat::Value ctx = agora::chat::Value::dict();
//   ctx.dict_data().set("messages", messages);  // or build it with ChatFormatter (chat_formatter.h)
//   auto text = tmpl->render(ctx);                                         // per request
//
// Thread safety: a parsed ChatTemplate is immutable; render() may be called from many threads
// at once (each call has its own interpreter state). Rendering an untrusted template is safe:
// resources are capped by TemplateLimits and errors come back as a Status, never as a crash,
// an exception or an abort.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/chat/template_ast.h"
#include "engine/chat/template_evaluator.h"
#include "engine/chat/template_limits.h"
#include "engine/chat/template_value.h"
#include "engine/util/status.h"

namespace agora::chat {

struct RenderOptions {
  // What strftime_now() formats; the current local time when absent.
  std::optional<TemplateTime> now;
};

class ChatTemplate {
 public:
  // Parses a template. Errors: invalid_argument (syntax, with line/column), out_of_range (size).
  static Result<ChatTemplate> parse(std::string_view source, const TemplateLimits& limits = {});

  // Renders with `context` (a dict: messages, tools, add_generation_prompt, bos_token, ...).
  // Errors: invalid_argument carrying the template's own message ("TemplateError: ..." from
  // raise_exception, "TypeError: ...", "UndefinedError: ...") and the line/column, or
  // out_of_range when a limit was crossed.
  Result<std::string> render(const Value& context, const RenderOptions& options = {}) const;

  const std::string& source() const { return *source_; }

 private:
  std::shared_ptr<const Node> root_;  // shared: copies of a ChatTemplate share one immutable AST
  std::shared_ptr<const std::string> source_;
  TemplateLimits limits_;
};

// Parse + render in one call.
Result<std::string> render_template(std::string_view source, const Value& context, const RenderOptions& options = {},
                                    const TemplateLimits& limits = {});

}  // namespace agora::chat
