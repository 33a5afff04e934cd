// /v1/assistants (CRUD, cursor pagination), /v1/threads (create with messages, retrieve,
// modify, delete) and /v1/threads/{id}/messages (create, list with run_id filter, retrieve,
// modify, delete).
#include "platform/assistants/assistants_request.h"
#include "platform/assistants/route_util.h"

namespace agora::platform::assistants {

namespace bhttp = boost::beast::http;
using nlohmann::json;

namespace {

bool check_model(http::Exchange& ex, AssistantsContext& ctx, const std::string& model) {
  if (ctx.models.find(model)) return true;
  ex.set_error({ApiErrorKind::model_not_found, "The model '" + model + "' does not exist.", "model"});
  return false;
}

// ---- assistants -----------------------------------------------------------------------------

void create_assistant(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto draft = parse_assistant_create(ex.body(), ctx.limits);
  if (!draft.ok()) return ex.set_error(draft.error());
  if (!check_model(ex, ctx, draft.value().model)) return;
  auto a = ctx.store.create_assistant(owner, draft.value());
  if (!a) return ex.set_error(api_error_for(a.status()));
  send_json(ex, assistant_json(a.value()));
}

void list_assistants(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto page = parse_page(target_of(ex));
  if (!page.ok()) return ex.set_error(page.error());
  auto list = ctx.store.list_assistants(owner, page.value());
  if (!list) return send_store_error(ex, list.status(), "assistant", page.value().after + page.value().before);
  send_json(ex, list_json(list.value(), assistant_json));
}

void get_assistant(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto a = ctx.store.get_assistant(owner, ex.path_params[0]);
  if (!a) return send_store_error(ex, a.status(), "assistant", ex.path_params[0]);
  send_json(ex, assistant_json(a.value()));
}

void modify_assistant(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto cur = ctx.store.get_assistant(owner, ex.path_params[0]);
  if (!cur) return send_store_error(ex, cur.status(), "assistant", ex.path_params[0]);
  auto next = parse_assistant_modify(ex.body(), ctx.limits, cur.value());
  if (!next.ok()) return ex.set_error(next.error());
  if (next.value().model != cur.value().model && !check_model(ex, ctx, next.value().model)) return;
  auto a = ctx.store.update_assistant(owner, next.value());
  if (!a) return send_store_error(ex, a.status(), "assistant", ex.path_params[0]);
  send_json(ex, assistant_json(a.value()));
}

void delete_assistant(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto st = ctx.store.delete_assistant(owner, ex.path_params[0]);
  if (!st.ok()) return send_store_error(ex, st, "assistant", ex.path_params[0]);
  send_json(ex, deleted_json(ex.path_params[0], "assistant.deleted"));
}

// ---- threads --------------------------------------------------------------------------------

void create_thread(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto draft = parse_thread_create(ex.body(), ctx.limits);
  if (!draft.ok()) return ex.set_error(draft.error());
  auto t = ctx.store.create_thread(owner, draft.value().thread, draft.value().messages);
  if (!t) return ex.set_error(api_error_for(t.status()));
  send_json(ex, thread_json(t.value()));
}

void get_thread(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto t = ctx.store.get_thread(owner, ex.path_params[0]);
  if (!t) return send_store_error(ex, t.status(), "thread", ex.path_params[0]);
  send_json(ex, thread_json(t.value()));
}

void modify_thread(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto cur = ctx.store.get_thread(owner, ex.path_params[0]);
  if (!cur) return send_store_error(ex, cur.status(), "thread", ex.path_params[0]);
  auto next = parse_thread_modify(ex.body(), ctx.limits, cur.value());
  if (!next.ok()) return ex.set_error(next.error());
  auto t = ctx.store.update_thread(owner, next.value());
  if (!t) return send_store_error(ex, t.status(), "thread", ex.path_params[0]);
  send_json(ex, thread_json(t.value()));
}

void delete_thread(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  // A thread whose run is executing would lose the rows under the worker: cancel first.
  if (auto runs = ctx.store.list_runs(owner, ex.path_params[0], {.limit = 1}); runs && !runs->items.empty() &&
                                                                                  storage::is_active(runs->items[0].status))
    ctx.runs.cancel(owner, ex.path_params[0], runs->items[0].id);
  auto st = ctx.store.delete_thread(owner, ex.path_params[0]);
  if (!st.ok()) return send_store_error(ex, st, "thread", ex.path_params[0]);
  send_json(ex, deleted_json(ex.path_params[0], "thread.deleted"));
}

// ---- messages -------------------------------------------------------------------------------

void create_message(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto draft = parse_message_create(ex.body(), ctx.limits);
  if (!draft.ok()) return ex.set_error(draft.error());
  const std::string& thread_id = ex.path_params[0];
  auto runs = ctx.store.list_runs(owner, thread_id, {.limit = 1});
  if (!runs) return send_store_error(ex, runs.status(), "thread", thread_id);
  if (!runs->items.empty() && storage::is_active(runs->items[0].status))
    return ex.set_error(ApiError::invalid("", "Can't add messages to " + thread_id + " while a run " +
                                                  runs->items[0].id + " is active."));
  storage::Message m = draft.value();
  m.thread_id = thread_id;
  auto created = ctx.store.create_message(owner, m);
  if (!created) return send_store_error(ex, created.status(), "thread", thread_id);
  send_json(ex, message_json(created.value()));
}

void list_messages(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  const std::string target = target_of(ex);
  auto page = parse_page(target);
  if (!page.ok()) return ex.set_error(page.error());
  const std::string run_id = query_param(target, "run_id").value_or("");
  auto list = ctx.store.list_messages(owner, ex.path_params[0], page.value(), run_id);
  if (!list) return send_store_error(ex, list.status(), "thread", ex.path_params[0]);
  send_json(ex, list_json(list.value(), message_json));
}

void get_message(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto m = ctx.store.get_message(owner, ex.path_params[0], ex.path_params[1]);
  if (!m) return send_store_error(ex, m.status(), "message", ex.path_params[1]);
  send_json(ex, message_json(m.value()));
}

void modify_message(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto cur = ctx.store.get_message(owner, ex.path_params[0], ex.path_params[1]);
  if (!cur) return send_store_error(ex, cur.status(), "message", ex.path_params[1]);
  auto metadata = parse_metadata_modify(ex.body(), ctx.limits, cur.value().metadata);
  if (!metadata.ok()) return ex.set_error(metadata.error());
  storage::Message next = cur.value();
  next.metadata = metadata.value();
  auto m = ctx.store.update_message(owner, next);
  if (!m) return send_store_error(ex, m.status(), "message", ex.path_params[1]);
  send_json(ex, message_json(m.value()));
}

void delete_message(http::Exchange& ex, AssistantsContext& ctx, const storage::Owner& owner) {
  auto st = ctx.store.delete_message(owner, ex.path_params[0], ex.path_params[1]);
  if (!st.ok()) return send_store_error(ex, st, "message", ex.path_params[1]);
  send_json(ex, deleted_json(ex.path_params[1], "thread.message.deleted"));
}

}  // namespace

void register_thread_routes(http::Router& router, AssistantsContext& ctx) {
  add_sync<&create_assistant>(router, bhttp::verb::post, "/v1/assistants", ctx);
  add_sync<&list_assistants>(router, bhttp::verb::get, "/v1/assistants", ctx);
  add_sync<&get_assistant>(router, bhttp::verb::get, "/v1/assistants/{}", ctx);
  add_sync<&modify_assistant>(router, bhttp::verb::post, "/v1/assistants/{}", ctx);
  add_sync<&delete_assistant>(router, bhttp::verb::delete_, "/v1/assistants/{}", ctx);
  add_sync<&create_thread>(router, bhttp::verb::post, "/v1/threads", ctx);
  // /v1/threads/runs (create-and-run) is registered by register_run_routes, before this pattern.
  add_sync<&get_thread>(router, bhttp::verb::get, "/v1/threads/{}", ctx);
  add_sync<&modify_thread>(router, bhttp::verb::post, "/v1/threads/{}", ctx);
  add_sync<&delete_thread>(router, bhttp::verb::delete_, "/v1/threads/{}", ctx);
  add_sync<&create_message>(router, bhttp::verb::post, "/v1/threads/{}/messages", ctx);
  add_sync<&list_messages>(router, bhttp::verb::get, "/v1/threads/{}/messages", ctx);
  add_sync<&get_message>(router, bhttp::verb::get, "/v1/threads/{}/messages/{}", ctx);
  add_sync<&modify_message>(router, bhttp::verb::post, "/v1/threads/{}/messages/{}", ctx);
  add_sync<&delete_message>(router, bhttp::verb::delete_, "/v1/threads/{}/messages/{}", ctx);
}

}  // namespace agora::platform::assistants
