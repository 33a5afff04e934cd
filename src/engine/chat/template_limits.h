// Limits of the chat-template engine. Templates come from downloaded model files and are
// untrusted: every resource a template can consume is capped here, with a named constant and a
// test that crosses it (tests/engine/chat/template_limits_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace agora::chat {

struct TemplateLimits {
  // Largest template source accepted by the parser.
  size_t max_template_bytes = 1u << 20;
  // Deepest nesting of expressions/statements in the parser (bounds the parser's C++ stack).
  int max_parse_depth = 128;
  // Deepest nesting of macro calls / evaluator recursion at render time.
  int max_call_depth = 96;
  // Deepest nesting of node evaluations (expressions, statements and macro bodies together);
  // bounds the evaluator's C++ stack whatever the template does.
  int max_eval_depth = 1000;
  // Deepest nesting of a value when printed, compared or serialised (cycles end here).
  int max_value_depth = 256;
  // Evaluation steps (one per node evaluated or loop iteration) before rendering is stopped.
  uint64_t max_steps = 20'000'000;
  // Largest rendered output, and the largest single string/list a template may build.
  size_t max_output_bytes = 16u << 20;
  // Largest range() a template may create (Jinja's sandbox uses the same figure).
  int64_t max_range = 100'000;
};

// Deepest nesting accepted by the JSON reader (json_text.h).
inline constexpr int kMaxJsonDepth = 128;

}  // namespace agora::chat
