// Pre-tokenizers for byte-level BPE: split text into the pieces that BPE merges within.
//
// Each kind is an ordered list of regexes, applied as the reference engine applies them: the
// first regex splits the whole text into matches and the gaps between them; each following
// regex splits every piece again the same way. Patterns run on PCRE2 (JIT, UTF, UCP); the
// most used kinds (gpt2, llama3, qwen2) also have hand-written splitters that give identical
// pieces (checked by tests/engine/vocab/pre_tokenizer_test.cpp) and run faster.
//
// A PreTokenizer is immutable after create() and safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/util/status.h"

namespace agora {

enum class PreTokenizerKind {
  default_bpe,     // no `tokenizer.ggml.pre` or "default" (gpt-neox style, 4 regexes)
  gpt2,            // gpt-2, phi-2, mpt, olmo, jais, roberta-bpe, jina-*
  llama3,          // llama-bpe / llama3 / falcon3, dbrx, smaug-bpe, chatglm-bpe
  qwen2,           // qwen2, deepseek-r1-qwen, stablelm2, megrez
  deepseek_llm,
  deepseek_coder,
  deepseek3,
  falcon,
  starcoder,       // starcoder, refact, command-r, smollm, codeshell, exaone, minerva-7b
  bloom,           // bloom, poro-chat, gpt3-finnish
  viking,
  chameleon,
};

struct PreTokenizerInfo {
  PreTokenizerKind kind = PreTokenizerKind::default_bpe;
  bool clean_spaces = true;    // detokenizer clean-up (" ," -> ",") as the reference does
  bool ignore_merges = false;  // a piece that is a whole token is emitted as is (Llama 3)
  bool add_bos = false;        // default add_bos for this family (the GGUF key overrides)
  bool nfc = false;            // normalise input to NFC (Qwen2 family, as Hugging Face does)
};

// Maps `tokenizer.ggml.pre` to its kind and flags; an unknown name is an `unsupported` error.
Result<PreTokenizerInfo> pre_tokenizer_info(std::string_view pre_name);

class PreTokenizer {
 public:
  // Compiles the regexes of `kind`. `use_fast_paths` = false forces PCRE2 everywhere (tests).
  static Result<std::unique_ptr<PreTokenizer>> create(PreTokenizerKind kind,
                                                      bool use_fast_paths = true);
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  struct Piece {
    uint32_t offset;
    uint32_t length;
  };
  // Splits `text` (valid UTF-8, < 4 GiB) into pieces covering it exactly, in order.
  // `out` is cleared first.
  void split(std::string_view text, std::vector<Piece>& out) const;

  PreTokenizerKind kind() const { return kind_; }

 private:
  PreTokenizer() = default;
  struct Regex;
  PreTokenizerKind kind_ = PreTokenizerKind::default_bpe;
  bool fast_ = false;
  std::vector<std::unique_ptr<Regex>> regexes_;
};

}  // namespace agora
