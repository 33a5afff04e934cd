#include "platform/web/web_routes.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "platform/accounts/accounts.h"
#include "platform/openai/json_body.h"

namespace agora::platform::web {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using nlohmann::json;
using storage::StoreErrc;

const char* const kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; media-src 'none'; object-src 'none'; frame-src 'none'; worker-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

namespace {

constexpr size_t kMaxKeyNameBytes = 100;
constexpr size_t kMaxModeTextBytes = 16 * 1024;

http::Headers security_headers() {
  return {{"Content-Security-Policy", kContentSecurityPolicy},
          {"X-Content-Type-Options", "nosniff"},
          {"Referrer-Policy", "no-referrer"},
          {"X-Frame-Options", "DENY"},
          {"Cross-Origin-Opener-Policy", "same-origin"}};
}

const char* content_type_for(const std::string& name) {
  auto ends = [&](const char* ext) { return name.size() >= std::strlen(ext) && name.ends_with(ext); };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".woff2")) return "font/woff2";
  if (ends(".json")) return "application/json";
  return "application/octet-stream";
}

// A file name under assets/: [A-Za-z0-9._-], not starting with a dot (no traversal, no dotfiles).
bool safe_asset_name(const std::string& n) {
  if (n.empty() || n.size() > 200 || n[0] == '.') return false;
  for (char c : n)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

void serve_file(http::Exchange& ex, const std::string& path, const std::string& name, const char* cache) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    ex.set_error({ApiErrorKind::not_found, "Unknown request URL: GET " + std::string(ex.path()) + ".", ""});
    return;
  }
  std::ostringstream ss;
  ss << f.rdbuf();
  http::Headers h = security_headers();
  h.emplace_back("Cache-Control", cache);
  ex.set_response(200, content_type_for(name), ss.str(), std::move(h));
}

void set_json(http::Exchange& ex, const json& j, http::Headers extra = {}) {
  ex.set_response(200, "application/json", j.dump(-1, ' ', false, json::error_handler_t::replace), std::move(extra));
}

json me_json(const PlatformContext& ctx, const auth::Principal& p) {
  const bool required = ctx.auth.mode() == auth::AuthMode::required;
  return {{"object", "auth.session"},
          {"auth_required", required},
          {"user", {{"id", p.user_id}, {"username", p.user_name}}},
          {"csrf_token", p.method == auth::AuthMethod::session ? json(p.csrf_token) : json(nullptr)}};
}

json key_json(const storage::ApiKey& k, const std::string& name) {
  return {{"id", k.id},
          {"object", "api_key"},
          {"name", name},
          {"created_at", k.created_at},
          {"last_used_at", nullptr},
          {"redacted_value", k.prefix + "…"}};
}

json mode_json(const storage::Mode& m) {
  return {{"id", m.id}, {"object", "mode"}, {"name", m.name}, {"description", m.description}, {"instructions", m.instructions}};
}

void store_error(http::Exchange& ex, const storage::StoreStatus& st) {
  switch (st.code()) {
    case StoreErrc::not_found: return ex.set_error({ApiErrorKind::not_found, st.message(), ""});
    case StoreErrc::invalid_argument:
    case StoreErrc::conflict: return ex.set_error(ApiError::invalid("", st.message()));
    case StoreErrc::unavailable: return ex.set_error({ApiErrorKind::unavailable, st.message(), ""});
    default: return ex.set_error({ApiErrorKind::internal, st.message(), ""});
  }
}

// Admins edit the presets: the local user (open mode, or the legacy --api-key).
bool is_admin(const auth::Principal& p) {
  return p.method == auth::AuthMethod::local || p.method == auth::AuthMethod::legacy_key;
}

}  // namespace

