// The Assistants v2 API (/v1/files, /v1/assistants, /v1/threads, messages, runs, run steps), in
// OpenAI's shapes; `OpenAI-Beta: assistants=v2` is accepted (and not required).
//
//   AssistantsContext ctx{store, models, run_loop, limits, owner_of};
//   register_assistants_routes(router, ctx);   // ctx outlives the router
//
// Every handler resolves the request's tenant with ctx.owner_of (none → 401) and passes it to
// every Store call, so another user's id is a 404 from the Store itself. Runs are executed by the
// RunLoop (src/platform/runs/); `stream: true` relays its events as OpenAI's named SSE events,
// ending with `event: done` / `data: [DONE]`.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "platform/http/router.h"
#include "platform/limits.h"
#include "platform/openai/model_registry.h"
#include "platform/runs/run_loop.h"
#include "platform/storage/store.h"

namespace agora::platform::assistants {

struct AssistantsContext {
  storage::Store& store;
  const ModelRegistry& models;
  runs::RunLoop& runs;
  ServerLimits limits;
  // The tenant a request acts for; nullopt answers 401.
  std::function<std::optional<storage::Owner>(const http::Exchange&)> owner_of;
  // Where uploads whose `file` part precedes `purpose` are spooled (upload_spool.h): DATA/files
  // in `agora serve`; empty = the system's temporary directory.
  std::string upload_spool_dir = {};
};

void register_assistants_routes(http::Router& router, AssistantsContext& ctx);

// Per-family registration (all called by register_assistants_routes).
void register_file_routes(http::Router& router, AssistantsContext& ctx);
void register_thread_routes(http::Router& router, AssistantsContext& ctx);
void register_run_routes(http::Router& router, AssistantsContext& ctx);

}  // namespace agora::platform::assistants
