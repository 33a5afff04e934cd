#include "platform/auth/request_auth.h"

#include <ctime>

#include <boost/asio/ip/address.hpp>
#include <nlohmann/json.hpp>

#include "platform/accounts/accounts.h"
#include "platform/accounts/api_key.h"
#include "platform/storage/ids.h"

namespace agora::platform::auth {

namespace bhttp = boost::beast::http;
using storage::StoreErrc;
using storage::StoreStatus;

namespace {

int64_t now_s() { return static_cast<int64_t>(std::time(nullptr)); }

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char d = 0;
  for (size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}

// Paths that need a principal (everything else: the page, its assets, /auth/login, /health).
bool needs_principal(std::string_view path) {
  return path.starts_with("/v1/") || path == "/auth/me" || path == "/auth/keys" || path.starts_with("/auth/keys/");
}

}  // namespace

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const auto a = boost::asio::ip::make_address(host, ec);
  return !ec && a.is_loopback();
}

AuthDecision decide_auth_mode(bool auth_flag, bool no_auth_flag, bool has_legacy_key, const std::string& host,
                              int64_t n_users) {
  if (auth_flag && no_auth_flag) return {std::nullopt, "--auth and --no-auth contradict each other"};
  if (auth_flag) return {AuthMode::required, "authentication required (--auth): API keys or a signed-in session"};
  if (no_auth_flag) {
    return {AuthMode::open, is_loopback_host(host)
                                ? "authentication disabled (--no-auth): every request acts as the local user"
                                : "WARNING: authentication disabled (--no-auth) on a non-loopback address: anyone "
                                  "who can reach " + host + " acts as the local user"};
  }
  if (n_users > 0) {
    return {AuthMode::required, "authentication required: the data directory has " + std::to_string(n_users) +
                                    " user(s) (pass --no-auth to serve it unauthenticated)"};
  }
  if (!is_loopback_host(host) && !has_legacy_key) {
    return {std::nullopt, "refusing to listen on " + host +
                              " without authentication: pass --auth (and create users with `agora admin`), "
                              "--api-key KEY, or --no-auth to serve it open on purpose"};
  }
  if (has_legacy_key) return {AuthMode::open, "single-user mode, /v1/ protected by --api-key"};
  return {AuthMode::open, "single-user mode: no users in the data directory and a loopback address; every "
                          "request acts as the local user (create users with `agora admin` and pass --auth to "
                          "require sign-in)"};
}

std::string cookie_value(std::string_view header, std::string_view name) {
  size_t i = 0;
  while (i < header.size()) {
    while (i < header.size() && (header[i] == ' ' || header[i] == ';')) ++i;
    size_t end = header.find(';', i);
    if (end == std::string_view::npos) end = header.size();
    const std::string_view pair = header.substr(i, end - i);
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
    i = end + 1;
  }
  return {};
}

void set_auth_error(http::Exchange& ex, unsigned status, const std::string& type, const std::string& code,
                    const std::string& message) {
  const nlohmann::json body = {{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code}}}};
  ex.set_json(status, body.dump());
}

Authenticator::Authenticator(storage::Store& store, AuthOptions options) : store_(store), options_(std::move(options)) {}

StoreStatus Authenticator::init() {
  auto u = store_.find_user(kLocalUserName);
  if (u) {
    local_ = *u;
    return {};
  }
  if (u.code() != StoreErrc::not_found) return u.status();
  auto created = store_.create_user(kLocalUserName, std::nullopt, "");
  if (!created && created.code() == StoreErrc::conflict) created = store_.find_user(kLocalUserName);  // a race with admin
  if (!created) return created.status();
  local_ = *created;
  return {};
}

std::optional<Principal> Authenticator::from_session(std::string_view value) {
  if (value.empty() || value.size() > 200) return std::nullopt;
  const std::string hash = accounts::sha256_hex(value);
  auto s = store_.find_session(hash);
  if (!s || s->expires_at <= now_s()) return std::nullopt;
  auto u = store_.get_user(s->user_id);
  if (!u) return std::nullopt;
  Principal p{u->id, u->name, AuthMethod::session};
  p.session_hash = hash;
  p.csrf_token = s->csrf_token;
  return p;
}

