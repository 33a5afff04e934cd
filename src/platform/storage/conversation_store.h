// The part of the Store behind the Responses and Conversations APIs and the web app's accounts:
// conversations and their items, stored responses with their stream events, browser sessions,
// API key names, and the instruction presets ("modes"). Store (store.h) inherits it, so callers
// use one `storage::Store&`.
//
// Contracts (as store.h): every call on owned data takes an Owner and filters by it in SQL; a
// foreign id is not_found. Unlike the Assistants objects, the ids of conversation items and
// responses are chosen by the caller (the routes embed them in the JSON they store), and must be
// unique (conflict otherwise). Items, objects and events travel as opaque JSON text.
// Thread-safety: as Store.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "platform/storage/page.h"
#include "platform/storage/records.h"
#include "platform/storage/store_status.h"

namespace agora::storage {

struct Conversation {
  std::string id;  // conv_…
  std::string owner_id;
  Timestamp created_at = 0;
  std::string metadata = "{}";  // JSON object
};

// One item of a conversation (a message, a function call, its output …) as its JSON object,
// which carries the same `id` and `type`.
struct ConversationItem {
  std::string id;
  std::string owner_id;
  std::string conversation_id;
  Timestamp created_at = 0;
  std::string type;
  std::string item = "{}";
};

// A stored response: the whole Response object as JSON (`object`), with the columns that queries
// need beside it. `status` is authoritative: readers patch it into the object (crash recovery
// changes the column and the object together, but a reader should not depend on that).
struct ResponseRecord {
  std::string id;  // resp_…
  std::string owner_id;
  Timestamp created_at = 0;
  std::string status = "in_progress";  // queued | in_progress | completed | failed | cancelled | incomplete
  bool background = false;
  std::string model;
  std::optional<std::string> previous_response_id;
  std::optional<std::string> conversation_id;
  std::string object = "{}";        // the Response object
  std::string input_items = "[]";   // this request's input items (JSON array)
};

// One streamed event of a background response, kept for replay (`starting_after`).
struct ResponseEvent {
  int64_t sequence_number = 0;
  std::string type;
  std::string data;  // the event's JSON object
};

struct Session {
  std::string id_hash;  // SHA-256 (hex) of the cookie value; the value itself is never stored
  std::string user_id;
  std::string csrf_token;
  Timestamp created_at = 0;
  Timestamp expires_at = 0;
};

struct Mode {
  std::string id;  // "regular", "fun", …
  std::string name;
  std::string description;
  std::string instructions;
};

class ConversationStore {
 public:
  virtual ~ConversationStore() = default;

  // ---- conversations ------------------------------------------------------------------------
  // The conversation and its first items in one transaction (id and created_at assigned to the
  // conversation; items keep their ids).
  virtual StoreResult<Conversation> create_conversation(const Owner& owner, const Conversation& draft,
                                                        const std::vector<ConversationItem>& items) = 0;
  virtual StoreResult<Conversation> get_conversation(const Owner& owner, const std::string& conversation_id) = 0;
  // `title_contains` non-empty keeps conversations whose metadata.title contains it (ASCII
  // case-insensitive).
  virtual StoreResult<Page<Conversation>> list_conversations(const Owner& owner, const PageRequest& page,
                                                             const std::string& title_contains) = 0;
  // Replaces metadata.
  virtual StoreResult<Conversation> update_conversation(const Owner& owner, const Conversation& conversation) = 0;
  // Deletes the conversation with its items.
  virtual StoreStatus delete_conversation(const Owner& owner, const std::string& conversation_id) = 0;

  // Appends items in one transaction, in order; returns them as stored.
  virtual StoreResult<std::vector<ConversationItem>> add_conversation_items(
      const Owner& owner, const std::string& conversation_id, const std::vector<ConversationItem>& items) = 0;
  virtual StoreResult<ConversationItem> get_conversation_item(const Owner& owner, const std::string& conversation_id,
                                                              const std::string& item_id) = 0;
  virtual StoreResult<Page<ConversationItem>> list_conversation_items(const Owner& owner,
                                                                      const std::string& conversation_id,
                                                                      const PageRequest& page) = 0;
  // Every item, oldest first (the context of a response in the conversation).
  virtual StoreResult<std::vector<ConversationItem>> all_conversation_items(const Owner& owner,
                                                                            const std::string& conversation_id) = 0;
  virtual StoreStatus delete_conversation_item(const Owner& owner, const std::string& conversation_id,
                                               const std::string& item_id) = 0;

  // ---- responses ----------------------------------------------------------------------------
  // Stores a new response (id chosen by the caller; created_at kept as given).
  virtual StoreResult<ResponseRecord> create_response(const Owner& owner, const ResponseRecord& draft) = 0;
  virtual StoreResult<ResponseRecord> get_response(const Owner& owner, const std::string& response_id) = 0;
  // Replaces status and object.
  virtual StoreResult<ResponseRecord> update_response(const Owner& owner, const ResponseRecord& response) = 0;
  // The end of a response, atomically: status and object replaced, `events` appended, and
  // `items` appended to the response's conversation (when it has one and it still exists).
  virtual StoreStatus finish_response(const Owner& owner, const ResponseRecord& response,
                                      const std::vector<ResponseEvent>& events,
                                      const std::vector<ConversationItem>& items) = 0;
  // Deletes the response and its events.
  virtual StoreStatus delete_response(const Owner& owner, const std::string& response_id) = 0;
  virtual StoreStatus append_response_events(const Owner& owner, const std::string& response_id,
                                             const std::vector<ResponseEvent>& events) = 0;
  // Events with sequence_number > after, in order.
  virtual StoreResult<std::vector<ResponseEvent>> list_response_events(const Owner& owner,
                                                                       const std::string& response_id,
                                                                       int64_t after) = 0;
  // Global (crash recovery acts for no tenant): responses still queued or in_progress.
  virtual StoreResult<std::vector<ResponseRecord>> unfinished_responses() = 0;

  // ---- browser sessions, key names (global: authentication) ----------------------------------
  virtual StoreStatus create_session(const Session& session) = 0;
  virtual StoreResult<Session> find_session(const std::string& id_hash) = 0;
  virtual StoreStatus delete_session(const std::string& id_hash) = 0;
  virtual StoreStatus set_api_key_name(const std::string& key_id, const std::string& name) = 0;
  // key id → name, for the keys of `user_id` that have one.
  virtual StoreResult<std::map<std::string, std::string>> api_key_names(const std::string& user_id) = 0;

  // ---- instruction presets (global; seeded with "regular" and "fun") -------------------------
  virtual StoreResult<std::vector<Mode>> list_modes() = 0;
  // Replaces name, description and instructions of an existing mode (not_found otherwise).
  virtual StoreResult<Mode> update_mode(const Mode& mode) = 0;
};

}  // namespace agora::storage
