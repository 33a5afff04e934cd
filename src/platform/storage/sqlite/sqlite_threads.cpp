// SqliteStore: assistants, threads and messages. Every statement filters by owner_id.
#include <string>

#include "platform/storage/ids.h"
#include "platform/storage/sqlite/page_query.h"
#include "platform/storage/sqlite/sqlite_store.h"

namespace agora::storage::sqlite {

namespace {

constexpr const char* kAssistantCols =
    "id, owner_id, created_at, name, description, model, instructions, tools, tool_resources, metadata, "
    "temperature, top_p, response_format";
constexpr const char* kThreadCols = "id, owner_id, created_at, tool_resources, metadata";
constexpr const char* kMessageCols =
    "id, owner_id, thread_id, created_at, role, content, attachments, metadata, assistant_id, run_id, status, "
    "completed_at, incomplete_at, incomplete_details";

Assistant read_assistant_row(const Stmt& s) {
  Assistant a;
  a.id = s.text(0);
  a.owner_id = s.text(1);
  a.created_at = s.i64(2);
  a.name = s.opt_text(3);
  a.description = s.opt_text(4);
  a.model = s.text(5);
  a.instructions = s.opt_text(6);
  a.tools = s.text(7);
  a.tool_resources = s.text(8);
  a.metadata = s.text(9);
  a.temperature = s.opt_f64(10);
  a.top_p = s.opt_f64(11);
  a.response_format = s.text(12);
  return a;
}

Thread read_thread_row(const Stmt& s) { return Thread{s.text(0), s.text(1), s.i64(2), s.text(3), s.text(4)}; }

Message read_message_row(const Stmt& s) {
  Message m;
  m.id = s.text(0);
  m.owner_id = s.text(1);
  m.thread_id = s.text(2);
  m.created_at = s.i64(3);
  m.role = s.text(4);
  m.content = s.text(5);
  m.attachments = s.text(6);
  m.metadata = s.text(7);
  m.assistant_id = s.opt_text(8);
  m.run_id = s.opt_text(9);
  m.status = s.text(10);
  m.completed_at = s.opt_i64(11);
  m.incomplete_at = s.opt_i64(12);
  m.incomplete_details = s.opt_text(13);
  return m;
}

template <typename T, typename ReadRow>
StoreResult<T> single(Db& db, Stmt& s, ReadRow read, const std::string& what) {
  const int rc = s.step();
  if (rc == SQLITE_ROW) return read(s);
  if (rc == SQLITE_DONE) return StoreStatus{StoreErrc::not_found, "no " + what};
  return db.error(rc, "cannot read " + what);
}

// Writes that may only change existing rows: 0 changed rows means "not yours or not there".
StoreStatus expect_changed(Db& db, const std::string& what) {
  if (db.changes() == 0) return {StoreErrc::not_found, "no " + what};
  return {};
}

StoreStatus validate_message(const Message& m) {
  if (m.role != "user" && m.role != "assistant") {
    return {StoreErrc::invalid_argument, "message role must be 'user' or 'assistant'"};
  }
  if (m.status != "in_progress" && m.status != "incomplete" && m.status != "completed") {
    return {StoreErrc::invalid_argument, "message status must be in_progress, incomplete or completed"};
  }
  return {};
}

}  // namespace

// ---- assistants -----------------------------------------------------------------------------

StoreResult<Assistant> SqliteStore::read_assistant(const Owner& owner, const std::string& assistant_id) {
  auto stmt = db_->prepare(std::string("SELECT ") + kAssistantCols + " FROM assistants WHERE owner_id = ? AND id = ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(owner.id, assistant_id);
  return single<Assistant>(*db_, *use, read_assistant_row, "assistant '" + assistant_id + "'");
}

StoreResult<Assistant> SqliteStore::create_assistant(const Owner& owner, const Assistant& draft) {
  if (draft.model.empty()) return StoreStatus{StoreErrc::invalid_argument, "assistant model is empty"};
  std::lock_guard lock(mu_);
  Assistant a = draft;
  a.id = new_id(kAssistantIdPrefix);
  a.owner_id = owner.id;
  a.created_at = unix_now();
  auto stmt = db_->prepare(
      "INSERT INTO assistants (id, owner_id, created_at, name, description, model, instructions, tools, "
      "tool_resources, metadata, temperature, top_p, response_format) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(a.id, a.owner_id, a.created_at, a.name, a.description, a.model, a.instructions, a.tools,
                a.tool_resources, a.metadata, a.temperature, a.top_p, a.response_format);
  if (auto st = db_->run(*use, "cannot create the assistant"); !st.ok()) return st;
  return a;
}

StoreResult<Assistant> SqliteStore::get_assistant(const Owner& owner, const std::string& assistant_id) {
  std::lock_guard lock(mu_);
  return read_assistant(owner, assistant_id);
}

StoreResult<Page<Assistant>> SqliteStore::list_assistants(const Owner& owner, const PageRequest& page) {
  std::lock_guard lock(mu_);
  return page_query<Assistant>(*db_, "assistants", kAssistantCols, Scope{"owner_id = ?", {owner.id}}, page,
                               read_assistant_row);
}

StoreResult<Assistant> SqliteStore::update_assistant(const Owner& owner, const Assistant& a) {
  if (a.model.empty()) return StoreStatus{StoreErrc::invalid_argument, "assistant model is empty"};
  std::lock_guard lock(mu_);
  {
    auto stmt = db_->prepare(
        "UPDATE assistants SET name = ?, description = ?, model = ?, instructions = ?, tools = ?, tool_resources = ?, "
        "metadata = ?, temperature = ?, top_p = ?, response_format = ? WHERE owner_id = ? AND id = ?");
    if (!stmt) return stmt.status();
    StmtUse use(*stmt);
    use->bind_all(a.name, a.description, a.model, a.instructions, a.tools, a.tool_resources, a.metadata,
                  a.temperature, a.top_p, a.response_format, owner.id, a.id);
    if (auto st = db_->run(*use, "cannot update the assistant"); !st.ok()) return st;
    if (auto st = expect_changed(*db_, "assistant '" + a.id + "'"); !st.ok()) return st;
  }
  return read_assistant(owner, a.id);
}

StoreStatus SqliteStore::delete_assistant(const Owner& owner, const std::string& assistant_id) {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare("DELETE FROM assistants WHERE owner_id = ? AND id = ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(owner.id, assistant_id);
  if (auto st = db_->run(*use, "cannot delete the assistant"); !st.ok()) return st;
  return expect_changed(*db_, "assistant '" + assistant_id + "'");
}

// ---- threads --------------------------------------------------------------------------------

StoreStatus SqliteStore::insert_thread(const Owner& owner, Thread& t) {
  t.id = new_id(kThreadIdPrefix);
  t.owner_id = owner.id;
  t.created_at = unix_now();
  auto stmt = db_->prepare(
      "INSERT INTO threads (id, owner_id, created_at, tool_resources, metadata) VALUES (?, ?, ?, ?, ?)");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(t.id, t.owner_id, t.created_at, t.tool_resources, t.metadata);
  return db_->run(*use, "cannot create the thread");
}

StoreStatus SqliteStore::insert_message(const Owner& owner, Message& m) {
  if (auto st = validate_message(m); !st.ok()) return st;
  m.id = new_id(kMessageIdPrefix);
  m.owner_id = owner.id;
  m.created_at = unix_now();
  // The thread must belong to the owner: the insert selects nothing otherwise.
  auto stmt = db_->prepare(
      "INSERT INTO messages (id, owner_id, thread_id, created_at, role, content, attachments, metadata, assistant_id, "
      "run_id, status, completed_at, incomplete_at, incomplete_details) "
      "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS "
      "(SELECT 1 FROM threads WHERE owner_id = ? AND id = ?)");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(m.id, m.owner_id, m.thread_id, m.created_at, m.role, m.content, m.attachments, m.metadata,
                m.assistant_id, m.run_id, m.status, m.completed_at, m.incomplete_at, m.incomplete_details, owner.id,
                m.thread_id);
  if (auto st = db_->run(*use, "cannot create the message"); !st.ok()) return st;
  return expect_changed(*db_, "thread '" + m.thread_id + "'");
}

StoreResult<Thread> SqliteStore::create_thread(const Owner& owner, const Thread& draft,
                                               const std::vector<Message>& messages) {
  std::lock_guard lock(mu_);
  Transaction txn(*db_);
  if (auto st = txn.begin(); !st.ok()) return st;
  Thread t = draft;
  if (auto st = insert_thread(owner, t); !st.ok()) return st;
  for (Message m : messages) {
    m.thread_id = t.id;
    if (auto st = insert_message(owner, m); !st.ok()) return st;
  }
  if (auto st = txn.commit(); !st.ok()) return st;
  return t;
}

StoreResult<Thread> SqliteStore::read_thread(const Owner& owner, const std::string& thread_id) {
  auto stmt = db_->prepare(std::string("SELECT ") + kThreadCols + " FROM threads WHERE owner_id = ? AND id = ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(owner.id, thread_id);
  return single<Thread>(*db_, *use, read_thread_row, "thread '" + thread_id + "'");
}

StoreResult<Thread> SqliteStore::get_thread(const Owner& owner, const std::string& thread_id) {
  std::lock_guard lock(mu_);
  return read_thread(owner, thread_id);
}

StoreResult<Thread> SqliteStore::update_thread(const Owner& owner, const Thread& t) {
  std::lock_guard lock(mu_);
  {
    auto stmt = db_->prepare("UPDATE threads SET tool_resources = ?, metadata = ? WHERE owner_id = ? AND id = ?");
    if (!stmt) return stmt.status();
    StmtUse use(*stmt);
    use->bind_all(t.tool_resources, t.metadata, owner.id, t.id);
    if (auto st = db_->run(*use, "cannot update the thread"); !st.ok()) return st;
    if (auto st = expect_changed(*db_, "thread '" + t.id + "'"); !st.ok()) return st;
  }
  return read_thread(owner, t.id);
}

StoreStatus SqliteStore::delete_thread(const Owner& owner, const std::string& thread_id) {
  std::lock_guard lock(mu_);
  // Messages, runs and run steps go with it (ON DELETE CASCADE), in the same statement.
  auto stmt = db_->prepare("DELETE FROM threads WHERE owner_id = ? AND id = ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(owner.id, thread_id);
  if (auto st = db_->run(*use, "cannot delete the thread"); !st.ok()) return st;
  return expect_changed(*db_, "thread '" + thread_id + "'");
}

// ---- messages -------------------------------------------------------------------------------

StoreResult<Message> SqliteStore::create_message(const Owner& owner, const Message& draft) {
  std::lock_guard lock(mu_);
  Message m = draft;
  if (auto st = insert_message(owner, m); !st.ok()) return st;
  return m;
}

StoreResult<Message> SqliteStore::read_message(const Owner& owner, const std::string& thread_id,
                                               const std::string& message_id) {
  auto stmt = db_->prepare(std::string("SELECT ") + kMessageCols +
                           " FROM messages WHERE owner_id = ? AND thread_id = ? AND id = ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(owner.id, thread_id, message_id);
  return single<Message>(*db_, *use, read_message_row, "message '" + message_id + "'");
}

StoreResult<Message> SqliteStore::get_message(const Owner& owner, const std::string& thread_id,
                                              const std::string& message_id) {
  std::lock_guard lock(mu_);
  return read_message(owner, thread_id, message_id);
}

StoreResult<Page<Message>> SqliteStore::list_messages(const Owner& owner, const std::string& thread_id,
                                                      const PageRequest& page, const std::string& run_id) {
  std::lock_guard lock(mu_);
  if (auto t = read_thread(owner, thread_id); !t) return t.status();
  Scope scope{"owner_id = ? AND thread_id = ?", {owner.id, thread_id}};
  if (!run_id.empty()) {
    scope.sql += " AND run_id = ?";
    scope.args.push_back(run_id);
  }
  return page_query<Message>(*db_, "messages", kMessageCols, scope, page, read_message_row);
}

StoreResult<Message> SqliteStore::update_message(const Owner& owner, const Message& m) {
  if (auto st = validate_message(m); !st.ok()) return st;
  std::lock_guard lock(mu_);
  {
    auto stmt = db_->prepare(
        "UPDATE messages SET content = ?, attachments = ?, metadata = ?, status = ?, completed_at = ?, "
        "incomplete_at = ?, incomplete_details = ? WHERE owner_id = ? AND thread_id = ? AND id = ?");
    if (!stmt) return stmt.status();
    StmtUse use(*stmt);
    use->bind_all(m.content, m.attachments, m.metadata, m.status, m.completed_at, m.incomplete_at,
                  m.incomplete_details, owner.id, m.thread_id, m.id);
    if (auto st = db_->run(*use, "cannot update the message"); !st.ok()) return st;
    if (auto st = expect_changed(*db_, "message '" + m.id + "'"); !st.ok()) return st;
  }
  return read_message(owner, m.thread_id, m.id);
}

StoreStatus SqliteStore::delete_message(const Owner& owner, const std::string& thread_id,
                                        const std::string& message_id) {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare("DELETE FROM messages WHERE owner_id = ? AND thread_id = ? AND id = ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(owner.id, thread_id, message_id);
  if (auto st = db_->run(*use, "cannot delete the message"); !st.ok()) return st;
  return expect_changed(*db_, "message '" + message_id + "'");
}

}  // namespace agora::storage::sqlite
