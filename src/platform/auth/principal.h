// Who a request acts for, as the HTTP layer sees it (http::Exchange::principal). Set by the
// Authenticator (request_auth.h) before any /v1/ or /auth/ handler runs; handlers scope every
// Store call with owner().
#pragma once

#include <string>

#include "platform/storage/records.h"

namespace agora::platform::auth {

enum class AuthMethod {
  local,       // no authentication: single-user mode or --no-auth (the built-in `local` user)
  legacy_key,  // the server-wide --api-key (acts as the local user)
  api_key,     // Authorization: Bearer sk-agora-…
  session,     // the web app's agora_session cookie (+ X-CSRF-Token on state-changing calls)
};

struct Principal {
  std::string user_id;
  std::string user_name;
  AuthMethod method = AuthMethod::local;
  std::string key_id;        // api_key
  std::string session_hash;  // session: SHA-256 of the cookie value
  std::string csrf_token;    // session
  storage::Owner owner() const { return storage::Owner(user_id); }
};

}  // namespace agora::platform::auth
