// The SQLite implementation of Store: one database file DATA/agora.db (WAL, synchronous=FULL,
// foreign keys, busy timeout) plus file bytes under DATA/files/ (blob_store.h).
//
// Concurrency: one connection, one mutex around every operation. SQLite serialises writers
// anyway; other processes (agora admin) coordinate through SQLite's file locks and the busy
// timeout. TODO(storage-readers): a small pool of read connections if reads ever queue.
//
// Source files: sqlite_store.cpp (open, accounts, files, operations), sqlite_threads.cpp
// (assistants, threads, messages), sqlite_runs.cpp (runs, run steps, crash recovery).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "platform/storage/blob_store.h"
#include "platform/storage/file_io.h"
#include "platform/storage/sqlite/sqlite_db.h"
#include "platform/storage/store.h"

namespace agora::storage::sqlite {

class SqliteStore final : public Store {
 public:
  static StoreResult<std::unique_ptr<SqliteStore>> open(const StoreOptions& options);

  // accounts
  StoreResult<Organization> create_organization(const std::string& name) override;
  StoreResult<Organization> find_organization(const std::string& name) override;
  StoreResult<std::vector<Organization>> list_organizations() override;
  StoreResult<User> create_user(const std::string& name, const std::optional<std::string>& org_id,
                                const std::string& password_hash) override;
  StoreResult<User> get_user(const std::string& user_id) override;
  StoreResult<User> find_user(const std::string& name) override;
  StoreResult<std::vector<User>> list_users() override;
  StoreResult<int64_t> count_users() override;
  StoreResult<ApiKey> create_api_key(const ApiKey& key) override;
  StoreResult<ApiKey> find_api_key_by_hash(const std::string& key_hash) override;
  StoreResult<std::vector<ApiKey>> list_api_keys(const std::string& user_id) override;
  StoreResult<std::vector<ApiKey>> find_api_keys(const std::string& id_or_prefix) override;
  StoreResult<ApiKey> revoke_api_key(const std::string& key_id) override;

  // files
  StoreResult<std::unique_ptr<FileUpload>> begin_file(const Owner& owner, const std::string& filename,
                                                      const std::string& purpose) override;
  StoreResult<FileObject> get_file(const Owner& owner, const std::string& file_id) override;
  StoreResult<Page<FileObject>> list_files(const Owner& owner, const std::string& purpose,
                                           const PageRequest& page) override;
  StoreResult<std::unique_ptr<BlobReader>> open_file_content(const Owner& owner, const std::string& file_id) override;
  StoreStatus delete_file(const Owner& owner, const std::string& file_id) override;

  // assistants
  StoreResult<Assistant> create_assistant(const Owner& owner, const Assistant& draft) override;
  StoreResult<Assistant> get_assistant(const Owner& owner, const std::string& assistant_id) override;
  StoreResult<Page<Assistant>> list_assistants(const Owner& owner, const PageRequest& page) override;
  StoreResult<Assistant> update_assistant(const Owner& owner, const Assistant& assistant) override;
  StoreStatus delete_assistant(const Owner& owner, const std::string& assistant_id) override;

  // threads and messages
  StoreResult<Thread> create_thread(const Owner& owner, const Thread& draft,
                                    const std::vector<Message>& messages) override;
  StoreResult<Thread> get_thread(const Owner& owner, const std::string& thread_id) override;
  StoreResult<Thread> update_thread(const Owner& owner, const Thread& thread) override;
  StoreStatus delete_thread(const Owner& owner, const std::string& thread_id) override;
  StoreResult<Message> create_message(const Owner& owner, const Message& draft) override;
  StoreResult<Message> get_message(const Owner& owner, const std::string& thread_id,
                                   const std::string& message_id) override;
  StoreResult<Page<Message>> list_messages(const Owner& owner, const std::string& thread_id, const PageRequest& page,
                                           const std::string& run_id) override;
  StoreResult<Message> update_message(const Owner& owner, const Message& message) override;
  StoreStatus delete_message(const Owner& owner, const std::string& thread_id, const std::string& message_id) override;

  // runs and run steps
  StoreResult<Run> create_run(const Owner& owner, const Run& draft) override;
  StoreResult<Run> create_thread_and_run(const Owner& owner, const Thread& thread, const std::vector<Message>& messages,
                                         const Run& run) override;
  StoreResult<Run> get_run(const Owner& owner, const std::string& thread_id, const std::string& run_id) override;
  StoreResult<Page<Run>> list_runs(const Owner& owner, const std::string& thread_id, const PageRequest& page) override;
  StoreResult<Run> update_run(const Owner& owner, const Run& run, RunStatus expected) override;
  StoreResult<RunStep> create_run_step(const Owner& owner, const RunStep& draft) override;
  StoreResult<RunStep> get_run_step(const Owner& owner, const std::string& thread_id, const std::string& run_id,
                                    const std::string& step_id) override;
  StoreResult<Page<RunStep>> list_run_steps(const Owner& owner, const std::string& thread_id,
                                            const std::string& run_id, const PageRequest& page) override;
  StoreResult<RunStep> update_run_step(const Owner& owner, const RunStep& step) override;

  // run loop sweeps
  StoreResult<std::vector<RunRef>> find_runs_by_status(RunStatus status, int limit) override;
  StoreResult<std::vector<RunRef>> find_expired_runs(Timestamp now, int limit) override;

