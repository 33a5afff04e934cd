// /v1/threads/{id}/runs (create, list, retrieve, modify, cancel, submit_tool_outputs),
// /v1/threads/runs (create thread and run), run steps; `stream: true` relays the RunLoop's events
// as named SSE events (`event: thread.run.created` …) and ends with `event: done` / `data: [DONE]`.
#include <boost/asio/this_coro.hpp>

#include "platform/assistants/assistants_request.h"
#include "platform/assistants/route_util.h"
#include "platform/http/event_queue.h"

namespace agora::platform::assistants {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using nlohmann::json;
using EventQ = http::EventQueue<runs::RunEvent>;

namespace {

constexpr const char* kAbortEvent = "";  // pushed by a drain that ran out of time

// The conflict answer OpenAI gives for a second active run on a thread.
ApiError active_run_error(AssistantsContext& ctx, const storage::Owner& owner, const std::string& thread_id) {
  std::string active;
  if (auto runs = ctx.store.list_runs(owner, thread_id, {.limit = 1}); runs && !runs->items.empty())
    active = " " + runs->items[0].id;
  return ApiError::invalid("", "Thread " + thread_id + " already has an active run" + active + ".");
}

// The run draft of a create request: assistant (404), settings, model (404).
ApiResult<RunDraft> prepare_run(AssistantsContext& ctx, const storage::Owner& owner, const json& body) {
  auto assistant_id = peek_assistant_id(body);
  if (!assistant_id.ok()) return assistant_id.error();
  auto assistant = ctx.store.get_assistant(owner, assistant_id.value());
  if (!assistant) {
    if (assistant.code() == storage::StoreErrc::not_found)
      return ApiError{ApiErrorKind::not_found, "No assistant found with id '" + assistant_id.value() + "'.", "assistant_id"};
    return api_error_for(assistant.status());
  }
  auto draft = parse_run_create(body, assistant.value());
  if (!draft.ok()) return draft.error();
  if (!ctx.models.find(draft.value().run.model))
    return ApiError{ApiErrorKind::model_not_found, "The model '" + draft.value().run.model + "' does not exist.", "model"};
  return draft;
}

// Streams the run's events until it ends or pauses, then `done`.
// (Arguments by reference: GCC 12 mishandles non-trivial temporaries inside co_await expressions.)
net::awaitable<void> relay(http::Exchange& ex, EventQ& q, const std::vector<runs::RunEvent>& first) {
  if (!co_await ex.begin_stream()) co_return;
  for (const auto& e : first)
    if (!co_await ex.send_named_event(e.name, e.data)) co_return;
  bool done = false;
  while (!done) {
    std::vector<runs::RunEvent> batch = co_await q.pop_all();
    for (const auto& e : batch) {
      if (e.name == kAbortEvent) {
        const std::string err = error_body({ApiErrorKind::unavailable, "The server is shutting down.", ""});
        co_await ex.send_named_event("error", err);
        done = true;
        break;
      }
      if (!co_await ex.send_named_event(e.name, e.data)) co_return;
      if (runs::ends_stream(e.name)) {
        done = true;
        break;
      }
    }
  }
  co_await ex.send_named_event("done", "[DONE]");
  co_await ex.close_stream();
}

std::unique_ptr<runs::RunEventBus::Subscription> subscribe(http::Exchange& ex, AssistantsContext& ctx,
                                                           const std::string& run_id, const std::shared_ptr<EventQ>& q) {
  auto sub = ctx.runs.events().subscribe(run_id, [q](const runs::RunEvent& e) { q->push(e); });
  ex.set_abort([q] { q->push(runs::RunEvent{kAbortEvent, ""}); });
  return sub;
}

net::awaitable<void> create_run(http::Exchange& ex, AssistantsContext& ctx) {
  auto owner = require_owner(ex, ctx);
  if (!owner) co_return;
  const std::string thread_id = ex.path_params[0];
  auto body = parse_body(ex.body(), ctx.limits);
  if (!body.ok()) co_return ex.set_error(body.error());
  auto draft = prepare_run(ctx, *owner, body.value());
  if (!draft.ok()) co_return ex.set_error(draft.error());
  auto thread = ctx.store.get_thread(*owner, thread_id);
  if (!thread) co_return send_store_error(ex, thread.status(), "thread", thread_id);
  if (auto runs = ctx.store.list_runs(*owner, thread_id, {.limit = 1});
      runs && !runs->items.empty() && storage::is_active(runs->items[0].status))
    co_return ex.set_error(active_run_error(ctx, *owner, thread_id));
  for (storage::Message m : draft.value().additional_messages) {
    m.thread_id = thread_id;
    if (auto created = ctx.store.create_message(*owner, m); !created)
      co_return send_store_error(ex, created.status(), "thread", thread_id);
  }
  storage::Run run = draft.value().run;
  run.thread_id = thread_id;
  auto created = ctx.store.create_run(*owner, run);
  if (!created) {
    if (created.code() == storage::StoreErrc::conflict) co_return ex.set_error(active_run_error(ctx, *owner, thread_id));
    co_return send_store_error(ex, created.status(), "thread", thread_id);
  }
  const storage::RunRef ref{owner->id, thread_id, created->id};
  if (!draft.value().stream) {
    ctx.runs.submit(ref);
    co_return send_json(ex, run_json(created.value()));
  }
  auto q = std::make_shared<EventQ>(co_await net::this_coro::executor);
  auto sub = subscribe(ex, ctx, created->id, q);
  const std::string run_text = dump_json(run_json(created.value()));
  const std::vector<runs::RunEvent> first = {{"thread.run.created", run_text}, {"thread.run.queued", run_text}};
  ctx.runs.submit(ref);
  co_await relay(ex, *q, first);
}

net::awaitable<void> create_thread_and_run(http::Exchange& ex, AssistantsContext& ctx) {
  auto owner = require_owner(ex, ctx);
  if (!owner) co_return;
  auto body = parse_body(ex.body(), ctx.limits);
  if (!body.ok()) co_return ex.set_error(body.error());
  auto draft = prepare_run(ctx, *owner, body.value());
  if (!draft.ok()) co_return ex.set_error(draft.error());
  ThreadDraft thread;
  if (auto t = body.value().find("thread"); t != body.value().end() && !t->is_null()) {
    auto parsed = parse_thread_object(*t, "thread.");
    if (!parsed.ok()) co_return ex.set_error(parsed.error());
    thread = std::move(parsed.value());
  }
  auto created = ctx.store.create_thread_and_run(*owner, thread.thread, thread.messages, draft.value().run);
  if (!created) co_return ex.set_error(api_error_for(created.status()));
  const storage::RunRef ref{owner->id, created->thread_id, created->id};
  if (!draft.value().stream) {
    ctx.runs.submit(ref);
    co_return send_json(ex, run_json(created.value()));
  }
  auto q = std::make_shared<EventQ>(co_await net::this_coro::executor);
  auto sub = subscribe(ex, ctx, created->id, q);
  std::vector<runs::RunEvent> first;
  if (auto t = ctx.store.get_thread(*owner, created->thread_id)) first.push_back({"thread.created", dump_json(thread_json(*t))});
  const std::string run_text = dump_json(run_json(created.value()));
  first.push_back({"thread.run.created", run_text});
  first.push_back({"thread.run.queued", run_text});
  ctx.runs.submit(ref);
  co_await relay(ex, *q, first);
}

net::awaitable<void> submit_tool_outputs(http::Exchange& ex, AssistantsContext& ctx) {
  auto owner = require_owner(ex, ctx);
  if (!owner) co_return;
  const std::string thread_id = ex.path_params[0], run_id = ex.path_params[1];
  auto draft = parse_tool_outputs(ex.body(), ctx.limits);
  if (!draft.ok()) co_return ex.set_error(draft.error());
  if (!draft.value().stream) {
    auto run = ctx.runs.submit_tool_outputs(*owner, thread_id, run_id, draft.value().outputs);
    if (!run.ok()) co_return ex.set_error(run.error());
    co_return send_json(ex, run_json(run.value()));
  }
  // Subscribe first: the worker may publish as soon as the outputs are accepted.
  auto q = std::make_shared<EventQ>(co_await net::this_coro::executor);
  auto sub = subscribe(ex, ctx, run_id, q);
  auto run = ctx.runs.submit_tool_outputs(*owner, thread_id, run_id, draft.value().outputs);
  if (!run.ok()) co_return ex.set_error(run.error());
  const std::vector<runs::RunEvent> first;
  co_await relay(ex, *q, first);
}

// ---- synchronous run routes -----------------------------------------------------------------

void list_runs(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto page = parse_page(target_of(ex));
  if (!page.ok()) return ex.set_error(page.error());
  auto list = ctx.store.list_runs(owner, ex.path_params[0], page.value());
  if (!list) return send_store_error(ex, list.status(), "thread", ex.path_params[0]);
  send_json(ex, list_json(list.value(), run_json));
}

void get_run(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto run = ctx.store.get_run(owner, ex.path_params[0], ex.path_params[1]);
  if (!run) return send_store_error(ex, run.status(), "run", ex.path_params[1]);
  send_json(ex, run_json(run.value()));
}

void modify_run(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto cur = ctx.store.get_run(owner, ex.path_params[0], ex.path_params[1]);
    if (!cur) return send_store_error(ex, cur.status(), "run", ex.path_params[1]);
    auto metadata = parse_metadata_modify(ex.body(), ctx.limits, cur.value().metadata);
    if (!metadata.ok()) return ex.set_error(metadata.error());
    if (storage::is_terminal(cur->status)) {
      // TODO(run-metadata): the Store's update_run refuses terminal runs; metadata of a finished
      // run cannot change yet.
      if (metadata.value() == cur->metadata) return send_json(ex, run_json(cur.value()));
      return ex.set_error(ApiError::invalid("metadata", "The metadata of a finished run cannot be changed yet."));
    }
    storage::Run next = cur.value();
    next.metadata = metadata.value();
    auto saved = ctx.store.update_run(owner, next, cur->status);
    if (saved) return send_json(ex, run_json(saved.value()));
    if (saved.code() != storage::StoreErrc::conflict) return send_store_error(ex, saved.status(), "run", ex.path_params[1]);
  }
  ex.set_error({ApiErrorKind::unavailable, "The run kept changing; retry.", ""});
}

void cancel_run(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto run = ctx.runs.cancel(owner, ex.path_params[0], ex.path_params[1]);
  if (!run.ok()) return ex.set_error(run.error());
  send_json(ex, run_json(run.value()));
}

void list_steps(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto page = parse_page(target_of(ex));
  if (!page.ok()) return ex.set_error(page.error());
  auto list = ctx.store.list_run_steps(owner, ex.path_params[0], ex.path_params[1], page.value());
  if (!list) return send_store_error(ex, list.status(), "run", ex.path_params[1]);
  send_json(ex, list_json(list.value(), run_step_json));
}

void get_step(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto step = ctx.store.get_run_step(owner, ex.path_params[0], ex.path_params[1], ex.path_params[2]);
  if (!step) return send_store_error(ex, step.status(), "run step", ex.path_params[2]);
  send_json(ex, run_step_json(step.value()));
}

}  // namespace

