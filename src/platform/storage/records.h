// The typed rows the Store reads and writes. Plain structs; no JSON library types. Fields that
// the API treats as free-form JSON (metadata, tools, content parts, ...) travel as opaque JSON
// text: the routes layer parses and validates them at the edge, the Store only checks that they
// are valid JSON. Timestamps are Unix seconds, as in OpenAI objects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "platform/storage/run_status.h"

namespace agora::storage {

using Timestamp = int64_t;  // Unix seconds

// The tenant a call acts for. Every owned object (file, assistant, thread, message, run, step)
// carries its owner's id, and every Store call on owned objects takes an Owner and filters by it
// in the query itself: another owner's id behaves exactly like an id that does not exist.
// Today the owner is a user id (see docs/storage.md for the organisation question).
struct Owner {
  explicit Owner(std::string user_id) : id(std::move(user_id)) {}
  std::string id;
};

// ---- accounts ---------------------------------------------------------------------------------

struct Organization {
  std::string id;  // org_…
  std::string name;
  Timestamp created_at = 0;
};

struct User {
  std::string id;  // user_…
  std::string name;
  std::optional<std::string> org_id;
  std::string password_hash;  // Argon2id string (libsodium crypto_pwhash_str); empty = no password
  Timestamp created_at = 0;
};

// An API key as stored: never the key itself, only its SHA-256 and a display prefix.
struct ApiKey {
  std::string id;       // key_…
  std::string user_id;
  std::string prefix;   // the key's first characters, for display and revocation ("sk-agora-AbC1")
  std::string key_hash; // lowercase hex SHA-256 of the whole key
  Timestamp created_at = 0;
  std::optional<Timestamp> expires_at;
  std::optional<Timestamp> revoked_at;

  bool usable_at(Timestamp now) const {
    return !revoked_at && (!expires_at || now < *expires_at);
  }
};

// ---- files ----------------------------------------------------------------------------------

struct FileObject {
  std::string id;  // file-…
  std::string owner_id;
  std::string filename;
  std::string purpose;  // "assistants", "fine-tune", ... (validated by the routes layer)
  int64_t bytes = 0;
  Timestamp created_at = 0;
};

// ---- assistants -------------------------------------------------------------------------------

struct Assistant {
  std::string id;  // asst_… (assigned by create)
  std::string owner_id;
  Timestamp created_at = 0;
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::string model;
  std::optional<std::string> instructions;
  std::string tools = "[]";            // JSON array
  std::string tool_resources = "{}";   // JSON object
  std::string metadata = "{}";         // JSON object
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::string response_format = "\"auto\"";  // JSON value
};

struct Thread {
  std::string id;  // thread_…
  std::string owner_id;
  Timestamp created_at = 0;
  std::string tool_resources = "{}";
  std::string metadata = "{}";
};

struct Message {
  std::string id;  // msg_…
  std::string owner_id;
  std::string thread_id;
  Timestamp created_at = 0;
  std::string role = "user";          // "user" | "assistant"
  std::string content = "[]";         // JSON array of content parts
  std::string attachments = "[]";     // JSON array
  std::string metadata = "{}";
  std::optional<std::string> assistant_id;
  std::optional<std::string> run_id;
  std::string status = "completed";   // "in_progress" | "incomplete" | "completed"
  std::optional<Timestamp> completed_at;
  std::optional<Timestamp> incomplete_at;
  std::optional<std::string> incomplete_details;  // JSON object
};

// ---- runs -----------------------------------------------------------------------------------

struct RunError {
  std::string code;     // "server_error" | "rate_limit_exceeded" | "invalid_prompt"
  std::string message;
};

struct Run {
  std::string id;  // run_…
  std::string owner_id;
  std::string thread_id;
  std::string assistant_id;
  Timestamp created_at = 0;
  RunStatus status = RunStatus::queued;
  std::string model;
  std::string instructions;
  std::optional<std::string> additional_instructions;  // kept so an interrupted run can resume
  std::string tools = "[]";
  std::string metadata = "{}";
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int64_t> max_prompt_tokens;
  std::optional<int64_t> max_completion_tokens;
  std::string truncation_strategy = R"({"type":"auto","last_messages":null})";
  std::string tool_choice = "\"auto\"";
  bool parallel_tool_calls = true;
  std::string response_format = "\"auto\"";
  std::optional<std::string> required_action;      // JSON object while requires_action
  std::optional<RunError> last_error;
  std::optional<std::string> incomplete_details;   // JSON object
  std::optional<std::string> usage;                // JSON object once terminal
  std::optional<Timestamp> started_at;
  std::optional<Timestamp> expires_at;
  std::optional<Timestamp> cancelled_at;
  std::optional<Timestamp> failed_at;
  std::optional<Timestamp> completed_at;
};

struct RunStep {
  std::string id;  // step_…
  std::string owner_id;
  std::string thread_id;
  std::string run_id;
  std::string assistant_id;
  Timestamp created_at = 0;
  std::string type = "message_creation";  // "message_creation" | "tool_calls"
  RunStepStatus status = RunStepStatus::in_progress;
  std::string step_details = "{}";        // JSON object
  std::optional<RunError> last_error;
  std::optional<std::string> usage;       // JSON object
  std::optional<Timestamp> completed_at;
  std::optional<Timestamp> cancelled_at;
  std::optional<Timestamp> failed_at;
  std::optional<Timestamp> expired_at;
};

}  // namespace agora::storage
