// libFuzzer target over the request parsers (chat/completions/embeddings bodies): any input must
// parse or be rejected with a 4xx ApiError — never crash, hang or leak.
//   build/fuzz/tests/fuzz/request_fuzz -max_total_time=600 tests/fuzz/corpus/request
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "platform/openai/chat_request.h"
#include "platform/openai/completion_request.h"

// TODO(fuzz-link): tests/fuzz/CMakeLists.txt links fuzz targets with agora_engine only; until it
// links this one with agora_platform, the parser sources (which need nothing beyond the engine
// and nlohmann_json) are compiled into the target directly.
#include "platform/api_error.cpp"
#include "platform/openai/chat_request.cpp"
#include "platform/openai/completion_request.cpp"
#include "platform/openai/generation_options.cpp"
#include "platform/openai/json_body.cpp"

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
