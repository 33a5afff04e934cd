#include "platform/stateful_routes.h"

#include <cstdio>

#include "platform/conversations/conversation_routes.h"
#include "platform/responses/response_routes.h"
#include "platform/web/web_routes.h"

namespace agora::platform {

namespace {
class Routes final : public StatefulRoutes {
 public:
  explicit Routes(PlatformContext& ctx) : responses(ctx) {}
  responses::ResponseService responses;
};
}  // namespace

std::unique_ptr<StatefulRoutes> register_stateful_routes(http::Router& router, PlatformContext& ctx) {
  auto owned = std::make_unique<Routes>(ctx);
  if (const int n = owned->responses.recover(); n > 0)
    std::fprintf(stderr, "agora serve: recovered after a crash: %d response(s) that were running are now failed\n", n);
  web::register_web_routes(router, ctx);
  conversations::register_conversation_routes(router, ctx);
  responses::register_response_routes(router, ctx, owned->responses);
  return owned;
}

}  // namespace agora::platform
