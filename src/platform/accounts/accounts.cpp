#include "platform/accounts/accounts.h"

#include <cctype>
#include <ctime>

#include "platform/accounts/api_key.h"

namespace agora::accounts {

using storage::StoreErrc;
using storage::StoreStatus;

bool is_valid_account_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxUserNameBytes) return false;
  for (char c : name) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '.' ||
                    c == '_' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

StoreResult<storage::User> Accounts::create_user(const std::string& name, const std::optional<std::string>& org_name,
                                                 const std::optional<std::string>& password) {
  if (!is_valid_account_name(name)) {
    return StoreStatus{StoreErrc::invalid_argument,
                       "invalid user name '" + name + "' (1-64 characters of A-Z a-z 0-9 . _ @ -)"};
  }
  if (org_name && !is_valid_account_name(*org_name)) {
    return StoreStatus{StoreErrc::invalid_argument,
                       "invalid organization name '" + *org_name + "' (1-64 characters of A-Z a-z 0-9 . _ @ -)"};
  }
  std::string hash;
  if (password) {
    auto h = hash_password(*password, cost_);
    if (!h) return h.status();
    hash = std::move(*h);
  }
  std::optional<std::string> org_id;
  if (org_name) {
    auto org = store_.find_organization(*org_name);
    if (!org && org.code() == StoreErrc::not_found) {
      org = store_.create_organization(*org_name);
      // Another process may have created it in between: take theirs.
      if (!org && org.code() == StoreErrc::conflict) org = store_.find_organization(*org_name);
    }
    if (!org) return org.status();
    org_id = org->id;
  }
  return store_.create_user(name, org_id, hash);
}

StoreResult<storage::User> Accounts::verify_login(const std::string& name, std::string_view password) {
  auto user = store_.find_user(name);
  if (!user && user.code() != StoreErrc::not_found) return user.status();
  const StoreStatus denied{StoreErrc::not_found, "wrong user name or password"};
  if (!user) {
    // Spend the same time as a real check so that timing does not reveal which names exist.
    static const auto dummy = hash_password("agora-timing-equaliser", cost_);
    if (dummy) verify_password(*dummy, password);
    return denied;
  }
  if (!verify_password(user->password_hash, password)) return denied;
  return user;
}

StoreResult<NewApiKey> Accounts::create_key(const std::string& user_id, std::optional<storage::Timestamp> expires_at) {
  if (expires_at && *expires_at <= static_cast<storage::Timestamp>(std::time(nullptr))) {
    return StoreStatus{StoreErrc::invalid_argument, "the expiry time is in the past"};
  }
  NewApiKey out;
  out.secret = generate_api_key();
  storage::ApiKey draft;
  draft.user_id = user_id;
  draft.prefix = display_prefix(out.secret);
  draft.key_hash = sha256_hex(out.secret);
  draft.expires_at = expires_at;
  auto stored = store_.create_api_key(draft);
  if (!stored) return stored.status();
  out.record = std::move(*stored);
  return out;
}

StoreResult<storage::ApiKey> Accounts::revoke_key(const std::string& id_prefix_or_key) {
  if (id_prefix_or_key.empty()) return StoreStatus{StoreErrc::invalid_argument, "empty key id or prefix"};
  std::string key_id;
  if (is_api_key_shaped(id_prefix_or_key)) {
    auto k = store_.find_api_key_by_hash(sha256_hex(id_prefix_or_key));
    if (!k) return k.status();
    key_id = k->id;
  } else {
    // A display prefix is at most kApiKeyPrefix + kApiKeyDisplayChars long; a longer start of a
    // key still identifies it through its display prefix.
    const std::string probe = id_prefix_or_key.rfind(kApiKeyPrefix, 0) == 0 ? display_prefix(id_prefix_or_key)
                                                                             : id_prefix_or_key;
    if (probe == kApiKeyPrefix) {
      return StoreStatus{StoreErrc::invalid_argument, "give more of the key than 'sk-agora-'"};
    }
    auto found = store_.find_api_keys(probe);
    if (!found) return found.status();
    if (found->empty()) return StoreStatus{StoreErrc::not_found, "no API key matches '" + id_prefix_or_key + "'"};
    if (found->size() > 1) {
      return StoreStatus{StoreErrc::conflict, std::to_string(found->size()) + " API keys match '" + id_prefix_or_key +
                                                  "': give the key id"};
    }
    key_id = found->front().id;
  }
  return store_.revoke_api_key(key_id);
}

StoreResult<Principal> Accounts::authenticate(std::string_view authorization) {
  return authenticate_at(authorization, static_cast<storage::Timestamp>(std::time(nullptr)));
}

StoreResult<Principal> Accounts::authenticate_at(std::string_view authorization, storage::Timestamp now) {
  const StoreStatus denied{StoreErrc::not_found, "invalid API key"};
  std::string_view token = authorization;
  if (token.size() >= 7) {
    std::string scheme(token.substr(0, 7));
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme == "bearer ") token.remove_prefix(7);
  }
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (!is_api_key_shaped(token)) return denied;
  auto key = store_.find_api_key_by_hash(sha256_hex(token));
  if (!key) return key.code() == StoreErrc::not_found ? StoreResult<Principal>(denied) : key.status();
  if (!key->usable_at(now)) return denied;
  auto user = store_.get_user(key->user_id);
  if (!user) return user.code() == StoreErrc::not_found ? StoreResult<Principal>(denied) : user.status();
  return Principal{std::move(*user), key->id};
}

}  // namespace agora::accounts
