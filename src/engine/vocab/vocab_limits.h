// Named caps on vocabulary metadata (STYLE.md: every limit is a named constant with a test).
#pragma once

#include <cstddef>

namespace agora {

constexpr size_t k_max_vocab_tokens = 4u << 20;   // 4M tokens (largest real vocabularies: ~260k)
constexpr size_t k_max_vocab_merges = 8u << 20;   // 8M merges
constexpr size_t k_max_token_bytes = 64u << 10;   // one token's text

}  // namespace agora
