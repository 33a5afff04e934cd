#include "platform/accounts/password_hash.h"

#include <sodium.h>

namespace agora::accounts {

PasswordHashCost interactive_cost() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

PasswordHashCost test_cost() { return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN}; }

storage::StoreResult<std::string> hash_password(std::string_view password, PasswordHashCost cost) {
  using storage::StoreErrc;
  if (password.empty()) return storage::StoreStatus{StoreErrc::invalid_argument, "the password is empty"};
  if (password.size() > kMaxPasswordBytes) {
    return storage::StoreStatus{StoreErrc::invalid_argument,
                                "the password is longer than " + std::to_string(kMaxPasswordBytes) + " bytes"};
  }
  if (sodium_init() < 0) return storage::StoreStatus{StoreErrc::internal, "libsodium failed to initialise"};
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.ops, cost.mem_bytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return storage::StoreStatus{StoreErrc::unavailable, "out of memory while hashing the password"};
  }
  return std::string(out);
}

bool verify_password(const std::string& hash, std::string_view password) {
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES || password.size() > kMaxPasswordBytes) return false;
  if (sodium_init() < 0) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

}  // namespace agora::accounts
