// Request authentication for `agora serve`: one Authenticator decides, per request, who it acts
// for (principal.h) and answers 401/403 itself when nobody.
//
//   auth::Authenticator authn(store, {.mode = AuthMode::required, .legacy_api_key = ""});
//   http_options.authenticate = [&](http::Exchange& ex) { return authn.authenticate(ex); };
//
// Modes (chosen at start by decide_auth_mode, logged by run_serve):
// - open: every request is the built-in `local` user (single-user mode, or --no-auth). A legacy
//   --api-key, when set, is still required on /v1/ (the server's behaviour before accounts).
// - required: a request is authenticated by `Authorization: Bearer sk-agora-…` (accounts), the
//   legacy --api-key (acting as the local user), or the web app's session cookie; a cookie-
//   authenticated request that changes state (not GET/HEAD) must carry X-CSRF-Token equal to the
//   session's token (403 csrf_failed). /v1/*, /auth/me, /auth/keys* without any → 401
//   unauthenticated. Static files and /auth/login need nothing.
// Thread-safety: authenticate()/login()/logout() may be called from any I/O thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "platform/auth/principal.h"
#include "platform/http/exchange.h"
#include "platform/storage/store.h"

namespace agora::platform::auth {

enum class AuthMode { open, required };

inline constexpr const char* kLocalUserName = "local";
inline constexpr const char* kSessionCookie = "agora_session";
inline constexpr int64_t kSessionMaxAgeS = 30LL * 24 * 3600;
inline constexpr int kMaxLoginFailures = 5;                        // per user name …
inline constexpr std::chrono::seconds kLoginFailureWindow{15 * 60};  // … within this window → 429

struct AuthOptions {
  AuthMode mode = AuthMode::open;
  std::string legacy_api_key;  // --api-key; empty = none
  bool secure_cookies = false; // add `Secure` (served over HTTPS behind a proxy)
};

// The start-up decision of issue 9: --auth → required; --no-auth → open; otherwise open only
// when the data directory has no users (besides `local`) and the host is loopback, required when
// it has users; a non-loopback host with neither flag nor --api-key is refused (error text).
struct AuthDecision {
  std::optional<AuthMode> mode;  // empty: refuse to start
  std::string log;               // one line for the start-up log, or the refusal
};
AuthDecision decide_auth_mode(bool auth_flag, bool no_auth_flag, bool has_legacy_key, const std::string& host,
                              int64_t n_users_besides_local);
bool is_loopback_host(const std::string& host);

class Authenticator {
 public:
  Authenticator(storage::Store& store, AuthOptions options);

  // Ensures the built-in `local` user exists (open mode and the legacy key act as it).
  storage::StoreStatus init();

  // Sets ex.principal, or sets a 401/403 response on `ex` and returns false.
  bool authenticate(http::Exchange& ex);

  // /auth/login: a new session for name/password. not_found for bad credentials (same for an
  // unknown user), conflict when rate-limited. On success returns the cookie value.
  struct LoginResult {
    Principal principal;
    std::string cookie_value;
  };
  storage::StoreResult<LoginResult> login(const std::string& name, const std::string& password);
  void logout(const Principal& p);

  std::string session_cookie(const std::string& value) const;  // Set-Cookie header value
  std::string cleared_cookie() const;

  AuthMode mode() const { return options_.mode; }
  const storage::User& local_user() const { return local_; }
  storage::Store& store() { return store_; }

 private:
  std::optional<Principal> from_session(std::string_view cookie_value);
  storage::Store& store_;
  AuthOptions options_;
  storage::User local_;
  std::mutex mu_;
  std::map<std::string, std::pair<int, std::chrono::steady_clock::time_point>> failures_;  // name → (n, first)
};

// The value of cookie `name` in a Cookie header, or empty.
std::string cookie_value(std::string_view cookie_header, std::string_view name);

// Writes {"error":{"message","type","param":null,"code"}} with `status` on `ex`.
void set_auth_error(http::Exchange& ex, unsigned status, const std::string& type, const std::string& code,
                    const std::string& message);

}  // namespace agora::platform::auth
