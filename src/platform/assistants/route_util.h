// Helpers shared by the Assistants route files (not a public interface).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "platform/assistants/assistants_routes.h"
#include "platform/assistants/object_json.h"
#include "platform/assistants/store_errors.h"

namespace agora::platform::assistants {

// The request's tenant, or sets a 401 and returns nullopt.
inline std::optional<storage::Owner> require_owner(http::Exchange& ex, AssistantsContext& ctx) {
  auto owner = ctx.owner_of ? ctx.owner_of(ex) : std::nullopt;
  if (!owner) ex.set_error({ApiErrorKind::unauthorized, "You didn't provide an API key. Pass it as 'Authorization: Bearer <key>'.", ""});
  return owner;
}

inline void send_json(http::Exchange& ex, const nlohmann::json& j) { ex.set_json(200, dump_json(j)); }

// 404 in OpenAI's words for a missing (or foreign) object; other store errors mapped.
inline void send_store_error(http::Exchange& ex, const storage::StoreStatus& s, const char* what, const std::string& id) {
  if (s.code() == storage::StoreErrc::not_found) {
    ex.set_error({ApiErrorKind::not_found, std::string("No ") + what + " found with id '" + id + "'.", ""});
    return;
  }
  ex.set_error(api_error_for(s));
}

inline std::string target_of(const http::Exchange& ex) {
  return std::string(ex.request().target().data(), ex.request().target().size());
}

using SyncHandler = void (*)(http::Exchange&, AssistantsContext&, const storage::Owner&);

// A handler that answers without suspending, behind the tenant check.
template <SyncHandler F>
boost::asio::awaitable<void> sync_route(http::Exchange& ex, AssistantsContext& ctx) {
  if (auto owner = require_owner(ex, ctx)) F(ex, ctx, *owner);
  co_return;
}

template <SyncHandler F>
void add_sync(http::Router& router, boost::beast::http::verb method, const char* pattern, AssistantsContext& ctx) {
  router.add(method, pattern, [c = &ctx](http::Exchange& ex) { return sync_route<F>(ex, *c); });
}

}  // namespace agora::platform::assistants
