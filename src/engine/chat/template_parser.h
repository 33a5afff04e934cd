// Parser: tokens → AST for the Jinja2 subset chat templates use (see docs/chat-templates.md).
#pragma once

#include <string_view>

#include "engine/chat/template_ast.h"
#include "engine/chat/template_limits.h"
#include "engine/util/status.h"

namespace agora::chat {

// Parses a whole template. The result is a NodeKind::body node. Syntax errors (unknown tag,
// unclosed block, nesting deeper than limits.max_parse_depth, source larger than
// limits.max_template_bytes) come back as invalid_argument with the line and column.
Result<NodePtr> parse_template(std::string_view source, const TemplateLimits& limits = {});

}  // namespace agora::chat
