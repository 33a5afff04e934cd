// The token table shared by the tokenizers: texts, scores, attributes and the text -> id index.
// Plain data, built once by Vocab::load and read-only afterwards.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace agora {

using TokenId = int32_t;
constexpr TokenId k_token_null = -1;

// `tokenizer.ggml.token_type` values as stored in GGUF files.
enum class TokenType : int32_t {
  undefined = 0,
  normal = 1,
  unknown = 2,
  control = 3,
  user_defined = 4,
  unused = 5,
  byte = 6,
};

// Attribute bits of a token (a token type becomes one of the first bits; lstrip/rstrip are
// added by model-specific rules and make special-token matching eat adjacent spaces).
enum TokenAttr : uint32_t {
  k_attr_undefined = 0,
  k_attr_unknown = 1 << 0,
  k_attr_unused = 1 << 1,
  k_attr_normal = 1 << 2,
  k_attr_control = 1 << 3,
  k_attr_user_defined = 1 << 4,
  k_attr_byte = 1 << 5,
  k_attr_lstrip = 1 << 7,
  k_attr_rstrip = 1 << 8,
};

struct TokenTable {
  std::vector<std::string> text;
  std::vector<float> score;
  std::vector<uint32_t> attr;
  std::unordered_map<std::string_view, TokenId> index;  // views into `text`
  size_t max_token_len = 0;

  TokenId find(std::string_view s) const {
    auto it = index.find(s);
    return it == index.end() ? k_token_null : it->second;
  }
  size_t size() const { return text.size(); }
};

}  // namespace agora
