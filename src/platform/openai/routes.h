// The OpenAI-compatible routes: /v1/models, /v1/chat/completions, /v1/completions,
// /v1/embeddings, plus /health and /metrics. Handlers parse the body into typed requests at the
// edge (chat_request.h, completion_request.h) and talk to each model's Backend.
#pragma once

#include "platform/http/router.h"
#include "platform/limits.h"
#include "platform/metrics.h"
#include "platform/openai/model_registry.h"

namespace agora::platform {

struct OpenAiContext {
  const ModelRegistry& models;
  Metrics& metrics;
  ServerLimits limits;
};

// Registers every route; `ctx` must outlive the router.
void register_openai_routes(http::Router& router, OpenAiContext& ctx);

// Individual handlers (registered by register_openai_routes; exposed for tests).
boost::asio::awaitable<void> handle_chat_completions(http::Exchange& ex, OpenAiContext& ctx);
boost::asio::awaitable<void> handle_completions(http::Exchange& ex, OpenAiContext& ctx);
boost::asio::awaitable<void> handle_embeddings(http::Exchange& ex, OpenAiContext& ctx);

// Resolves `model` or answers 404 model_not_found (returns nullptr).
ServedModel* find_model(const OpenAiContext& ctx, const std::string& id);

}  // namespace agora::platform
