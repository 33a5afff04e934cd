// Password hashing with Argon2id (libsodium crypto_pwhash_str): salted, self-describing strings
// ("$argon2id$v=19$m=...,t=...,p=1$salt$hash") so the cost can rise later without a migration.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "platform/storage/store_status.h"

namespace agora::accounts {

inline constexpr size_t kMaxPasswordBytes = 1024;  // longer input is refused, not truncated

struct PasswordHashCost {
  unsigned long long ops;  // passes over memory
  size_t mem_bytes;
};
// libsodium's "interactive" preset (2 passes, 64 MiB): well under a second per login.
PasswordHashCost interactive_cost();
// The cheapest allowed cost, for tests only.
PasswordHashCost test_cost();

// The Argon2id string for `password`; invalid_argument for an empty or over-long password,
// unavailable when the memory cannot be allocated.
storage::StoreResult<std::string> hash_password(std::string_view password, PasswordHashCost cost);
// True when `password` matches `hash` (constant-time in libsodium); false for a malformed hash.
bool verify_password(const std::string& hash, std::string_view password);

}  // namespace agora::accounts
