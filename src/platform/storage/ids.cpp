#include "platform/storage/ids.h"

#include <sodium.h>

namespace agora::storage {

namespace {
constexpr char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool is_base62(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
}  // namespace

std::string random_base62(size_t n) {
  // sodium_init is idempotent and thread-safe; randombytes_uniform is unbiased.
  if (sodium_init() < 0) __builtin_trap();  // no usable randomness: nothing safe to do
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(kAlphabet[randombytes_uniform(62)]);
  return out;
}

std::string new_id(std::string_view prefix) {
  std::string id(prefix);
  id += random_base62(kIdRandomChars);
  return id;
}

bool is_well_formed_id(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + kIdRandomChars || id.substr(0, prefix.size()) != prefix) return false;
  for (char c : id.substr(prefix.size())) {
    if (!is_base62(c)) return false;
  }
  return true;
}

}  // namespace agora::storage
