#include "platform/openai/routes.h"

#include <nlohmann/json.hpp>

namespace agora::platform {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using nlohmann::json;

ServedModel* find_model(const OpenAiContext& ctx, const std::string& id) { return ctx.models.find(id); }

namespace {
json model_json(const ServedModel& m) {
  return {{"id", m.id}, {"object", "model"}, {"created", m.created}, {"owned_by", "agora"}};
}
std::string list_json(const json& data) { return json{{"object", "list"}, {"data", data}}.dump(); }
std::string health_json(const json& models) { return json{{"status", "ok"}, {"models", models}}.dump(); }
}  // namespace

void register_openai_routes(http::Router& router, OpenAiContext& ctx) {
  OpenAiContext* c = &ctx;
  router.add(bhttp::verb::get, "/v1/models", [c](http::Exchange& ex) -> net::awaitable<void> {
    json data = json::array();
    for (const auto& m : c->models.all()) data.push_back(model_json(*m));
    const std::string body = list_json(data);
    ex.set_json(200, body);
    co_return;
  });
  router.add(bhttp::verb::get, "/v1/models/{}", [c](http::Exchange& ex) -> net::awaitable<void> {
    const std::string& id = ex.path_params.at(0);
    ServedModel* m = find_model(*c, id);
    if (!m) co_return ex.set_error({ApiErrorKind::model_not_found, "The model '" + id + "' does not exist.", "model"});
    const std::string body = model_json(*m).dump();
    ex.set_json(200, body);
  });
  router.add(bhttp::verb::post, "/v1/chat/completions",
             [c](http::Exchange& ex) -> net::awaitable<void> { co_await handle_chat_completions(ex, *c); });
  router.add(bhttp::verb::post, "/v1/completions",
             [c](http::Exchange& ex) -> net::awaitable<void> { co_await handle_completions(ex, *c); });
  router.add(bhttp::verb::post, "/v1/embeddings",
             [c](http::Exchange& ex) -> net::awaitable<void> { co_await handle_embeddings(ex, *c); });
  router.add(bhttp::verb::get, "/health", [c](http::Exchange& ex) -> net::awaitable<void> {
    json models = json::array();
    for (const auto& m : c->models.all()) {
      const BackendStats s = m->backend->stats();
      models.push_back({{"id", m->id}, {"running", s.n_running}, {"queued", s.n_queued}});
    }
    const std::string body = health_json(models);
    ex.set_json(200, body);
    co_return;
  });
  router.add(bhttp::verb::get, "/metrics", [c](http::Exchange& ex) -> net::awaitable<void> {
    std::vector<std::pair<std::string, const Backend*>> backends;
    for (const auto& m : c->models.all()) backends.emplace_back(m->id, m->backend.get());
    ex.set_response(200, "text/plain; version=0.0.4; charset=utf-8", c->metrics.render(backends));
    co_return;
  });
}

}  // namespace agora::platform
