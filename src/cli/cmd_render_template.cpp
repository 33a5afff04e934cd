// `agora render-template TEMPLATE.jinja CONTEXT.json`: prints a template's rendering exactly
// (no added newline), or a one-line error and exit code 1 when the template raises.
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "engine/chat/chat_template.h"
#include "engine/chat/json_text.h"

namespace agora::cli {
namespace {

struct RenderTemplateArgs {
  std::string template_path;
  std::string context_path;
};

bool read_all(const std::string& path, std::string& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return true;
}

void run_render_template(const RenderTemplateArgs& a) {
  std::string source, context_text;
  if (!read_all(a.template_path, source)) return (void)fail(2, "cannot read " + a.template_path);
  if (!read_all(a.context_path, context_text)) return (void)fail(2, "cannot read " + a.context_path);
  auto context = chat::parse_json(context_text);
  if (!context.ok() || !context->is_dict())
    return (void)fail(2, a.context_path + ": " + (context.ok() ? "expected a JSON object" : context.status().message()));
  auto& ctx = context->dict_data();
  // transformers always passes these; absent means None / False.
  for (const char* key : {"tools", "documents"})
    if (!ctx.find(key)) ctx.set(key, chat::Value::none());
  if (!ctx.find("add_generation_prompt")) ctx.set("add_generation_prompt", chat::Value::boolean(false));
  chat::RenderOptions options;
  if (const chat::Value* now = ctx.find("now"); now && now->is_string()) {
    options.now = chat::parse_iso_time(now->str());
    if (!options.now) return (void)fail(2, "context.now: expected an ISO date-time such as 2025-01-15T12:00:00");
  }
  auto tmpl = chat::ChatTemplate::parse(source);
  if (!tmpl.ok()) return (void)fail(1, tmpl.status().message());
  auto out = tmpl->render(*context, options);
  if (!out.ok()) return (void)fail(1, out.status().message());
  std::fwrite(out->data(), 1, out->size(), stdout);
}

}  // namespace

void register_render_template(CLI::App& app) {
  auto args = std::make_shared<RenderTemplateArgs>();
  CLI::App* cmd = app.add_subcommand("render-template", "Render a chat template file with a JSON context");
  cmd->add_option("template", args->template_path, "Jinja template file")->required();
  cmd->add_option("context", args->context_path,
                  "JSON object: messages, tools, add_generation_prompt, bos_token, eos_token, now, ...")
      ->required();
  cmd->callback([args] { run_render_template(*args); });
}

}  // namespace agora::cli
