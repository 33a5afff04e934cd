#include "platform/conversations/conversation_routes.h"

#include <nlohmann/json.hpp>

#include "platform/openai/json_body.h"
#include "platform/responses/response_items.h"

namespace agora::platform::conversations {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using nlohmann::json;
using responses::api_error;
using responses::dump;
using responses::parse_stored;

namespace {

json conversation_json(const storage::Conversation& c) {
  return {{"id", c.id}, {"object", "conversation"}, {"created_at", c.created_at}, {"metadata", parse_stored(c.metadata)}};
}

void send(http::Exchange& ex, const json& j) { ex.set_json(200, dump(j)); }

// The body's `items` (absent = none): ≤ 20, each normalised.
ApiResult<std::vector<storage::ConversationItem>> read_items(const json& body, bool required) {
  std::vector<storage::ConversationItem> out;
  if (!body.contains("items") || body["items"].is_null()) {
    if (required) return ApiError::invalid("items", "items is required.");
    return out;
  }
  if (!body["items"].is_array()) return ApiError::invalid("items", "items must be a list.");
  if (body["items"].size() > responses::kMaxItemsPerBatch)
    return ApiError::invalid("items", "At most 20 items can be added at once.");
  auto items = responses::normalize_input(body["items"], "items", responses::kMaxItemsPerBatch);
  if (!items.ok()) return items.error();
  for (const auto& it : items.value()) out.push_back(responses::to_stored_item(it));
  return out;
}

}  // namespace

void register_conversation_routes(http::Router& router, PlatformContext& ctx) {
  PlatformContext* c = &ctx;
  router.add(bhttp::verb::post, "/v1/conversations", [c](http::Exchange& ex) -> net::awaitable<void> {
    auto body = parse_json_body(ex.body().empty() ? std::string("{}") : ex.body(), c->limits.max_json_depth);
    if (!body.ok()) co_return ex.set_error(body.error());
    auto md = responses::validate_metadata(body.value().value("metadata", json()), "metadata");
    if (!md.ok()) co_return ex.set_error(md.error());
    auto items = read_items(body.value(), false);
    if (!items.ok()) co_return ex.set_error(items.error());
    storage::Conversation draft;
    draft.metadata = dump(md.value());
    auto conv = c->store.create_conversation(ex.principal->owner(), draft, items.value());
    if (!conv) co_return ex.set_error(api_error(conv.status()));
    send(ex, conversation_json(*conv));
  });
  router.add(bhttp::verb::get, "/v1/conversations", [c](http::Exchange& ex) -> net::awaitable<void> {
    const std::string_view target(ex.request().target().data(), ex.request().target().size());
    auto page = responses::page_request_from_query(target, storage::SortOrder::desc);
    if (!page.ok()) co_return ex.set_error(page.error());
    auto list = c->store.list_conversations(ex.principal->owner(), page.value(), responses::query_param(target, "q"));
    if (!list) co_return ex.set_error(api_error(list.status(), "after"));
    json data = json::array();
    for (const auto& conv : list->items) data.push_back(conversation_json(conv));
    send(ex, responses::list_json(std::move(data), list->has_more));
  });
  router.add(bhttp::verb::get, "/v1/conversations/{}", [c](http::Exchange& ex) -> net::awaitable<void> {
    auto conv = c->store.get_conversation(ex.principal->owner(), ex.path_params.at(0));
    if (!conv) co_return ex.set_error(api_error(conv.status()));
    send(ex, conversation_json(*conv));
  });
  router.add(bhttp::verb::post, "/v1/conversations/{}", [c](http::Exchange& ex) -> net::awaitable<void> {
    auto body = parse_json_body(ex.body(), c->limits.max_json_depth);
    if (!body.ok()) co_return ex.set_error(body.error());
    if (!body.value().contains("metadata")) co_return ex.set_error(ApiError::invalid("metadata", "metadata is required."));
    auto md = responses::validate_metadata(body.value()["metadata"], "metadata");
    if (!md.ok()) co_return ex.set_error(md.error());
    storage::Conversation conv;
    conv.id = ex.path_params.at(0);
    conv.metadata = dump(md.value());
    auto saved = c->store.update_conversation(ex.principal->owner(), conv);
    if (!saved) co_return ex.set_error(api_error(saved.status()));
    send(ex, conversation_json(*saved));
  });
  router.add(bhttp::verb::delete_, "/v1/conversations/{}", [c](http::Exchange& ex) -> net::awaitable<void> {
    const std::string& id = ex.path_params.at(0);
    if (auto st = c->store.delete_conversation(ex.principal->owner(), id); !st.ok()) co_return ex.set_error(api_error(st));
    send(ex, {{"id", id}, {"object", "conversation.deleted"}, {"deleted", true}});
  });

  // ---- items ----
  router.add(bhttp::verb::post, "/v1/conversations/{}/items", [c](http::Exchange& ex) -> net::awaitable<void> {
    auto body = parse_json_body(ex.body(), c->limits.max_json_depth);
    if (!body.ok()) co_return ex.set_error(body.error());
    auto items = read_items(body.value(), true);
    if (!items.ok()) co_return ex.set_error(items.error());
    auto added = c->store.add_conversation_items(ex.principal->owner(), ex.path_params.at(0), items.value());
    if (!added) co_return ex.set_error(api_error(added.status()));
    json data = json::array();
    for (const auto& it : *added) data.push_back(parse_stored(it.item));
    send(ex, responses::list_json(std::move(data), false));
  });
  router.add(bhttp::verb::get, "/v1/conversations/{}/items", [c](http::Exchange& ex) -> net::awaitable<void> {
    const std::string_view target(ex.request().target().data(), ex.request().target().size());
    auto page = responses::page_request_from_query(target, storage::SortOrder::desc);
    if (!page.ok()) co_return ex.set_error(page.error());
    auto list = c->store.list_conversation_items(ex.principal->owner(), ex.path_params.at(0), page.value());
    if (!list) co_return ex.set_error(api_error(list.status()));
    json data = json::array();
    for (const auto& it : list->items) data.push_back(parse_stored(it.item));
    send(ex, responses::list_json(std::move(data), list->has_more));
  });
  router.add(bhttp::verb::get, "/v1/conversations/{}/items/{}", [c](http::Exchange& ex) -> net::awaitable<void> {
    auto it = c->store.get_conversation_item(ex.principal->owner(), ex.path_params.at(0), ex.path_params.at(1));
    if (!it) co_return ex.set_error(api_error(it.status()));
    send(ex, parse_stored(it->item));
  });
  router.add(bhttp::verb::delete_, "/v1/conversations/{}/items/{}", [c](http::Exchange& ex) -> net::awaitable<void> {
    const auto owner = ex.principal->owner();
    if (auto st = c->store.delete_conversation_item(owner, ex.path_params.at(0), ex.path_params.at(1)); !st.ok())
      co_return ex.set_error(api_error(st));
    auto conv = c->store.get_conversation(owner, ex.path_params.at(0));
    if (!conv) co_return ex.set_error(api_error(conv.status()));
    send(ex, conversation_json(*conv));
  });
}

}  // namespace agora::platform::conversations
