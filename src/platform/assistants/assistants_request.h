// Request parsing for the Assistants v2 routes: JSON bodies and query strings → Store drafts and
// typed options, at the edge (STYLE.md rule 9). Every error names the parameter, as OpenAI's do.
// Limits are OpenAI's published ones (metadata: 16 pairs, keys ≤ 64, values ≤ 512 characters;
// name ≤ 256; description ≤ 512; instructions ≤ 256,000; tools ≤ 128).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "platform/api_error.h"
#include "platform/limits.h"
#include "platform/runs/run_loop.h"
#include "platform/storage/page.h"
#include "platform/storage/records.h"

namespace agora::platform::assistants {

inline constexpr size_t kMaxMetadataPairs = 16;
inline constexpr size_t kMaxMetadataKeyChars = 64;
inline constexpr size_t kMaxMetadataValueChars = 512;
inline constexpr size_t kMaxNameChars = 256;
inline constexpr size_t kMaxDescriptionChars = 512;
inline constexpr size_t kMaxInstructionsChars = 256000;
inline constexpr size_t kMaxAssistantTools = 128;
inline constexpr size_t kMaxThreadMessages = 32;    // messages in one create-thread request
inline constexpr size_t kMaxMessageChars = 256000;  // text of one message
inline constexpr size_t kMaxAttachments = 10;
inline constexpr size_t kMaxToolOutputBytes = 512 * 1024;

// ---- query strings -------------------------------------------------------------------------

// The decoded value of `name` in the target's query string, if present.
std::optional<std::string> query_param(std::string_view target, std::string_view name);
// limit (1..100, default 20), order (asc|desc, default desc), after, before.
ApiResult<storage::PageRequest> parse_page(std::string_view target);

// ---- bodies ----------------------------------------------------------------------------------

// POST /v1/assistants. `known_model` says whether a model id is served (unknown → 404 later).
ApiResult<storage::Assistant> parse_assistant_create(std::string_view body, const ServerLimits& limits);
// POST /v1/assistants/{id}: the present fields replace those of `current`.
ApiResult<storage::Assistant> parse_assistant_modify(std::string_view body, const ServerLimits& limits,
                                                     storage::Assistant current);

struct ThreadDraft {
  storage::Thread thread;
  std::vector<storage::Message> messages;
};
// POST /v1/threads (also the `thread` of createAndRun, given as parsed JSON).
ApiResult<ThreadDraft> parse_thread_create(std::string_view body, const ServerLimits& limits);
ApiResult<ThreadDraft> parse_thread_object(const nlohmann::json& obj, const std::string& prefix);
// POST /v1/threads/{id}: metadata and tool_resources.
ApiResult<storage::Thread> parse_thread_modify(std::string_view body, const ServerLimits& limits,
                                               storage::Thread current);

// POST /v1/threads/{id}/messages (and each message of a thread or additional_messages).
ApiResult<storage::Message> parse_message_create(std::string_view body, const ServerLimits& limits);
ApiResult<storage::Message> parse_message_object(const nlohmann::json& obj, const std::string& prefix);

// POST .../{id} for messages and runs: only metadata may change.
ApiResult<std::string> parse_metadata_modify(std::string_view body, const ServerLimits& limits,
                                             const std::string& current);

struct RunDraft {
  storage::Run run;  // settings resolved against the assistant (overrides applied)
  std::vector<storage::Message> additional_messages;
  bool stream = false;
};
// POST /v1/threads/{id}/runs: `assistant` supplies the defaults. The assistant_id must already
// have been read from the body (peek_assistant_id) and loaded by the caller.
ApiResult<RunDraft> parse_run_create(const nlohmann::json& body, const storage::Assistant& assistant);
// The parsed body (depth-checked, an object) of any JSON request.
ApiResult<nlohmann::json> parse_body(std::string_view body, const ServerLimits& limits);
// `assistant_id` of a run request (400 when missing).
ApiResult<std::string> peek_assistant_id(const nlohmann::json& body);

struct ToolOutputsDraft {
  std::vector<runs::ToolOutput> outputs;
  bool stream = false;
};
ApiResult<ToolOutputsDraft> parse_tool_outputs(std::string_view body, const ServerLimits& limits);

// Validators shared with multipart/other routes.
bool valid_metadata(const nlohmann::json& v, const std::string& param, std::optional<ApiError>& error);
bool valid_tools(const nlohmann::json& v, const std::string& param, std::optional<ApiError>& error);

}  // namespace agora::platform::assistants
