// Accounts: users (optionally in an organisation), passwords (Argon2id) and API keys, on top of
// the Store. The HTTP auth middleware calls authenticate() with the Authorization header; the
// `agora admin` commands call the rest.
//
//   accounts::Accounts acc(*store);
//   auto user = acc.create_user("alice", "acme", std::nullopt);
//   auto key = acc.create_key(user->id, std::nullopt);   // key->secret is shown once, never stored
//   auto who = acc.authenticate("Bearer " + key->secret); // who->owner() scopes every Store call
//
// Thread-safety: as the Store (an Accounts holds only a reference to it and constants).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/accounts/password_hash.h"
#include "platform/storage/records.h"
#include "platform/storage/store.h"
#include "platform/storage/store_status.h"

namespace agora::accounts {

using storage::StoreResult;

inline constexpr size_t kMaxUserNameBytes = 64;

// A freshly created key: the stored record and the secret, which exists only here.
struct NewApiKey {
  storage::ApiKey record;
  std::string secret;  // "sk-agora-…": print it once
};

// Who a request is: the user and the key it used.
struct Principal {
  storage::User user;
  std::string key_id;
  storage::Owner owner() const { return storage::Owner(user.id); }
};

class Accounts {
 public:
  explicit Accounts(storage::Store& store, PasswordHashCost cost = interactive_cost())
      : store_(store), cost_(cost) {}

  // Names: 1..64 bytes of [A-Za-z0-9._@-]. The organisation is created when it does not exist.
  // `password` absent = API keys only. conflict when the name is taken.
  StoreResult<storage::User> create_user(const std::string& name, const std::optional<std::string>& org_name,
                                         const std::optional<std::string>& password);
  // The user when `password` is theirs; not_found otherwise (same answer for an unknown user).
  StoreResult<storage::User> verify_login(const std::string& name, std::string_view password);

  // A new key for `user_id`, valid until `expires_at` when given (must be in the future).
  StoreResult<NewApiKey> create_key(const std::string& user_id, std::optional<storage::Timestamp> expires_at);
  // Revokes the one key matching a key id, a display prefix (or a longer start of the key), or
  // the whole key. not_found when none matches, conflict when the prefix matches several.
  StoreResult<storage::ApiKey> revoke_key(const std::string& id_prefix_or_key);

  // `authorization` is the header value ("Bearer sk-agora-…") or the bare key. not_found for a
  // missing, malformed, unknown, revoked or expired key (→ 401); unavailable when the Store
  // cannot answer (→ 503).
  StoreResult<Principal> authenticate(std::string_view authorization);
  StoreResult<Principal> authenticate_at(std::string_view authorization, storage::Timestamp now);

 private:
  storage::Store& store_;
  PasswordHashCost cost_;
};

// True for a valid user or organisation name (see create_user).
bool is_valid_account_name(std::string_view name);

}  // namespace agora::accounts