void register_web_routes(http::Router& router, PlatformContext& ctx) {
  PlatformContext* c = &ctx;

  // ---- the page ----
  router.add(bhttp::verb::get, "/", [c](http::Exchange& ex) -> net::awaitable<void> {
    if (c->web_dir.empty()) {
      ex.set_error({ApiErrorKind::not_found, "The web app is not built (run scripts/setup, or pass --web-dir).", ""});
      co_return;
    }
    serve_file(ex, c->web_dir + "/index.html", "index.html", "no-cache");
    co_return;
  });
  router.add(bhttp::verb::get, "/assets/{}", [c](http::Exchange& ex) -> net::awaitable<void> {
    const std::string& name = ex.path_params.at(0);
    if (c->web_dir.empty() || !safe_asset_name(name)) {
      ex.set_error({ApiErrorKind::not_found, "Unknown request URL: GET " + std::string(ex.path()) + ".", ""});
      co_return;
    }
    serve_file(ex, c->web_dir + "/assets/" + name, name, "public, max-age=31536000, immutable");
    co_return;
  });

  // ---- /auth ----
  router.add(bhttp::verb::get, "/auth/me", [c](http::Exchange& ex) -> net::awaitable<void> {
    set_json(ex, me_json(*c, *ex.principal));
    co_return;
  });
  router.add(bhttp::verb::post, "/auth/login", [c](http::Exchange& ex) -> net::awaitable<void> {
    if (c->auth.mode() != auth::AuthMode::required) {
      auth::set_auth_error(ex, 400, "invalid_request_error", "auth_disabled", "Authentication is off on this server.");
      co_return;
    }
    const std::string_view type = ex.request()[bhttp::field::content_type];
    if (!type.starts_with("application/json")) {
      auth::set_auth_error(ex, 400, "invalid_request_error", "invalid_content_type",
                           "Sign in with Content-Type: application/json.");
      co_return;
    }
    auto body = parse_json_body(ex.body(), c->limits.max_json_depth);
    if (!body.ok()) co_return ex.set_error(body.error());
    const json& b = body.value();
    if (!b.contains("username") || !b["username"].is_string() || !b.contains("password") || !b["password"].is_string()) {
      co_return ex.set_error(ApiError::invalid("username", "Send {\"username\", \"password\"} as strings."));
    }
    auto r = c->auth.login(b["username"].get<std::string>(), b["password"].get<std::string>());
    if (!r) {
      if (r.code() == StoreErrc::not_found)
        auth::set_auth_error(ex, 401, "invalid_request_error", "invalid_credentials", "Invalid username or password.");
      else if (r.code() == StoreErrc::conflict)
        auth::set_auth_error(ex, 429, "rate_limit_error", "rate_limited", r.status().message());
      else
        store_error(ex, r.status());
      co_return;
    }
    set_json(ex, me_json(*c, r->principal), {{"Set-Cookie", c->auth.session_cookie(r->cookie_value)}});
  });
  router.add(bhttp::verb::post, "/auth/logout", [c](http::Exchange& ex) -> net::awaitable<void> {
    if (ex.principal) c->auth.logout(*ex.principal);
    set_json(ex, {{"object", "auth.logout"}, {"signed_out", true}}, {{"Set-Cookie", c->auth.cleared_cookie()}});
    co_return;
  });
  router.add(bhttp::verb::get, "/auth/keys", [c](http::Exchange& ex) -> net::awaitable<void> {
    json data = json::array();
    if (c->auth.mode() == auth::AuthMode::required) {
      auto keys = c->store.list_api_keys(ex.principal->user_id);
      if (!keys) co_return store_error(ex, keys.status());
      auto names = c->store.api_key_names(ex.principal->user_id);
      if (!names) co_return store_error(ex, names.status());
      for (auto it = keys->rbegin(); it != keys->rend(); ++it) {
        if (it->revoked_at) continue;
        auto n = names->find(it->id);
        data.push_back(key_json(*it, n == names->end() ? "Untitled key" : n->second));
      }
    }
    set_json(ex, {{"object", "list"},
                  {"data", data},
                  {"first_id", data.empty() ? json(nullptr) : data.front()["id"]},
                  {"last_id", data.empty() ? json(nullptr) : data.back()["id"]},
                  {"has_more", false}});
    co_return;
  });
  router.add(bhttp::verb::post, "/auth/keys", [c](http::Exchange& ex) -> net::awaitable<void> {
    if (c->auth.mode() != auth::AuthMode::required) {
      auth::set_auth_error(ex, 400, "invalid_request_error", "auth_disabled", "Authentication is off on this server.");
      co_return;
    }
    auto body = parse_json_body(ex.body().empty() ? std::string("{}") : ex.body(), c->limits.max_json_depth);
    if (!body.ok()) co_return ex.set_error(body.error());
    std::string name;
    if (body.value().contains("name") && !body.value()["name"].is_null()) {
      if (!body.value()["name"].is_string()) co_return ex.set_error(ApiError::invalid("name", "name must be a string."));
      name = body.value()["name"].get<std::string>();
    }
    if (name.size() > kMaxKeyNameBytes) co_return ex.set_error(ApiError::invalid("name", "name is longer than 100 characters."));
    if (name.empty()) name = "Untitled key";
    accounts::Accounts acc(c->store);
    auto key = acc.create_key(ex.principal->user_id, std::nullopt);
    if (!key) co_return store_error(ex, key.status());
    if (auto st = c->store.set_api_key_name(key->record.id, name); !st.ok()) co_return store_error(ex, st);
    json j = key_json(key->record, name);
    j["value"] = key->secret;
    set_json(ex, j);
  });
  router.add(bhttp::verb::delete_, "/auth/keys/{}", [c](http::Exchange& ex) -> net::awaitable<void> {
    const std::string& id = ex.path_params.at(0);
    auto keys = c->store.list_api_keys(ex.principal->user_id);  // the caller's keys only
    if (!keys) co_return store_error(ex, keys.status());
    bool mine = false;
    for (const auto& k : *keys) mine |= k.id == id;
    if (!mine) co_return ex.set_error({ApiErrorKind::not_found, "No API key with id '" + id + "'.", ""});
    if (auto r = c->store.revoke_api_key(id); !r) co_return store_error(ex, r.status());
    set_json(ex, {{"id", id}, {"object", "api_key.deleted"}, {"deleted", true}});
  });

  // ---- /v1/modes ----
  router.add(bhttp::verb::get, "/v1/modes", [c](http::Exchange& ex) -> net::awaitable<void> {
    auto modes = c->store.list_modes();
    if (!modes) co_return store_error(ex, modes.status());
    json data = json::array();
    for (const auto& m : *modes) data.push_back(mode_json(m));
    set_json(ex, {{"object", "list"}, {"data", data}});
  });
  router.add(bhttp::verb::post, "/v1/modes/{}", [c](http::Exchange& ex) -> net::awaitable<void> {
    if (!is_admin(*ex.principal)) {
      auth::set_auth_error(ex, 403, "invalid_request_error", "forbidden", "Only an administrator can edit modes.");
      co_return;
    }
    auto body = parse_json_body(ex.body(), c->limits.max_json_depth);
    if (!body.ok()) co_return ex.set_error(body.error());
    auto modes = c->store.list_modes();
    if (!modes) co_return store_error(ex, modes.status());
    const std::string& id = ex.path_params.at(0);
    std::optional<storage::Mode> mode;
    for (const auto& m : *modes)
      if (m.id == id) mode = m;
    if (!mode) co_return ex.set_error({ApiErrorKind::not_found, "No mode '" + id + "'.", ""});
    std::optional<ApiError> err;
    FieldReader r(body.value(), "", err);
    r.read("name", mode->name, kMaxModeTextBytes);
    r.read("description", mode->description, kMaxModeTextBytes);
    r.read("instructions", mode->instructions, kMaxModeTextBytes);
    if (err) co_return ex.set_error(*err);
    auto saved = c->store.update_mode(*mode);
    if (!saved) co_return store_error(ex, saved.status());
    set_json(ex, mode_json(*saved));
  });
}

}  // namespace agora::platform::web
