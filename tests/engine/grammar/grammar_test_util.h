// Helpers shared by the grammar tests: compile GBNF, and check strings against a grammar through
// the real matcher with a byte-level vocabulary (256 one-byte tokens + one EOG token).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/grammar/gbnf_parser.h"
#include "engine/grammar/grammar_matcher.h"

namespace agora::test {

inline std::shared_ptr<const GrammarVocab> byte_vocab() {
  static std::shared_ptr<const GrammarVocab> v = [] {
    std::vector<std::string> toks;
    for (int b = 0; b < 256; ++b) toks.push_back(std::string(1, static_cast<char>(b)));
    toks.push_back("</s>");
    auto r = GrammarVocab::create(toks, {256});
    return std::make_shared<const GrammarVocab>(std::move(r.value()));
  }();
  return v;
}

inline std::shared_ptr<const Grammar> compile(const std::string& gbnf) {
  auto g = parse_gbnf(gbnf);
  EXPECT_TRUE(g.ok()) << g.status().message() << "\n--- grammar ---\n" << gbnf;
  if (!g.ok()) return nullptr;
  return std::make_shared<const Grammar>(std::move(g.value()));
}

// True when `text` is a complete sentence of the grammar.
inline bool accepts(const std::shared_ptr<const Grammar>& g, const std::string& text) {
  if (!g) return false;
  GrammarMatcher m(g, byte_vocab());
  if (!m.accept_bytes(text).ok()) return false;
  return m.is_complete() && m.accept_token(256).ok();
}

// True when `text` is a prefix of some sentence of the grammar.
inline bool accepts_prefix(const std::shared_ptr<const Grammar>& g, const std::string& text) {
  if (!g) return false;
  GrammarMatcher m(g, byte_vocab());
  return m.accept_bytes(text).ok();
}

}  // namespace agora::test
