// The Responses API: POST /v1/responses (plain, stream, background), GET /v1/responses/{id}
// (also ?stream=true&starting_after=N: replay a background response's events after N, then
// follow it live), DELETE /v1/responses/{id}, POST /v1/responses/{id}/cancel,
// GET /v1/responses/{id}/input_items. Every call acts for ex.principal; another user's ids are 404.
#pragma once

#include "platform/http/router.h"
#include "platform/responses/response_service.h"

namespace agora::platform::responses {

void register_response_routes(http::Router& router, PlatformContext& ctx, ResponseService& service);

}  // namespace agora::platform::responses
