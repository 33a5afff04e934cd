// libFuzzer target: the GBNF parser, the matcher on what it compiles, and the JSON Schema
// converter. The first byte picks the mode; the rest is the input. Must never crash, hang,
// overflow the stack or leak, whatever the input (RELIABILITY.md test 13).
//   mode 0: parse GBNF; if it compiles, drive a matcher with the last 64 bytes as text.
//   mode 1: JSON Schema -> grammar (non-strict); mode 2: the same in strict mode.
//   mode 3: regex pattern -> GBNF -> grammar.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/grammar/gbnf_parser.h"
#include "engine/grammar/grammar_matcher.h"
#include "engine/grammar/json_schema.h"
#include "engine/grammar/regex_to_gbnf.h"

namespace {

std::shared_ptr<const agora::GrammarVocab> fuzz_vocab() {
  static std::shared_ptr<const agora::GrammarVocab> v = [] {
    std::vector<std::string> toks;
    for (int b = 0; b < 256; ++b) toks.push_back(std::string(1, static_cast<char>(b)));
    for (const char* t : {"ab", "\"", "\":", "{\"", "\xC3\xA9", "\xE2\x82", "true", "12", "</s>"}) {
      toks.push_back(t);
    }
    auto r = agora::GrammarVocab::create(toks, {static_cast<int32_t>(toks.size() - 1)});
    return std::make_shared<const agora::GrammarVocab>(std::move(r.value()));
  }();
  return v;
}

void exercise(const agora::Grammar& g, std::string_view text) {
  auto shared = std::make_shared<const agora::Grammar>(g);
  agora::GrammarMatcher m(shared, fuzz_vocab());
  agora::TokenMask mask;
  for (char c : text) {
    m.fill_mask(mask);
    int32_t id = static_cast<uint8_t>(c);
    if (!mask.allowed(id)) {
      // Take any allowed token instead, so walks go deep.
      id = -1;
      for (size_t i = 0; i < mask.size() && id < 0; ++i) {
        if (mask.allowed(static_cast<int32_t>(i))) id = static_cast<int32_t>(i);
      }
      if (id < 0) return;
    }
    if (!m.accept_token(id).ok()) __builtin_trap();  // a masked-in token must be accepted
    if (m.is_finished()) return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int mode = data[0] % 4;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  if (mode == 0) {
    auto g = agora::parse_gbnf(in);
    if (g.ok()) exercise(*g, in.substr(in.size() > 64 ? in.size() - 64 : 0));
  } else if (mode == 1 || mode == 2) {
    auto g = agora::compile_json_schema(in, {mode == 2});
    if (g.ok()) exercise(*g, "{\"a\": [1, \"x\"], \"b\": true}");
  } else {
    auto re = agora::regex_to_gbnf(in, true);
    if (re.ok()) {
      auto g = agora::parse_gbnf("root ::= " + *re);
      if (g.ok()) exercise(*g, in);
    }
  }
  return 0;
}
