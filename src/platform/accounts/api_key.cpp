#include "platform/accounts/api_key.h"

#include <openssl/evp.h>

#include "platform/storage/ids.h"

namespace agora::accounts {

std::string generate_api_key() {
  return std::string(kApiKeyPrefix) + storage::random_base62(kApiKeyRandomChars);
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), digest, &n, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (unsigned int i = 0; i < n; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

std::string display_prefix(std::string_view key) {
  return std::string(key.substr(0, kApiKeyPrefix.size() + kApiKeyDisplayChars));
}

bool is_api_key_shaped(std::string_view key) {
  if (key.size() != kApiKeyPrefix.size() + kApiKeyRandomChars || key.substr(0, kApiKeyPrefix.size()) != kApiKeyPrefix) {
    return false;
  }
  for (char c : key.substr(kApiKeyPrefix.size())) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!ok) return false;
  }
  return true;
}

}  // namespace agora::accounts
