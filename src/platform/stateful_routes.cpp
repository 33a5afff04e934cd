#include "platform/stateful_routes.h"

#include <cstdio>

#include "platform/assistants/assistants_routes.h"
#include "platform/conversations/conversation_routes.h"
#include "platform/responses/response_routes.h"
#include "platform/web/web_routes.h"

namespace agora::platform {

namespace {
class Routes final : public StatefulRoutes {
 public:
  explicit Routes(PlatformContext& ctx)
      : responses(ctx),
        run_loop(ctx.store, ctx.models),
        assistants{ctx.store, ctx.models, run_loop, ctx.limits,
                   [](const http::Exchange& ex) -> std::optional<storage::Owner> {
                     if (!ex.principal) return std::nullopt;
                     return ex.principal->owner();
                   },
                   ctx.data_dir.empty() ? std::string() : ctx.data_dir + "/files"} {}
  void stop_background() override { run_loop.stop(); }
  responses::ResponseService responses;
  runs::RunLoop run_loop;  // Assistants runs (src/platform/runs/)
  assistants::AssistantsContext assistants;
};
}  // namespace

std::unique_ptr<StatefulRoutes> register_stateful_routes(http::Router& router, PlatformContext& ctx) {
  auto owned = std::make_unique<Routes>(ctx);
  if (const int n = owned->responses.recover(); n > 0)
    std::fprintf(stderr, "agora serve: recovered after a crash: %d response(s) that were running are now failed\n", n);
  web::register_web_routes(router, ctx);
  conversations::register_conversation_routes(router, ctx);
  responses::register_response_routes(router, ctx, owned->responses);
  owned->run_loop.start();
  assistants::register_assistants_routes(router, owned->assistants);
  return owned;
}

}  // namespace agora::platform
