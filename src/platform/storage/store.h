// The Store: every piece of persistent platform state, behind one interface.
//
//   auto store = storage::open_store({.data_dir = "./data"});   // SQLite today
//   if (!store) { ... store.status().message() ... }
//   storage::Owner me{user.id};
//   auto asst = (*store)->create_assistant(me, draft);          // id and created_at assigned
//   auto page = (*store)->list_assistants(me, {.limit = 20});
//
// Contracts that hold for every backend (SQLite now, PostgreSQL later as a new folder):
// - Tenancy lives here, not in the handlers: every call on an owned object takes an Owner and its
//   queries filter by it. Another owner's id is indistinguishable from a missing id (not_found).
// - A call that returns ok has committed durably (SQLite: WAL + synchronous=FULL). A call that
//   returns an error has changed nothing visible; it never reports success for a write that did
//   not persist (disk full, I/O error → unavailable). The one relaxation is opt-in per thread:
//   writes made under a DurabilityScope(Durability::deferred) (see below) are atomic and
//   crash-consistent but do not wait for the disk.
// - Creates assign `id` and `created_at` (and `owner_id`) themselves; what the caller put there
//   is ignored. Updates replace the mutable fields of the stored object with the given ones.
// - Run status changes are compare-and-set against the status the caller last read, and must be
//   legal transitions (run_status.h); a thread has at most one active run.
// Thread-safety: a Store may be used from many threads at once. Several processes (a server
// and `agora admin`) may open the same data directory at the same time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/storage/blob_store.h"
#include "platform/storage/conversation_store.h"
#include "platform/storage/page.h"
#include "platform/storage/records.h"
#include "platform/storage/store_options.h"
#include "platform/storage/store_status.h"

namespace agora::storage {

// How a write commits. `acknowledged` (the default) waits until the write is on disk: anything a
// client is told succeeded. `deferred` commits without waiting for the disk (SQLite: that
// transaction runs with synchronous=NORMAL; PostgreSQL: synchronous_commit=off): it is atomic and
// survives a killed process, a power loss may drop it but never tears it, and the next
// acknowledged write makes it durable too (the log is ordered). For internal progress nobody has
// been promised, such as a run's intermediate states: a run loop then pays one disk sync per run
// instead of one per step, which is what lets it keep up on disks with slow flushes.
enum class Durability { acknowledged, deferred };

// Sets the durability of this thread's writes for the scope's lifetime (scopes nest).
class DurabilityScope {
 public:
  explicit DurabilityScope(Durability d) : saved_(current_) { current_ = d; }
  ~DurabilityScope() { current_ = saved_; }
  DurabilityScope(const DurabilityScope&) = delete;
  DurabilityScope& operator=(const DurabilityScope&) = delete;
  static Durability current() { return current_; }

 private:
  Durability saved_;
  static thread_local inline Durability current_ = Durability::acknowledged;
};

// An upload in progress (Store::begin_file). write() streams bytes to disk; commit() makes them
// durable and then commits the row; destroying it uncommitted discards everything.
class FileUpload {
 public:
  virtual ~FileUpload() = default;
  virtual StoreStatus write(std::string_view bytes) = 0;
  virtual StoreResult<FileObject> commit() = 0;
  virtual int64_t bytes_written() const = 0;
};

// Identifies a run for recovery reports and the run loop.
struct RunRef {
  std::string owner_id, thread_id, run_id;
};

// What to do with runs a crash interrupted (queued or in_progress when the process died).
enum class RecoveryPolicy {
  fail,     // mark them failed with last_error server_error "interrupted by a restart"
  requeue,  // put them back to queued (their in-progress steps fail) so the run loop resumes them
};

struct RecoveryReport {
  std::vector<RunRef> failed;     // runs now failed
  std::vector<RunRef> requeued;   // runs now queued, to hand to the run loop
  std::vector<RunRef> cancelled;  // runs that were cancelling: now cancelled
  int steps_failed = 0;           // in_progress run steps of those runs, now failed
  int messages_incomplete = 0;    // in_progress messages of those runs, now incomplete
  int temp_files_removed = 0;     // half-written uploads
  int orphan_files_removed = 0;   // bytes whose row never committed (or whose row was deleted)
};

// Conversations, responses, sessions and modes: conversation_store.h.
class Store : public ConversationStore {
 public:
  virtual ~Store() = default;

  // ---- accounts (global: authentication and administration, not tenant data) ---------------
  virtual StoreResult<Organization> create_organization(const std::string& name) = 0;
  virtual StoreResult<Organization> find_organization(const std::string& name) = 0;
  virtual StoreResult<std::vector<Organization>> list_organizations() = 0;  // by creation
  // `name` is unique (conflict); `org_id` must exist (not_found).
  virtual StoreResult<User> create_user(const std::string& name, const std::optional<std::string>& org_id,
                                        const std::string& password_hash) = 0;
  virtual StoreResult<User> get_user(const std::string& user_id) = 0;
  virtual StoreResult<User> find_user(const std::string& name) = 0;
  virtual StoreResult<std::vector<User>> list_users() = 0;  // by creation
  virtual StoreResult<int64_t> count_users() = 0;
  // Stores a key row (id and created_at assigned); the user must exist.
  virtual StoreResult<ApiKey> create_api_key(const ApiKey& key) = 0;
  virtual StoreResult<ApiKey> find_api_key_by_hash(const std::string& key_hash) = 0;
  virtual StoreResult<std::vector<ApiKey>> list_api_keys(const std::string& user_id) = 0;
  // Keys whose id equals `id_or_prefix` or whose display prefix starts with it.
  virtual StoreResult<std::vector<ApiKey>> find_api_keys(const std::string& id_or_prefix) = 0;
  // Sets revoked_at (idempotent: an already revoked key keeps its first revocation time).
  virtual StoreResult<ApiKey> revoke_api_key(const std::string& key_id) = 0;

