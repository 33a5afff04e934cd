// libFuzzer target over the streaming multipart/form-data parser (an upload body is outside
// data): the input is a body cut into chunks at fuzzer-chosen places. Whatever the input and its
// chunking, the parser must never crash, hang or grow; must reject only with a 400; and must see
// exactly the same parts, data and outcome as when the same body arrives in one piece.
//   build/fuzz/tests/fuzz/multipart_fuzz -max_total_time=300 tests/fuzz/corpus/multipart
//
// Input layout: byte 0 = boundary length b (1..16, taken mod 16 + 1), bytes 1..b = boundary,
// next byte = chunking seed; the rest is the body. A boundary absent from the body still
// exercises the preamble; the committed corpus holds well-formed bodies to mutate.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "platform/assistants/multipart.h"

namespace {

using namespace agora::platform::assistants;

struct Trace final : MultipartSink {
  std::string events;  // B<name>|<filename>|<type> / D<bytes> merged / E
  void on_part_begin(const MultipartPartHead& h) override {
    if (h.name.empty()) __builtin_trap();
    events += "\x01" + h.name + "\x02" + h.filename.value_or("\x03") + "\x02" + h.content_type + "\x01";
    in_data = false;
  }
  void on_part_data(std::string_view b) override {
    if (b.empty()) __builtin_trap();
    if (!in_data) events += "\x04";
    in_data = true;
    events.append(b);
  }
  void on_part_end() override {
    events += "\x05";
    in_data = false;
  }
  bool in_data = false;
};

struct Result {
  bool ok;
  std::string message;
  std::string events;
};

Result run(std::string_view boundary, std::string_view body, const std::vector<size_t>& cuts) {
  MultipartParser p(boundary);
  Trace t;
  bool ok = true;
  size_t prev = 0;
  for (size_t cut : cuts) {
    if (ok) ok = p.feed(body.substr(prev, cut - prev), t);
    prev = cut;
  }
  if (ok) ok = p.feed(body.substr(prev), t);
  if (ok) ok = p.finish();
  if (!ok && p.error().http_status() != 400) __builtin_trap();
  if (p.n_parts() > kMaxMultipartParts) __builtin_trap();
  return {ok, ok ? std::string() : p.error().message, t.events};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const size_t blen = data[0] % 16 + 1;
  if (size < 2 + blen) return 0;
  const std::string_view boundary(reinterpret_cast<const char*>(data + 1), blen);
  uint32_t seed = data[1 + blen] * 2654435761u + 1;
  const std::string_view body(reinterpret_cast<const char*>(data + 2 + blen), size - 2 - blen);

  const Result whole = run(boundary, body, {});
  // Random cuts, including empty chunks and many tiny ones.
  std::vector<size_t> cuts;
  for (size_t at = 0; at < body.size();) {
    seed = seed * 1103515245u + 12345u;
    const uint32_t r = seed >> 16;
    at += (r & 3) == 0 ? 0 : (r & 1) ? 1 + r % 7 : 1 + r % 97;
    if (at < body.size()) cuts.push_back(at);
  }
  const Result pieces = run(boundary, body, cuts);
  if (whole.ok != pieces.ok || whole.events != pieces.events || whole.message != pieces.message) __builtin_trap();
  return 0;
}
