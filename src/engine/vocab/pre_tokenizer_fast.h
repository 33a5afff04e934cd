// Hand-written splitters for the most used pre-tokenizer patterns (gpt2, llama3, qwen2).
// They give exactly the pieces of the PCRE2 patterns in pre_tokenizer.cpp (matches plus the
// gaps between them) and avoid the regex engine on the hot path.
#pragma once

#include <string_view>
#include <vector>

#include "engine/vocab/pre_tokenizer.h"

namespace agora {

bool fast_split_available(PreTokenizerKind kind);
// Requires fast_split_available(kind) and valid UTF-8 `text`; appends to `out`.
void fast_split(PreTokenizerKind kind, std::string_view text,
                std::vector<PreTokenizer::Piece>& out);

}  // namespace agora
