// SqliteStore: conversations and items, responses and their events, sessions, key names, modes
// (conversation_store.h). Every statement on an owned table filters by owner_id; the global ones
// (sessions, key names, modes, the recovery sweep) are authentication and operations data.
#include <string>

#include "platform/storage/ids.h"
#include "platform/storage/sqlite/page_query.h"
#include "platform/storage/sqlite/sqlite_store.h"

namespace agora::storage::sqlite {

namespace {

constexpr const char* kConversationCols = "id, owner_id, created_at, metadata";
constexpr const char* kItemCols = "id, owner_id, conversation_id, created_at, type, item";
constexpr const char* kResponseCols =
    "id, owner_id, created_at, status, background, model, previous_response_id, conversation_id, object, input_items";

Conversation read_conversation_row(const Stmt& s) { return Conversation{s.text(0), s.text(1), s.i64(2), s.text(3)}; }
ConversationItem read_item_row(const Stmt& s) {
  return ConversationItem{s.text(0), s.text(1), s.text(2), s.i64(3), s.text(4), s.text(5)};
}
ResponseRecord read_response_row(const Stmt& s) {
  ResponseRecord r;
  r.id = s.text(0);
  r.owner_id = s.text(1);
  r.created_at = s.i64(2);
  r.status = s.text(3);
  r.background = s.i64(4) != 0;
  r.model = s.text(5);
  r.previous_response_id = s.opt_text(6);
  r.conversation_id = s.opt_text(7);
  r.object = s.text(8);
  r.input_items = s.text(9);
  return r;
}

template <typename T, typename ReadRow>
StoreResult<T> single_row(Db& db, Stmt& s, ReadRow read, const std::string& what) {
  const int rc = s.step();
  if (rc == SQLITE_ROW) return read(s);
  if (rc == SQLITE_DONE) return StoreStatus{StoreErrc::not_found, "no " + what};
  return db.error(rc, "cannot read " + what);
}

StoreStatus changed_or_not_found(Db& db, const std::string& what) {
  if (db.changes() == 0) return {StoreErrc::not_found, "no " + what};
  return {};
}

bool valid_response_status(const std::string& s) {
  return s == "queued" || s == "in_progress" || s == "completed" || s == "failed" || s == "cancelled" ||
         s == "incomplete";
}

}  // namespace

// ---- conversations --------------------------------------------------------------------------

StoreResult<Conversation> SqliteStore::read_conversation(const Owner& owner, const std::string& id) {
  auto stmt = db_->prepare(std::string("SELECT ") + kConversationCols +
                           " FROM conversations WHERE owner_id = ? AND id = ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(owner.id, id);
  return single_row<Conversation>(*db_, *use, read_conversation_row, "conversation '" + id + "'");
}

StoreStatus SqliteStore::insert_conversation_item(const Owner& owner, ConversationItem& it) {
  if (it.id.empty() || it.type.empty()) return {StoreErrc::invalid_argument, "a conversation item needs an id and a type"};
  it.owner_id = owner.id;
  if (it.created_at == 0) it.created_at = unix_now();
  // The conversation must belong to the owner: the insert selects nothing otherwise.
  auto stmt = db_->prepare(
      "INSERT INTO conversation_items (id, owner_id, conversation_id, created_at, type, item) "
      "SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM conversations WHERE owner_id = ? AND id = ?)");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(it.id, it.owner_id, it.conversation_id, it.created_at, it.type, it.item, owner.id, it.conversation_id);
  if (auto st = db_->run(*use, "cannot add the conversation item"); !st.ok()) {
    if (st.code() == StoreErrc::conflict) return {StoreErrc::conflict, "the conversation already has an item '" + it.id + "'"};
    return st;
  }
  return changed_or_not_found(*db_, "conversation '" + it.conversation_id + "'");
}

StoreResult<Conversation> SqliteStore::create_conversation(const Owner& owner, const Conversation& draft,
                                                           const std::vector<ConversationItem>& items) {
  std::lock_guard lock(mu_);
  Transaction txn(*db_);
  if (auto st = txn.begin(); !st.ok()) return st;
  Conversation c = draft;
  c.id = new_id("conv_");
  c.owner_id = owner.id;
  c.created_at = unix_now();
  {
    auto stmt = db_->prepare("INSERT INTO conversations (id, owner_id, created_at, metadata) VALUES (?, ?, ?, ?)");
    if (!stmt) return stmt.status();
    StmtUse use(*stmt);
    use->bind_all(c.id, c.owner_id, c.created_at, c.metadata);
    if (auto st = db_->run(*use, "cannot create the conversation"); !st.ok()) return st;
  }
  for (ConversationItem it : items) {
    it.conversation_id = c.id;
    if (auto st = insert_conversation_item(owner, it); !st.ok()) return st;
  }
  if (auto st = txn.commit(); !st.ok()) return st;
  return c;
}

StoreResult<Conversation> SqliteStore::get_conversation(const Owner& owner, const std::string& conversation_id) {
  std::lock_guard lock(mu_);
  return read_conversation(owner, conversation_id);
}

StoreResult<Page<Conversation>> SqliteStore::list_conversations(const Owner& owner, const PageRequest& page,
                                                                const std::string& title_contains) {
  std::lock_guard lock(mu_);
  Scope scope{"owner_id = ?", {owner.id}};
  if (!title_contains.empty()) {
    scope.sql += " AND instr(lower(coalesce(json_extract(metadata, '$.title'), '')), lower(?)) > 0";
    scope.args.push_back(title_contains);
  }
  return page_query<Conversation>(*db_, "conversations", kConversationCols, scope, page, read_conversation_row);
}

StoreResult<Conversation> SqliteStore::update_conversation(const Owner& owner, const Conversation& c) {
  std::lock_guard lock(mu_);
  {
    auto stmt = db_->prepare("UPDATE conversations SET metadata = ? WHERE owner_id = ? AND id = ?");
    if (!stmt) return stmt.status();
    StmtUse use(*stmt);
    use->bind_all(c.metadata, owner.id, c.id);
    if (auto st = db_->run(*use, "cannot update the conversation"); !st.ok()) return st;
    if (auto st = changed_or_not_found(*db_, "conversation '" + c.id + "'"); !st.ok()) return st;
  }
  return read_conversation(owner, c.id);
}

StoreStatus SqliteStore::delete_conversation(const Owner& owner, const std::string& conversation_id) {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare("DELETE FROM conversations WHERE owner_id = ? AND id = ?");  // items cascade
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(owner.id, conversation_id);
  if (auto st = db_->run(*use, "cannot delete the conversation"); !st.ok()) return st;
  return changed_or_not_found(*db_, "conversation '" + conversation_id + "'");
}

StoreResult<std::vector<ConversationItem>> SqliteStore::add_conversation_items(
    const Owner& owner, const std::string& conversation_id, const std::vector<ConversationItem>& items) {
  std::lock_guard lock(mu_);
  Transaction txn(*db_);
  if (auto st = txn.begin(); !st.ok()) return st;
  std::vector<ConversationItem> out;
  for (ConversationItem it : items) {
    it.conversation_id = conversation_id;
    if (auto st = insert_conversation_item(owner, it); !st.ok()) return st;
    out.push_back(std::move(it));
  }
  if (items.empty()) {
    if (auto c = read_conversation(owner, conversation_id); !c) return c.status();
  }
  if (auto st = txn.commit(); !st.ok()) return st;
  return out;
}

StoreResult<ConversationItem> SqliteStore::get_conversation_item(const Owner& owner, const std::string& conversation_id,
                                                                 const std::string& item_id) {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare(std::string("SELECT ") + kItemCols +
                           " FROM conversation_items WHERE owner_id = ? AND conversation_id = ? AND id = ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(owner.id, conversation_id, item_id);
  return single_row<ConversationItem>(*db_, *use, read_item_row, "item '" + item_id + "'");
}

StoreResult<Page<ConversationItem>> SqliteStore::list_conversation_items(const Owner& owner,
                                                                         const std::string& conversation_id,
                                                                         const PageRequest& page) {
  std::lock_guard lock(mu_);
  if (auto c = read_conversation(owner, conversation_id); !c) return c.status();
  return page_query<ConversationItem>(*db_, "conversation_items", kItemCols,
                                      Scope{"owner_id = ? AND conversation_id = ?", {owner.id, conversation_id}}, page,
                                      read_item_row);
}

StoreResult<std::vector<ConversationItem>> SqliteStore::all_conversation_items(const Owner& owner,
                                                                               const std::string& conversation_id) {
  std::lock_guard lock(mu_);
  if (auto c = read_conversation(owner, conversation_id); !c) return c.status();
  auto stmt = db_->prepare(std::string("SELECT ") + kItemCols +
                           " FROM conversation_items WHERE owner_id = ? AND conversation_id = ? ORDER BY seq ASC");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(owner.id, conversation_id);
  std::vector<ConversationItem> out;
  int rc;
  while ((rc = use->step()) == SQLITE_ROW) out.push_back(read_item_row(*use));
  if (rc != SQLITE_DONE) return db_->error(rc, "cannot list conversation items");
  return out;
}

StoreStatus SqliteStore::delete_conversation_item(const Owner& owner, const std::string& conversation_id,
                                                  const std::string& item_id) {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare("DELETE FROM conversation_items WHERE owner_id = ? AND conversation_id = ? AND id = ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(owner.id, conversation_id, item_id);
  if (auto st = db_->run(*use, "cannot delete the item"); !st.ok()) return st;
  return changed_or_not_found(*db_, "item '" + item_id + "'");
}

// ---- responses ------------------------------------------------------------------------------

StoreResult<ResponseRecord> SqliteStore::read_response(const Owner& owner, const std::string& id) {
  auto stmt = db_->prepare(std::string("SELECT ") + kResponseCols + " FROM responses WHERE owner_id = ? AND id = ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(owner.id, id);
  return single_row<ResponseRecord>(*db_, *use, read_response_row, "response '" + id + "'");
}

StoreStatus SqliteStore::insert_response_events(const Owner& owner, const std::string& response_id,
                                                const std::vector<ResponseEvent>& events) {
  for (const auto& e : events) {
    auto stmt = db_->prepare(
        "INSERT INTO response_events (response_id, owner_id, sequence_number, type, data) "
        "SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM responses WHERE owner_id = ? AND id = ?)");
    if (!stmt) return stmt.status();
    StmtUse use(*stmt);
    use->bind_all(response_id, owner.id, e.sequence_number, e.type, e.data, owner.id, response_id);
    if (auto st = db_->run(*use, "cannot store a response event"); !st.ok()) return st;
    if (auto st = changed_or_not_found(*db_, "response '" + response_id + "'"); !st.ok()) return st;
  }
  return {};
}

StoreResult<ResponseRecord> SqliteStore::create_response(const Owner& owner, const ResponseRecord& draft) {
  if (draft.id.empty() || draft.model.empty()) return StoreStatus{StoreErrc::invalid_argument, "a response needs an id and a model"};
  if (!valid_response_status(draft.status)) return StoreStatus{StoreErrc::invalid_argument, "bad response status '" + draft.status + "'"};
  std::lock_guard lock(mu_);
  ResponseRecord r = draft;
  r.owner_id = owner.id;
  if (r.created_at == 0) r.created_at = unix_now();
  auto stmt = db_->prepare(
      "INSERT INTO responses (id, owner_id, created_at, status, background, model, previous_response_id, "
      "conversation_id, object, input_items) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(r.id, r.owner_id, r.created_at, r.status, r.background, r.model, r.previous_response_id,
                r.conversation_id, r.object, r.input_items);
  if (auto st = db_->run(*use, "cannot store the response"); !st.ok()) return st;
  return r;
}

StoreResult<ResponseRecord> SqliteStore::get_response(const Owner& owner, const std::string& response_id) {
  std::lock_guard lock(mu_);
  return read_response(owner, response_id);
}

StoreStatus SqliteStore::write_response(const Owner& owner, const ResponseRecord& r) {
  if (!valid_response_status(r.status)) return {StoreErrc::invalid_argument, "bad response status '" + r.status + "'"};
  auto stmt = db_->prepare("UPDATE responses SET status = ?, object = ? WHERE owner_id = ? AND id = ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(r.status, r.object, owner.id, r.id);
  if (auto st = db_->run(*use, "cannot update the response"); !st.ok()) return st;
  return changed_or_not_found(*db_, "response '" + r.id + "'");
}

StoreResult<ResponseRecord> SqliteStore::update_response(const Owner& owner, const ResponseRecord& r) {
  std::lock_guard lock(mu_);
  if (auto st = write_response(owner, r); !st.ok()) return st;
  return read_response(owner, r.id);
}

StoreStatus SqliteStore::finish_response(const Owner& owner, const ResponseRecord& r,
                                         const std::vector<ResponseEvent>& events,
                                         const std::vector<ConversationItem>& items) {
  std::lock_guard lock(mu_);
  Transaction txn(*db_);
  if (auto st = txn.begin(); !st.ok()) return st;
  if (auto st = write_response(owner, r); !st.ok()) return st;
  if (auto st = insert_response_events(owner, r.id, events); !st.ok()) return st;
  if (r.conversation_id && !items.empty()) {
    // A conversation deleted while the response ran takes nothing.
    if (read_conversation(owner, *r.conversation_id)) {
      for (ConversationItem it : items) {
        it.conversation_id = *r.conversation_id;
        if (auto st = insert_conversation_item(owner, it); !st.ok()) return st;
      }
    }
  }
  return txn.commit();
}

StoreStatus SqliteStore::delete_response(const Owner& owner, const std::string& response_id) {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare("DELETE FROM responses WHERE owner_id = ? AND id = ?");  // events cascade
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(owner.id, response_id);
  if (auto st = db_->run(*use, "cannot delete the response"); !st.ok()) return st;
  return changed_or_not_found(*db_, "response '" + response_id + "'");
}

StoreStatus SqliteStore::append_response_events(const Owner& owner, const std::string& response_id,
                                                const std::vector<ResponseEvent>& events) {
  if (events.empty()) return {};
  std::lock_guard lock(mu_);
  Transaction txn(*db_);
  if (auto st = txn.begin(); !st.ok()) return st;
  if (auto st = insert_response_events(owner, response_id, events); !st.ok()) return st;
  return txn.commit();
}

StoreResult<std::vector<ResponseEvent>> SqliteStore::list_response_events(const Owner& owner,
                                                                          const std::string& response_id,
                                                                          int64_t after) {
  std::lock_guard lock(mu_);
  if (auto r = read_response(owner, response_id); !r) return r.status();
  auto stmt = db_->prepare(
      "SELECT sequence_number, type, data FROM response_events WHERE owner_id = ? AND response_id = ? "
      "AND sequence_number > ? ORDER BY sequence_number ASC");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(owner.id, response_id, after);
  std::vector<ResponseEvent> out;
  int rc;
  while ((rc = use->step()) == SQLITE_ROW) out.push_back(ResponseEvent{use->i64(0), use->text(1), use->text(2)});
  if (rc != SQLITE_DONE) return db_->error(rc, "cannot list response events");
  return out;
}

StoreResult<std::vector<ResponseRecord>> SqliteStore::unfinished_responses() {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare(std::string("SELECT ") + kResponseCols +
                           " FROM responses WHERE status IN ('queued', 'in_progress') ORDER BY seq");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  std::vector<ResponseRecord> out;
  int rc;
  while ((rc = use->step()) == SQLITE_ROW) out.push_back(read_response_row(*use));
  if (rc != SQLITE_DONE) return db_->error(rc, "cannot list unfinished responses");
  return out;
}

// ---- sessions and key names -----------------------------------------------------------------

StoreStatus SqliteStore::create_session(const Session& s) {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare(
      "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(s.id_hash, s.user_id, s.csrf_token, s.created_at, s.expires_at);
  return db_->run(*use, "cannot create the session");
}

StoreResult<Session> SqliteStore::find_session(const std::string& id_hash) {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare("SELECT id_hash, user_id, csrf_token, created_at, expires_at FROM sessions WHERE id_hash = ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(id_hash);
  return single_row<Session>(*db_, *use, [](const Stmt& s) {
    return Session{s.text(0), s.text(1), s.text(2), s.i64(3), s.i64(4)};
  }, "session");
}

StoreStatus SqliteStore::delete_session(const std::string& id_hash) {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare("DELETE FROM sessions WHERE id_hash = ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(id_hash);
  return db_->run(*use, "cannot delete the session");
}

StoreStatus SqliteStore::set_api_key_name(const std::string& key_id, const std::string& name) {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare(
      "INSERT INTO api_key_names (key_id, name) VALUES (?, ?) ON CONFLICT (key_id) DO UPDATE SET name = excluded.name");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(key_id, name);
  return db_->run(*use, "cannot name the key");
}

StoreResult<std::map<std::string, std::string>> SqliteStore::api_key_names(const std::string& user_id) {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare(
      "SELECT n.key_id, n.name FROM api_key_names n JOIN api_keys k ON k.id = n.key_id WHERE k.user_id = ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(user_id);
  std::map<std::string, std::string> out;
  int rc;
  while ((rc = use->step()) == SQLITE_ROW) out[use->text(0)] = use->text(1);
  if (rc != SQLITE_DONE) return db_->error(rc, "cannot read key names");
  return out;
}

// ---- modes ----------------------------------------------------------------------------------

StoreResult<std::vector<Mode>> SqliteStore::list_modes() {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare("SELECT id, name, description, instructions FROM modes ORDER BY seq");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  std::vector<Mode> out;
  int rc;
  while ((rc = use->step()) == SQLITE_ROW) out.push_back(Mode{use->text(0), use->text(1), use->text(2), use->text(3)});
  if (rc != SQLITE_DONE) return db_->error(rc, "cannot list modes");
  return out;
}

StoreResult<Mode> SqliteStore::update_mode(const Mode& m) {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare("UPDATE modes SET name = ?, description = ?, instructions = ? WHERE id = ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(m.name, m.description, m.instructions, m.id);
  if (auto st = db_->run(*use, "cannot update the mode"); !st.ok()) return st;
  if (auto st = changed_or_not_found(*db_, "mode '" + m.id + "'"); !st.ok()) return st;
  return m;
}

}  // namespace agora::storage::sqlite
