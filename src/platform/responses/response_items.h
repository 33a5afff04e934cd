// Items as the Responses and Conversations APIs exchange them (messages, function calls,
// function call outputs), checked and normalised at the edge, and turned into the agent loop's
// items (agent_turn.h). Shared by responses/ and conversations/.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "platform/agent/agent_turn.h"
#include "platform/api_error.h"
#include "platform/storage/conversation_store.h"
#include "platform/storage/page.h"
#include "platform/storage/store_status.h"

namespace agora::platform::responses {

inline constexpr size_t kMaxItemsPerRequest = 1000;  // input items of one request
inline constexpr size_t kMaxItemsPerBatch = 20;      // POST /v1/conversations[/{id}/items]
inline constexpr size_t kMaxMetadataPairs = 16;
inline constexpr size_t kMaxMetadataKeyBytes = 64;
inline constexpr size_t kMaxMetadataValueBytes = 512;

// One input item → its stored form: `type`, an `id` (kept when given, else new: msg_/fc_/fco_),
// `status`, and content parts as lists ({"type":"input_text"|"output_text",…}). A string input is
// one user message. `param` names the field in errors ("input[3]").
ApiResult<nlohmann::json> normalize_item(const nlohmann::json& item, const std::string& param);
// A string or a list of items.
ApiResult<nlohmann::json> normalize_input(const nlohmann::json& input, const std::string& param, size_t max_items);

// The agent loop's view of a stored item; false for items it does not use.
bool to_agent_item(const nlohmann::json& item, agent::Item& out);

// A metadata object: ≤16 string values, keys ≤64 bytes, values ≤512 bytes.
ApiResult<nlohmann::json> validate_metadata(const nlohmann::json& v, const std::string& param);

storage::ConversationItem to_stored_item(const nlohmann::json& item);
nlohmann::json parse_stored(const std::string& text);  // an object or array stored as text

// The one mapping from storage errors to API errors for these routes.
ApiError api_error(const storage::StoreStatus& st, const std::string& param = {});

// ?limit=&order=&after=&before= (order default `default_order`); other keys ignored.
ApiResult<storage::PageRequest> page_request_from_query(std::string_view target, storage::SortOrder default_order);
// The value of `key` in the query string of `target` (URL-decoded), or empty.
std::string query_param(std::string_view target, std::string_view key);

// {"object":"list","data":…,"first_id","last_id","has_more"}
nlohmann::json list_json(nlohmann::json data, bool has_more);

std::string dump(const nlohmann::json& j);  // compact, invalid UTF-8 replaced

}  // namespace agora::platform::responses
