// The Conversations API (OpenAI shapes): /v1/conversations[/{id}] create, retrieve, update
// (metadata), delete, plus the Agora list extension (GET /v1/conversations: cursor pages,
// `order`, `q` over metadata.title — web/API.md); items: create (batch ≤ 20), list (paginated,
// `order`), retrieve, delete. Every call acts for ex.principal; another user's ids are 404.
#pragma once

#include "platform/http/router.h"
#include "platform/platform_context.h"

namespace agora::platform::conversations {

void register_conversation_routes(http::Router& router, PlatformContext& ctx);

}  // namespace agora::platform::conversations
