// API keys: "sk-agora-" + 48 random base62 characters (≈ 285 bits). The key is shown to its owner
// once; the Store keeps only its SHA-256 (hex) and a short display prefix. A fast hash is right
// here: the key is random and long, so there is nothing to brute-force, and every request
// authenticates with it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace agora::accounts {

inline constexpr std::string_view kApiKeyPrefix = "sk-agora-";
inline constexpr size_t kApiKeyRandomChars = 48;
inline constexpr size_t kApiKeyDisplayChars = 6;  // random characters kept in the display prefix

std::string generate_api_key();
// Lowercase hex SHA-256 of `data` (OpenSSL).
std::string sha256_hex(std::string_view data);
// "sk-agora-" + the first kApiKeyDisplayChars random characters.
std::string display_prefix(std::string_view key);
// Shape check: the prefix and the right number of base62 characters.
bool is_api_key_shaped(std::string_view key);

}  // namespace agora::accounts
