// libFuzzer target: random bytes through tokenize -> detokenize -> streaming detokenizer for
// the SPM, byte-level BPE (gpt2, llama3, qwen2 + NFC, deepseek-llm regexes) and WordPiece
// tokenizers. The first input byte picks the vocabulary and the flags.
//
// Vocabularies come from $AGORA_TESTDATA or ../shared/testdata (relative to the working
// directory). Build: clang++ -fsanitize=fuzzer,address,undefined (see tests/fuzz/CMakeLists).
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/vocab/detokenizer.h"
#include "engine/vocab/unicode.h"
#include "engine/vocab/vocab.h"

namespace {

std::vector<std::unique_ptr<agora::Vocab>>& vocabs() {
  static std::vector<std::unique_ptr<agora::Vocab>> v = [] {
    std::string dir = "../shared/testdata";
    if (const char* env = std::getenv("AGORA_TESTDATA")) dir = env;
    std::vector<std::unique_ptr<agora::Vocab>> out;
    for (const char* rel : {"models/stories260K.gguf", "vocab/ggml-vocab-gpt-2.gguf",
                            "vocab/ggml-vocab-llama-bpe.gguf", "vocab/ggml-vocab-qwen2.gguf",
                            "vocab/ggml-vocab-deepseek-llm.gguf", "vocab/ggml-vocab-bert-bge.gguf",
                            "vocab/ggml-vocab-phi-3.gguf"}) {
      auto r = agora::Vocab::load_file(dir + "/" + rel);
      if (!r) {
        std::fprintf(stderr, "vocab_fuzz: cannot load %s: %s\n", rel, r.status().message().c_str());
        std::abort();
      }
      out.push_back(std::move(r.value()));
    }
    return out;
  }();
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto& all = vocabs();
  const uint8_t sel = data[0];
  const agora::Vocab& v = *all[sel % all.size()];
  const bool add_special = sel & 0x10;
  const bool parse_special = sel & 0x20;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  const auto ids = v.tokenize(text, add_special, parse_special);
  for (agora::TokenId id : ids) {
    if (!v.valid(id)) std::abort();
  }
  // Deterministic.
  if (v.tokenize(text, add_special, parse_special) != ids) std::abort();

  const std::string back = v.detokenize(ids, sel & 0x40, sel & 0x80);
  // Byte-level BPE without clean-up or normalisation round-trips valid text exactly.
  if (v.type() == agora::VocabType::bpe && !v.clean_spaces() && !v.normalizes_nfc() &&
      !parse_special && !add_special) {
    bool has_user_defined = false;
    for (agora::TokenId id : ids) has_user_defined |= (v.token_attr(id) & agora::k_attr_user_defined) != 0;
    if (!has_user_defined && back != agora::unicode::sanitize_utf8(text)) std::abort();
  }

  agora::Detokenizer d(v, {static_cast<bool>(sel & 0x80), v.add_space_prefix()});
  std::string streamed;
  for (agora::TokenId id : ids) {
    const std::string chunk = d.push(id);
    if (!agora::unicode::is_valid_utf8(chunk)) std::abort();
    streamed += chunk;
  }
  streamed += d.finish();
  if (streamed != agora::unicode::sanitize_utf8(v.detokenize(ids, false, sel & 0x80))) std::abort();

  // Arbitrary ids (including out of range) must not crash either.
  std::vector<agora::TokenId> raw;
  for (size_t i = 1; i + 4 <= size && raw.size() < 64; i += 4) {
    int32_t id;
    std::memcpy(&id, data + i, 4);
    raw.push_back(id % static_cast<int32_t>(v.n_tokens() + 8));
  }
  (void)v.detokenize(raw, true, true);
  return 0;
}
