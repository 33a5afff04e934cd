#include "platform/responses/response_routes.h"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>

#include "platform/openai/json_body.h"
#include "platform/responses/response_items.h"

namespace agora::platform::responses {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using nlohmann::json;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

constexpr auto kCancelWait = std::chrono::seconds(10);

std::string_view target_of(const http::Exchange& ex) {
  return {ex.request().target().data(), ex.request().target().size()};
}

// Waits until `q` delivers the end marker (the job's final state is persisted).
net::awaitable<void> wait_end(std::shared_ptr<StreamQueue> q, bool finished) {
  while (!finished) {
    auto batch = co_await q->pop_all();
    for (const auto& e : batch) finished = finished || e.end;
  }
}

net::awaitable<void> sleep_for(std::chrono::steady_clock::duration d) {
  net::steady_timer t(co_await net::this_coro::executor, d);
  co_await t.async_wait(net::as_tuple(net::use_awaitable));
}

// The job's events after `after` as SSE, following it live until it ends. A client that goes
// away cancels the job when `cancel_on_disconnect` (a foreground response).
net::awaitable<void> stream_job(http::Exchange& ex, std::shared_ptr<ResponseJob> job, int64_t after, bool cancel_on_disconnect) {
  auto q = std::make_shared<StreamQueue>(co_await net::this_coro::executor);
  auto sub = job->subscribe(after, q);
  auto gone = [&] {
    if (cancel_on_disconnect) job->cancel();
  };
  if (!co_await ex.begin_stream()) co_return gone();
  for (const auto& e : sub.backlog)
    if (!co_await ex.send_named_event(e.type, e.data)) co_return gone();
  bool done = sub.finished;
  while (!done) {
    auto r = co_await (q->pop_all() || ex.wait_disconnect());
    if (r.index() == 1) co_return gone();
    for (const auto& e : std::get<0>(r)) {
      if (e.end) {
        done = true;
        break;
      }
      if (!co_await ex.send_named_event(e.type, e.data)) co_return gone();
    }
  }
  co_await ex.close_stream();
}

json stored_object(const storage::ResponseRecord& rec) {
  json obj = parse_stored(rec.object);
  if (!obj.is_object()) obj = json::object();
  obj["status"] = rec.status;
  return obj;
}

void send(http::Exchange& ex, const json& j) { ex.set_json(200, dump(j)); }

ApiError not_found(const std::string& id) {
  return {ApiErrorKind::not_found, "Response with id '" + id + "' not found.", ""};
}

}  // namespace