  // ---- files --------------------------------------------------------------------------------
  virtual StoreResult<std::unique_ptr<FileUpload>> begin_file(const Owner& owner, const std::string& filename,
                                                              const std::string& purpose) = 0;
  virtual StoreResult<FileObject> get_file(const Owner& owner, const std::string& file_id) = 0;
  // `purpose` empty = all purposes.
  virtual StoreResult<Page<FileObject>> list_files(const Owner& owner, const std::string& purpose,
                                                   const PageRequest& page) = 0;
  virtual StoreResult<std::unique_ptr<BlobReader>> open_file_content(const Owner& owner,
                                                                     const std::string& file_id) = 0;
  virtual StoreStatus delete_file(const Owner& owner, const std::string& file_id) = 0;

  // ---- assistants ---------------------------------------------------------------------------
  virtual StoreResult<Assistant> create_assistant(const Owner& owner, const Assistant& draft) = 0;
  virtual StoreResult<Assistant> get_assistant(const Owner& owner, const std::string& assistant_id) = 0;
  virtual StoreResult<Page<Assistant>> list_assistants(const Owner& owner, const PageRequest& page) = 0;
  virtual StoreResult<Assistant> update_assistant(const Owner& owner, const Assistant& assistant) = 0;
  virtual StoreStatus delete_assistant(const Owner& owner, const std::string& assistant_id) = 0;

  // ---- threads and messages -----------------------------------------------------------------
  // Creates the thread and its initial messages in one transaction.
  virtual StoreResult<Thread> create_thread(const Owner& owner, const Thread& draft,
                                            const std::vector<Message>& messages) = 0;
  virtual StoreResult<Thread> get_thread(const Owner& owner, const std::string& thread_id) = 0;
  virtual StoreResult<Thread> update_thread(const Owner& owner, const Thread& thread) = 0;
  // Deletes the thread with its messages, runs and run steps.
  virtual StoreStatus delete_thread(const Owner& owner, const std::string& thread_id) = 0;

  virtual StoreResult<Message> create_message(const Owner& owner, const Message& draft) = 0;
  virtual StoreResult<Message> get_message(const Owner& owner, const std::string& thread_id,
                                           const std::string& message_id) = 0;
  // `run_id` empty = all messages of the thread.
  virtual StoreResult<Page<Message>> list_messages(const Owner& owner, const std::string& thread_id,
                                                   const PageRequest& page, const std::string& run_id) = 0;
  // Replaces content, attachments, metadata, status and its timestamps/details.
  virtual StoreResult<Message> update_message(const Owner& owner, const Message& message) = 0;
  virtual StoreStatus delete_message(const Owner& owner, const std::string& thread_id,
                                     const std::string& message_id) = 0;

  // ---- runs and run steps -------------------------------------------------------------------
  // The thread must exist for this owner (not_found) and have no active run (conflict).
  virtual StoreResult<Run> create_run(const Owner& owner, const Run& draft) = 0;
  // Thread + messages + run in one transaction (the run's thread_id is the new thread's).
  virtual StoreResult<Run> create_thread_and_run(const Owner& owner, const Thread& thread,
                                                 const std::vector<Message>& messages, const Run& run) = 0;
  virtual StoreResult<Run> get_run(const Owner& owner, const std::string& thread_id,
                                   const std::string& run_id) = 0;
  virtual StoreResult<Page<Run>> list_runs(const Owner& owner, const std::string& thread_id,
                                           const PageRequest& page) = 0;
  // Writes every mutable field of `run` if the stored status still equals `expected` and
  // expected → run.status is legal; otherwise conflict (re-read and decide again).
  virtual StoreResult<Run> update_run(const Owner& owner, const Run& run, RunStatus expected) = 0;

  virtual StoreResult<RunStep> create_run_step(const Owner& owner, const RunStep& draft) = 0;
  virtual StoreResult<RunStep> get_run_step(const Owner& owner, const std::string& thread_id,
                                            const std::string& run_id, const std::string& step_id) = 0;
  virtual StoreResult<Page<RunStep>> list_run_steps(const Owner& owner, const std::string& thread_id,
                                                    const std::string& run_id, const PageRequest& page) = 0;
  // Replaces status, step_details, last_error, usage and the status timestamps.
  virtual StoreResult<RunStep> update_run_step(const Owner& owner, const RunStep& step) = 0;

  // ---- run loop sweeps (act for no tenant, like crash recovery) -------------------------------
  // Runs in `status`, oldest first, at most `limit`: the run loop picks up queued runs at start.
  virtual StoreResult<std::vector<RunRef>> find_runs_by_status(RunStatus status, int limit) = 0;
  // Runs waiting in requires_action whose expires_at is at or before `now`, oldest first.
  virtual StoreResult<std::vector<RunRef>> find_expired_runs(Timestamp now, int limit) = 0;

  // ---- operations ---------------------------------------------------------------------------
  // Call once at server start, before serving, while holding the data-directory lock
  // (data_dir_lock.h): settles every run a crash left queued/in_progress/cancelling, and removes
  // half-written and unreferenced file bytes. Idempotent.
  virtual StoreResult<RecoveryReport> recover_after_crash(RecoveryPolicy policy) = 0;
  // `PRAGMA integrity_check` (or the backend's equivalent): ok, or internal with the findings.
  virtual StoreStatus check_integrity() = 0;
  virtual int schema_version() const = 0;
};

// Opens the backend named by `options` (today always SQLite in options.data_dir), creating the
// directory and applying migrations as needed.
StoreResult<std::unique_ptr<Store>> open_store(const StoreOptions& options);

}  // namespace agora::storage