  // conversations, responses, sessions, key names, modes (sqlite_conversations.cpp)
  StoreResult<Conversation> create_conversation(const Owner& owner, const Conversation& draft,
                                                const std::vector<ConversationItem>& items) override;
  StoreResult<Conversation> get_conversation(const Owner& owner, const std::string& conversation_id) override;
  StoreResult<Page<Conversation>> list_conversations(const Owner& owner, const PageRequest& page,
                                                     const std::string& title_contains) override;
  StoreResult<Conversation> update_conversation(const Owner& owner, const Conversation& conversation) override;
  StoreStatus delete_conversation(const Owner& owner, const std::string& conversation_id) override;
  StoreResult<std::vector<ConversationItem>> add_conversation_items(const Owner& owner, const std::string& conversation_id,
                                                                    const std::vector<ConversationItem>& items) override;
  StoreResult<ConversationItem> get_conversation_item(const Owner& owner, const std::string& conversation_id,
                                                      const std::string& item_id) override;
  StoreResult<Page<ConversationItem>> list_conversation_items(const Owner& owner, const std::string& conversation_id,
                                                              const PageRequest& page) override;
  StoreResult<std::vector<ConversationItem>> all_conversation_items(const Owner& owner,
                                                                    const std::string& conversation_id) override;
  StoreStatus delete_conversation_item(const Owner& owner, const std::string& conversation_id,
                                       const std::string& item_id) override;
  StoreResult<ResponseRecord> create_response(const Owner& owner, const ResponseRecord& draft) override;
  StoreResult<ResponseRecord> get_response(const Owner& owner, const std::string& response_id) override;
  StoreResult<ResponseRecord> update_response(const Owner& owner, const ResponseRecord& response) override;
  StoreStatus finish_response(const Owner& owner, const ResponseRecord& response, const std::vector<ResponseEvent>& events,
                              const std::vector<ConversationItem>& items) override;
  StoreStatus delete_response(const Owner& owner, const std::string& response_id) override;
  StoreStatus append_response_events(const Owner& owner, const std::string& response_id,
                                     const std::vector<ResponseEvent>& events) override;
  StoreResult<std::vector<ResponseEvent>> list_response_events(const Owner& owner, const std::string& response_id,
                                                               int64_t after) override;
  StoreResult<std::vector<ResponseRecord>> unfinished_responses() override;
  StoreStatus create_session(const Session& session) override;
  StoreResult<Session> find_session(const std::string& id_hash) override;
  StoreStatus delete_session(const std::string& id_hash) override;
  StoreStatus set_api_key_name(const std::string& key_id, const std::string& name) override;
  StoreResult<std::map<std::string, std::string>> api_key_names(const std::string& user_id) override;
  StoreResult<std::vector<Mode>> list_modes() override;
  StoreResult<Mode> update_mode(const Mode& mode) override;

  // operations
  StoreResult<RecoveryReport> recover_after_crash(RecoveryPolicy policy) override;
  StoreStatus check_integrity() override;
  int schema_version() const override { return schema_version_; }

  // Every SQL text this store has prepared (tests check the tenant predicate on each).
  std::vector<std::string> prepared_sql();

 private:
  friend class SqliteFileUpload;
  SqliteStore(StoreOptions options, std::unique_ptr<Db> db, std::unique_ptr<FileIo> own_io, FileIo* io);

  // Unlocked helpers (caller holds mu_ and, for writes, an open transaction).
  StoreResult<FileObject> insert_file_row(const FileObject& f);
  StoreStatus insert_thread(const Owner& owner, Thread& t);
  StoreStatus insert_message(const Owner& owner, Message& m);
  StoreStatus insert_run(const Owner& owner, Run& r);
  StoreResult<Thread> read_thread(const Owner& owner, const std::string& thread_id);
  StoreResult<Message> read_message(const Owner& owner, const std::string& thread_id, const std::string& message_id);
  StoreResult<Run> read_run(const Owner& owner, const std::string& thread_id, const std::string& run_id);
  StoreResult<RunStep> read_run_step(const Owner& owner, const std::string& thread_id, const std::string& run_id,
                                     const std::string& step_id);
  StoreResult<Assistant> read_assistant(const Owner& owner, const std::string& assistant_id);
  StoreResult<User> read_user(const char* sql, const std::string& key);
  // Unlocked helpers of sqlite_conversations.cpp.
  StoreResult<Conversation> read_conversation(const Owner& owner, const std::string& id);
  StoreStatus insert_conversation_item(const Owner& owner, ConversationItem& item);
  StoreResult<ResponseRecord> read_response(const Owner& owner, const std::string& id);
  StoreStatus write_response(const Owner& owner, const ResponseRecord& response);
  StoreStatus insert_response_events(const Owner& owner, const std::string& response_id,
                                     const std::vector<ResponseEvent>& events);
  // Recovery of file bytes: temp files, and final files without a row. Caller holds mu_.
  StoreStatus remove_orphan_blobs(RecoveryReport& report);

  StoreOptions options_;
  std::mutex mu_;                  // guards db_ (the connection and its statement cache)
  std::unique_ptr<Db> db_;
  std::unique_ptr<FileIo> own_io_; // the default PosixFileIo when options.file_io is null
  BlobStore blobs_;
  int schema_version_ = 0;
};

// Unix time now (seconds).
Timestamp unix_now();

}  // namespace agora::storage::sqlite
