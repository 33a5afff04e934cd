// The web app's side of `agora serve` (web/API.md): the built page at / and /assets/<file> with
// the Content-Security-Policy and security headers, the /auth/* endpoints (session sign-in and
// API key management), and /v1/modes (the instruction presets, admin-editable).
#pragma once

#include "platform/http/router.h"
#include "platform/platform_context.h"

namespace agora::platform::web {

// The headers sent with every page and asset response.
extern const char* const kContentSecurityPolicy;

void register_web_routes(http::Router& router, PlatformContext& ctx);

}  // namespace agora::platform::web
