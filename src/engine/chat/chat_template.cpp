// ChatTemplate: the parse/render boundary. Internal TemplateErrors become Status values here.
#include "engine/chat/chat_template.h"

#include <exception>

#include "engine/chat/template_parser.h"

namespace agora::chat {

Result<ChatTemplate> ChatTemplate::parse(std::string_view source, const TemplateLimits& limits) {
  auto root = parse_template(source, limits);
  if (!root.ok()) return root.status();
  ChatTemplate t;
  t.root_ = std::shared_ptr<const Node>(std::move(root.value()));
  t.source_ = std::make_shared<const std::string>(source);
  t.limits_ = limits;
  return t;
}

Result<std::string> ChatTemplate::render(const Value& context, const RenderOptions& options) const {
  Interpreter in(limits_, options.now ? *options.now : current_time());
  try {
    return in.render(*root_, context);
  } catch (const TemplateError& e) {
    bool limit = e.message.find("limit") != std::string::npos || e.message.rfind("RecursionError", 0) == 0;
    return Status(limit ? ErrorCode::out_of_range : ErrorCode::invalid_argument, e.message);
  } catch (const std::bad_alloc&) {
    return Status(ErrorCode::out_of_range, "template rendering ran out of memory");
  } catch (const std::exception& e) {
    return Status(ErrorCode::internal, std::string("template rendering failed: ") + e.what());
  }
}

Result<std::string> render_template(std::string_view source, const Value& context, const RenderOptions& options,
                                    const TemplateLimits& limits) {
  auto t = ChatTemplate::parse(source, limits);
  if (!t.ok()) return t.status();
  return t->render(context, options);
}

}  // namespace agora::chat