bool Authenticator::authenticate(http::Exchange& ex) {
  const std::string_view path = ex.path();
  const bool needs = needs_principal(path);
  const std::string_view authorization = ex.request()[bhttp::field::authorization];
  const bool legacy_ok = !options_.legacy_api_key.empty() &&
                         constant_time_equal(authorization, "Bearer " + options_.legacy_api_key);
  auto local = [&](AuthMethod m) { return Principal{local_.id, local_.name, m}; };

  if (options_.mode == AuthMode::open) {
    if (!options_.legacy_api_key.empty() && path.starts_with("/v1/") && !legacy_ok) {
      set_auth_error(ex, 401, "invalid_request_error", "invalid_api_key",
                     "Incorrect API key provided. Pass it as 'Authorization: Bearer <key>'.");
      return false;
    }
    ex.principal = local(legacy_ok ? AuthMethod::legacy_key : AuthMethod::local);
    return true;
  }

  if (legacy_ok) {
    ex.principal = local(AuthMethod::legacy_key);
    return true;
  }
  if (!authorization.empty()) {
    accounts::Accounts acc(store_);
    auto who = acc.authenticate(authorization);
    if (who) {
      ex.principal = Principal{who->user.id, who->user.name, AuthMethod::api_key, who->key_id};
      return true;
    }
    if (who.code() != StoreErrc::not_found) {
      set_auth_error(ex, 503, "server_error", "unavailable", "Cannot check the API key right now; retry.");
      return false;
    }
    if (needs) {
      set_auth_error(ex, 401, "invalid_request_error", "invalid_api_key",
                     "Incorrect API key provided. Pass it as 'Authorization: Bearer <key>'.");
      return false;
    }
    return true;
  }
  const std::string cookie = cookie_value(ex.request()[bhttp::field::cookie], kSessionCookie);
  if (auto p = from_session(cookie)) {
    const auto method = ex.request().method();
    const bool safe = method == bhttp::verb::get || method == bhttp::verb::head;
    // /auth/login creates a session and needs no token (a cross-site form cannot send JSON).
    if (!safe && path != "/auth/login" &&
        !constant_time_equal(ex.request()["X-CSRF-Token"], p->csrf_token)) {
      set_auth_error(ex, 403, "invalid_request_error", "csrf_failed",
                     "Missing or wrong X-CSRF-Token header for a cookie-authenticated request.");
      return false;
    }
    ex.principal = std::move(*p);
    return true;
  }
  if (needs) {
    set_auth_error(ex, 401, "invalid_request_error", "unauthenticated",
                   "Authentication required: sign in, or pass 'Authorization: Bearer <api key>'.");
    return false;
  }
  return true;
}

storage::StoreResult<Authenticator::LoginResult> Authenticator::login(const std::string& name,
                                                                      const std::string& password) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    auto it = failures_.find(name);
    if (it != failures_.end()) {
      if (now - it->second.second > kLoginFailureWindow) failures_.erase(it);
      else if (it->second.first >= kMaxLoginFailures)
        return StoreStatus{StoreErrc::conflict, "Too many failed sign-in attempts; try again later."};
    }
  }
  accounts::Accounts acc(store_);
  auto user = name == kLocalUserName ? storage::StoreResult<storage::User>(StoreErrc::not_found, "no")
                                     : acc.verify_login(name, password);
  if (!user) {
    if (user.code() == StoreErrc::not_found) {
      std::lock_guard lock(mu_);
      auto& f = failures_[name];
      if (f.first == 0) f.second = now;
      ++f.first;
      if (failures_.size() > 100000) failures_.clear();  // bounded
      return StoreStatus{StoreErrc::not_found, "Invalid username or password."};
    }
    return user.status();
  }
  {
    std::lock_guard lock(mu_);
    failures_.erase(name);
  }
  const std::string value = storage::random_base62(43);
  storage::Session s{accounts::sha256_hex(value), user->id, storage::random_base62(32), now_s(),
                     now_s() + kSessionMaxAgeS};
  if (auto st = store_.create_session(s); !st.ok()) return st;
  Principal p{user->id, user->name, AuthMethod::session};
  p.session_hash = s.id_hash;
  p.csrf_token = s.csrf_token;
  return LoginResult{std::move(p), value};
}

void Authenticator::logout(const Principal& p) {
  if (p.method == AuthMethod::session && !p.session_hash.empty()) store_.delete_session(p.session_hash);
}

std::string Authenticator::session_cookie(const std::string& value) const {
  return std::string(kSessionCookie) + "=" + value + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
         std::to_string(kSessionMaxAgeS) + (options_.secure_cookies ? "; Secure" : "");
}

std::string Authenticator::cleared_cookie() const {
  return std::string(kSessionCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
         (options_.secure_cookies ? "; Secure" : "");
}

}  // namespace agora::platform::auth