void register_response_routes(http::Router& router, PlatformContext& ctx, ResponseService& service) {
  PlatformContext* c = &ctx;
  ResponseService* s = &service;

  router.add(bhttp::verb::post, "/v1/responses", [c, s](http::Exchange& ex) -> net::awaitable<void> {
    auto body = parse_json_body(ex.body(), c->limits.max_json_depth);
    if (!body.ok()) co_return ex.set_error(body.error());
    auto req = parse_response_request(body.value());
    if (!req.ok()) co_return ex.set_error(req.error());
    const bool stream = req.value().stream, background = req.value().background;
    auto started = s->start(*ex.principal, std::move(req.value()));
    if (!started.ok()) co_return ex.set_error(started.error());
    auto job = started.value();
    if (!background) ex.set_abort([job] { job->cancel(); });
    if (stream) co_return co_await stream_job(ex, job, -1, !background);
    if (background) co_return send(ex, job->object());
    auto q = std::make_shared<StreamQueue>(co_await net::this_coro::executor);
    auto sub = job->subscribe(INT64_MAX, q);
    auto r = co_await (wait_end(q, sub.finished) || ex.wait_disconnect());
    if (r.index() == 1) {
      job->cancel();
      co_return;
    }
    send(ex, job->object());
  });

  router.add(bhttp::verb::get, "/v1/responses/{}", [c, s](http::Exchange& ex) -> net::awaitable<void> {
    const std::string& id = ex.path_params.at(0);
    const auto owner = ex.principal->owner();
    const bool stream = query_param(target_of(ex), "stream") == "true";
    int64_t after = -1;
    if (const std::string sa = query_param(target_of(ex), "starting_after"); !sa.empty()) {
      char* end = nullptr;
      after = std::strtoll(sa.c_str(), &end, 10);
      if (*end != '\0' || after < -1) co_return ex.set_error(ApiError::invalid("starting_after", "starting_after must be an integer."));
    }
    auto job = s->live(owner.id, id);
    if (job && !job->stored()) job = nullptr;  // store=false responses cannot be retrieved
    if (job) {
      if (!stream) co_return send(ex, job->object());
      if (!job->background())
        co_return ex.set_error(ApiError::invalid("stream", "Only background responses can be streamed again."));
      co_return co_await stream_job(ex, job, after, false);
    }
    auto rec = c->store.get_response(owner, id);
    if (!rec) co_return ex.set_error(rec.code() == storage::StoreErrc::not_found ? not_found(id) : api_error(rec.status()));
    if (!stream) co_return send(ex, stored_object(*rec));
    if (!rec->background) co_return ex.set_error(ApiError::invalid("stream", "Only background responses can be streamed again."));
    // The job may have ended between the two looks: the store now holds every event.
    auto events = c->store.list_response_events(owner, id, after);
    if (!events) co_return ex.set_error(api_error(events.status()));
    if (!co_await ex.begin_stream()) co_return;
    for (const auto& e : *events)
      if (!co_await ex.send_named_event(e.type, e.data)) co_return;
    co_await ex.close_stream();
  });

  router.add(bhttp::verb::delete_, "/v1/responses/{}", [c, s](http::Exchange& ex) -> net::awaitable<void> {
    const std::string& id = ex.path_params.at(0);
    const auto owner = ex.principal->owner();
    if (auto job = s->live(owner.id, id)) job->cancel();
    if (auto st = c->store.delete_response(owner, id); !st.ok())
      co_return ex.set_error(st.code() == storage::StoreErrc::not_found ? not_found(id) : api_error(st));
    send(ex, {{"id", id}, {"object", "response.deleted"}, {"deleted", true}});
  });

  router.add(bhttp::verb::post, "/v1/responses/{}/cancel", [c, s](http::Exchange& ex) -> net::awaitable<void> {
    const std::string& id = ex.path_params.at(0);
    const auto owner = ex.principal->owner();
    if (auto job = s->live(owner.id, id); job && job->stored()) {
      if (!job->background()) co_return ex.set_error(ApiError::invalid("", "Only background responses can be cancelled."));
      auto q = std::make_shared<StreamQueue>(co_await net::this_coro::executor);
      auto sub = job->subscribe(INT64_MAX, q);
      job->cancel();
      co_await (wait_end(q, sub.finished) || sleep_for(kCancelWait));
    }
    auto rec = c->store.get_response(owner, id);
    if (!rec) co_return ex.set_error(rec.code() == storage::StoreErrc::not_found ? not_found(id) : api_error(rec.status()));
    if (!rec->background) co_return ex.set_error(ApiError::invalid("", "Only background responses can be cancelled."));
    send(ex, stored_object(*rec));
  });

  router.add(bhttp::verb::get, "/v1/responses/{}/input_items", [c](http::Exchange& ex) -> net::awaitable<void> {
    const std::string& id = ex.path_params.at(0);
    auto page = page_request_from_query(target_of(ex), storage::SortOrder::desc);
    if (!page.ok()) co_return ex.set_error(page.error());
    auto rec = c->store.get_response(ex.principal->owner(), id);
    if (!rec) co_return ex.set_error(rec.code() == storage::StoreErrc::not_found ? not_found(id) : api_error(rec.status()));
    json items = parse_stored(rec->input_items);
    if (!items.is_array()) items = json::array();
    if (page.value().order == storage::SortOrder::desc) std::reverse(items.begin(), items.end());
    size_t start = 0;
    if (!page.value().after.empty()) {
      start = items.size() + 1;
      for (size_t i = 0; i < items.size(); ++i)
        if (items[i].value("id", "") == page.value().after) start = i + 1;
      if (start > items.size()) co_return ex.set_error(ApiError::invalid("after", "No item '" + page.value().after + "' in this response's input."));
    }
    json data = json::array();
    for (size_t i = start; i < items.size() && static_cast<int>(data.size()) < page.value().limit; ++i) data.push_back(items[i]);
    send(ex, list_json(std::move(data), start + data.size() < items.size()));
  });
}

}  // namespace agora::platform::responses
