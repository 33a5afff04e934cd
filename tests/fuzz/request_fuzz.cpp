// libFuzzer target over the request parsers (chat/completions/embeddings bodies): any input must
// parse or be rejected with a 4xx ApiError — never crash, hang or leak.
//   build/fuzz/tests/fuzz/request_fuzz -max_total_time=600 tests/fuzz/corpus/request
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "platform/openai/chat_request.h"
#include "platform/openai/completion_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace agora::platform;
  static const ServerLimits limits;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto check = [](const auto& r) {
    if (!r.ok() && (r.error().http_status() < 400 || r.error().http_status() >= 500)) __builtin_trap();
  };
  check(parse_chat_request(body, limits));
  check(parse_completion_request(body, limits));
  check(parse_embedding_request(body, limits));
  return 0;
}