void register_run_routes(http::Router& router, AssistantsContext& ctx) {
  router.add(bhttp::verb::post, "/v1/threads/runs", [c = &ctx](http::Exchange& ex) { return create_thread_and_run(ex, *c); });
  router.add(bhttp::verb::post, "/v1/threads/{}/runs", [c = &ctx](http::Exchange& ex) { return create_run(ex, *c); });
  add_sync<&list_runs>(router, bhttp::verb::get, "/v1/threads/{}/runs", ctx);
  add_sync<&get_run>(router, bhttp::verb::get, "/v1/threads/{}/runs/{}", ctx);
  add_sync<&modify_run>(router, bhttp::verb::post, "/v1/threads/{}/runs/{}", ctx);
  add_sync<&cancel_run>(router, bhttp::verb::post, "/v1/threads/{}/runs/{}/cancel", ctx);
  router.add(bhttp::verb::post, "/v1/threads/{}/runs/{}/submit_tool_outputs",
             [c = &ctx](http::Exchange& ex) { return submit_tool_outputs(ex, *c); });
  add_sync<&list_steps>(router, bhttp::verb::get, "/v1/threads/{}/runs/{}/steps", ctx);
  add_sync<&get_step>(router, bhttp::verb::get, "/v1/threads/{}/runs/{}/steps/{}", ctx);
}

}  // namespace agora::platform::assistants
