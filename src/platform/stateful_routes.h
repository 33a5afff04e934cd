// The stateful API surface of `agora serve`, registered in one call by run_serve: the web app's
// routes (static files, /auth/*, /v1/modes), Conversations, and Responses (with the service that
// runs background responses). The returned object owns that service; destroy it after the
// backends (their last events finish the responses still running).
#pragma once

#include <memory>

#include "platform/http/router.h"
#include "platform/platform_context.h"

namespace agora::platform {

class StatefulRoutes {
 public:
  virtual ~StatefulRoutes() = default;
  // Stops background work that drives the backends (the Assistants run loop: its turns end and
  // their runs fail, none is left in_progress). run_serve calls it once the server has drained,
  // before the backends go.
  virtual void stop_background() {}
};

std::unique_ptr<StatefulRoutes> register_stateful_routes(http::Router& router, PlatformContext& ctx);

}  // namespace agora::platform
