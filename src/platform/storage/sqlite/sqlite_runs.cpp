// SqliteStore: runs, run steps and crash recovery. Every tenant statement filters by owner_id;
// the recovery statements are global sweeps by nature and say so.
#include <string>

#include "platform/storage/ids.h"
#include "platform/storage/sqlite/page_query.h"
#include "platform/storage/sqlite/sqlite_store.h"

namespace agora::storage::sqlite {

namespace {

constexpr const char* kRunCols =
    "id, owner_id, thread_id, assistant_id, created_at, status, model, instructions, additional_instructions, tools, "
    "metadata, temperature, top_p, max_prompt_tokens, max_completion_tokens, truncation_strategy, tool_choice, "
    "parallel_tool_calls, response_format, required_action, last_error_code, last_error_message, incomplete_details, "
    "usage, started_at, expires_at, cancelled_at, failed_at, completed_at";
constexpr const char* kStepCols =
    "id, owner_id, thread_id, run_id, assistant_id, created_at, type, status, step_details, last_error_code, "
    "last_error_message, usage, completed_at, cancelled_at, failed_at, expired_at";

constexpr const char* kInterruptedMessage = "The server restarted while this run was in progress.";

std::optional<RunError> read_error(const Stmt& s, int col) {
  if (s.is_null(col)) return std::nullopt;
  return RunError{s.text(col), s.text(col + 1)};
}

Run read_run_row(const Stmt& s) {
  Run r;
  r.id = s.text(0);
  r.owner_id = s.text(1);
  r.thread_id = s.text(2);
  r.assistant_id = s.text(3);
  r.created_at = s.i64(4);
  // The CHECK constraint admits only known names; failed is the safe reading otherwise.
  r.status = parse_run_status(s.text(5)).value_or(RunStatus::failed);
  r.model = s.text(6);
  r.instructions = s.text(7);
  r.additional_instructions = s.opt_text(8);
  r.tools = s.text(9);
  r.metadata = s.text(10);
  r.temperature = s.opt_f64(11);
  r.top_p = s.opt_f64(12);
  r.max_prompt_tokens = s.opt_i64(13);
  r.max_completion_tokens = s.opt_i64(14);
  r.truncation_strategy = s.text(15);
  r.tool_choice = s.text(16);
  r.parallel_tool_calls = s.i64(17) != 0;
  r.response_format = s.text(18);
  r.required_action = s.opt_text(19);
  r.last_error = read_error(s, 20);
  r.incomplete_details = s.opt_text(22);
  r.usage = s.opt_text(23);
  r.started_at = s.opt_i64(24);
  r.expires_at = s.opt_i64(25);
  r.cancelled_at = s.opt_i64(26);
  r.failed_at = s.opt_i64(27);
  r.completed_at = s.opt_i64(28);
  return r;
}

RunStep read_step_row(const Stmt& s) {
  RunStep st;
  st.id = s.text(0);
  st.owner_id = s.text(1);
  st.thread_id = s.text(2);
  st.run_id = s.text(3);
  st.assistant_id = s.text(4);
  st.created_at = s.i64(5);
  st.type = s.text(6);
  st.status = parse_run_step_status(s.text(7)).value_or(RunStepStatus::failed);
  st.step_details = s.text(8);
  st.last_error = read_error(s, 9);
  st.usage = s.opt_text(11);
  st.completed_at = s.opt_i64(12);
  st.cancelled_at = s.opt_i64(13);
  st.failed_at = s.opt_i64(14);
  st.expired_at = s.opt_i64(15);
  return st;
}

std::optional<std::string> error_code(const Run& r) { return r.last_error ? std::optional(r.last_error->code) : std::nullopt; }
std::optional<std::string> error_message(const Run& r) {
  return r.last_error ? std::optional(r.last_error->message) : std::nullopt;
}
std::optional<std::string> error_code(const RunStep& r) {
  return r.last_error ? std::optional(r.last_error->code) : std::nullopt;
}
std::optional<std::string> error_message(const RunStep& r) {
  return r.last_error ? std::optional(r.last_error->message) : std::nullopt;
}

template <typename T, typename ReadRow>
StoreResult<T> single(Db& db, Stmt& s, ReadRow read, const std::string& what) {
  const int rc = s.step();
  if (rc == SQLITE_ROW) return read(s);
  if (rc == SQLITE_DONE) return StoreStatus{StoreErrc::not_found, "no " + what};
  return db.error(rc, "cannot read " + what);
}

}  // namespace

// ---- runs -----------------------------------------------------------------------------------

StoreStatus SqliteStore::insert_run(const Owner& owner, Run& r) {
  // The assistant must be the owner's too (the run copies its settings and may resume later).
  if (auto a = read_assistant(owner, r.assistant_id); !a) return a.status();
  r.id = new_id(kRunIdPrefix);
  r.owner_id = owner.id;
  r.created_at = unix_now();
  r.status = RunStatus::queued;
  auto stmt = db_->prepare(std::string("INSERT INTO runs (") + kRunCols +
                           ") SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
                           " WHERE EXISTS (SELECT 1 FROM threads WHERE owner_id = ? AND id = ?)");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(r.id, r.owner_id, r.thread_id, r.assistant_id, r.created_at, to_string(r.status), r.model,
                r.instructions, r.additional_instructions, r.tools, r.metadata, r.temperature, r.top_p,
                r.max_prompt_tokens, r.max_completion_tokens, r.truncation_strategy, r.tool_choice,
                r.parallel_tool_calls, r.response_format, r.required_action, error_code(r), error_message(r),
                r.incomplete_details, r.usage, r.started_at, r.expires_at, r.cancelled_at, r.failed_at,
                r.completed_at, owner.id, r.thread_id);
  if (auto st = db_->run(*use, "cannot create the run"); !st.ok()) {
    if (st.code() == StoreErrc::conflict) {
      return {StoreErrc::conflict, "thread " + r.thread_id + " already has an active run"};
    }
    return st;
  }
  if (db_->changes() == 0) return {StoreErrc::not_found, "no thread '" + r.thread_id + "'"};
  return {};
}

StoreResult<Run> SqliteStore::create_run(const Owner& owner, const Run& draft) {
  std::lock_guard lock(mu_);
  Transaction txn(*db_);
  if (auto st = txn.begin(); !st.ok()) return st;
  Run r = draft;
  if (auto st = insert_run(owner, r); !st.ok()) return st;
  if (auto st = txn.commit(); !st.ok()) return st;
  return r;
}

StoreResult<Run> SqliteStore::create_thread_and_run(const Owner& owner, const Thread& thread,
                                                    const std::vector<Message>& messages, const Run& run) {
  std::lock_guard lock(mu_);
  Transaction txn(*db_);
  if (auto st = txn.begin(); !st.ok()) return st;
  Thread t = thread;
  if (auto st = insert_thread(owner, t); !st.ok()) return st;
  for (Message m : messages) {
    m.thread_id = t.id;
    if (auto st = insert_message(owner, m); !st.ok()) return st;
  }
  Run r = run;
  r.thread_id = t.id;
  if (auto st = insert_run(owner, r); !st.ok()) return st;
  if (auto st = txn.commit(); !st.ok()) return st;
  return r;
}

StoreResult<Run> SqliteStore::read_run(const Owner& owner, const std::string& thread_id, const std::string& run_id) {
  auto stmt = db_->prepare(std::string("SELECT ") + kRunCols + " FROM runs WHERE owner_id = ? AND thread_id = ? AND id = ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(owner.id, thread_id, run_id);
  return single<Run>(*db_, *use, read_run_row, "run '" + run_id + "'");
}

StoreResult<Run> SqliteStore::get_run(const Owner& owner, const std::string& thread_id, const std::string& run_id) {
  std::lock_guard lock(mu_);
  return read_run(owner, thread_id, run_id);
}

StoreResult<Page<Run>> SqliteStore::list_runs(const Owner& owner, const std::string& thread_id,
                                              const PageRequest& page) {
  std::lock_guard lock(mu_);
  if (auto t = read_thread(owner, thread_id); !t) return t.status();
  return page_query<Run>(*db_, "runs", kRunCols, Scope{"owner_id = ? AND thread_id = ?", {owner.id, thread_id}}, page,
                         read_run_row);
}

StoreResult<Run> SqliteStore::update_run(const Owner& owner, const Run& r, RunStatus expected) {
  if (!can_transition(expected, r.status)) {
    return StoreStatus{StoreErrc::conflict, std::string("a run cannot go from ") + to_string(expected) + " to " +
                                                to_string(r.status)};
  }
  std::lock_guard lock(mu_);
  {
    auto stmt = db_->prepare(
        "UPDATE runs SET status = ?, model = ?, instructions = ?, additional_instructions = ?, tools = ?, metadata = ?, "
        "temperature = ?, top_p = ?, max_prompt_tokens = ?, max_completion_tokens = ?, truncation_strategy = ?, "
        "tool_choice = ?, parallel_tool_calls = ?, response_format = ?, required_action = ?, last_error_code = ?, "
        "last_error_message = ?, incomplete_details = ?, usage = ?, started_at = ?, expires_at = ?, cancelled_at = ?, "
        "failed_at = ?, completed_at = ? WHERE owner_id = ? AND thread_id = ? AND id = ? AND status = ?");
    if (!stmt) return stmt.status();
    StmtUse use(*stmt);
    use->bind_all(to_string(r.status), r.model, r.instructions, r.additional_instructions, r.tools, r.metadata,
                  r.temperature, r.top_p, r.max_prompt_tokens, r.max_completion_tokens, r.truncation_strategy,
                  r.tool_choice, r.parallel_tool_calls, r.response_format, r.required_action, error_code(r),
                  error_message(r), r.incomplete_details, r.usage, r.started_at, r.expires_at, r.cancelled_at,
                  r.failed_at, r.completed_at, owner.id, r.thread_id, r.id, to_string(expected));
    if (auto st = db_->run(*use, "cannot update the run"); !st.ok()) return st;
  }
  if (db_->changes() == 0) {
    auto now = read_run(owner, r.thread_id, r.id);
    if (!now) return now.status();  // not found (or not this owner's)
    return StoreStatus{StoreErrc::conflict, std::string("the run is ") + to_string(now->status) + ", not " +
                                                to_string(expected)};
  }
  return read_run(owner, r.thread_id, r.id);
}

// ---- run steps ------------------------------------------------------------------------------

StoreResult<RunStep> SqliteStore::create_run_step(const Owner& owner, const RunStep& draft) {
  if (draft.type != "message_creation" && draft.type != "tool_calls") {
    return StoreStatus{StoreErrc::invalid_argument, "run step type must be message_creation or tool_calls"};
  }
  std::lock_guard lock(mu_);
  RunStep s = draft;
  s.id = new_id(kRunStepIdPrefix);
  s.owner_id = owner.id;
  s.created_at = unix_now();
  // thread_id and assistant_id come from the run row itself, which must be the owner's.
  {
    auto stmt = db_->prepare(std::string("INSERT INTO run_steps (") + kStepCols +
                             ") SELECT ?, owner_id, thread_id, id, assistant_id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? "
                             "FROM runs WHERE owner_id = ? AND thread_id = ? AND id = ?");
    if (!stmt) return stmt.status();
    StmtUse use(*stmt);
    use->bind_all(s.id, s.created_at, s.type, to_string(s.status), s.step_details, error_code(s), error_message(s),
                  s.usage, s.completed_at, s.cancelled_at, s.failed_at, s.expired_at, owner.id, s.thread_id, s.run_id);
    if (auto st = db_->run(*use, "cannot create the run step"); !st.ok()) return st;
    if (db_->changes() == 0) return StoreStatus{StoreErrc::not_found, "no run '" + s.run_id + "'"};
  }
  return read_run_step(owner, s.thread_id, s.run_id, s.id);
}

StoreResult<RunStep> SqliteStore::read_run_step(const Owner& owner, const std::string& thread_id,
                                                const std::string& run_id, const std::string& step_id) {
  auto stmt = db_->prepare(std::string("SELECT ") + kStepCols +
                           " FROM run_steps WHERE owner_id = ? AND thread_id = ? AND run_id = ? AND id = ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(owner.id, thread_id, run_id, step_id);
  return single<RunStep>(*db_, *use, read_step_row, "run step '" + step_id + "'");
}

StoreResult<RunStep> SqliteStore::get_run_step(const Owner& owner, const std::string& thread_id,
                                               const std::string& run_id, const std::string& step_id) {
  std::lock_guard lock(mu_);
  return read_run_step(owner, thread_id, run_id, step_id);
}

StoreResult<Page<RunStep>> SqliteStore::list_run_steps(const Owner& owner, const std::string& thread_id,
                                                       const std::string& run_id, const PageRequest& page) {
  std::lock_guard lock(mu_);
  if (auto r = read_run(owner, thread_id, run_id); !r) return r.status();
  return page_query<RunStep>(*db_, "run_steps", kStepCols,
                             Scope{"owner_id = ? AND thread_id = ? AND run_id = ?", {owner.id, thread_id, run_id}},
                             page, read_step_row);
}

StoreResult<RunStep> SqliteStore::update_run_step(const Owner& owner, const RunStep& s) {
  std::lock_guard lock(mu_);
  {
    auto stmt = db_->prepare(
        "UPDATE run_steps SET status = ?, step_details = ?, last_error_code = ?, last_error_message = ?, usage = ?, "
        "completed_at = ?, cancelled_at = ?, failed_at = ?, expired_at = ? "
        "WHERE owner_id = ? AND thread_id = ? AND run_id = ? AND id = ?");
    if (!stmt) return stmt.status();
    StmtUse use(*stmt);
    use->bind_all(to_string(s.status), s.step_details, error_code(s), error_message(s), s.usage, s.completed_at,
                  s.cancelled_at, s.failed_at, s.expired_at, owner.id, s.thread_id, s.run_id, s.id);
    if (auto st = db_->run(*use, "cannot update the run step"); !st.ok()) return st;
    if (db_->changes() == 0) return StoreStatus{StoreErrc::not_found, "no run step '" + s.id + "'"};
  }
  return read_run_step(owner, s.thread_id, s.run_id, s.id);
}

// ---- run loop sweeps ------------------------------------------------------------------------
// Global by design (the run loop and the expiry sweeper act for no tenant); they only return
// references, and every later read or write goes through the owner-scoped calls above.

namespace {
StoreResult<std::vector<RunRef>> read_refs(Db& db, Stmt& s) {
  std::vector<RunRef> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(RunRef{s.text(0), s.text(1), s.text(2)});
  if (rc != SQLITE_DONE) return db.error(rc, "cannot list runs");
  return out;
}
}  // namespace

StoreResult<std::vector<RunRef>> SqliteStore::find_runs_by_status(RunStatus status, int limit) {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare("SELECT owner_id, thread_id, id FROM runs WHERE status = ? ORDER BY seq LIMIT ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(to_string(status), static_cast<int64_t>(limit));
  return read_refs(*db_, *use);
}

StoreResult<std::vector<RunRef>> SqliteStore::find_expired_runs(Timestamp now, int limit) {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare(
      "SELECT owner_id, thread_id, id FROM runs WHERE status = 'requires_action' AND expires_at IS NOT NULL "
      "AND expires_at <= ? ORDER BY seq LIMIT ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(now, static_cast<int64_t>(limit));
  return read_refs(*db_, *use);
}

// ---- crash recovery -------------------------------------------------------------------------

StoreResult<RecoveryReport> SqliteStore::recover_after_crash(RecoveryPolicy policy) {
  std::lock_guard lock(mu_);
  RecoveryReport report;
  const Timestamp now = unix_now();
  Transaction txn(*db_);
  if (auto st = txn.begin(); !st.ok()) return st;

  // Which runs were interrupted (tenancy: a global sweep across owners, by design).
  {
    auto stmt = db_->prepare(
        "SELECT owner_id, thread_id, id, status FROM runs WHERE status IN ('queued', 'in_progress', 'cancelling') "
        "ORDER BY seq");
    if (!stmt) return stmt.status();
    StmtUse use(*stmt);
    int rc;
    while ((rc = use->step()) == SQLITE_ROW) {
      RunRef ref{use->text(0), use->text(1), use->text(2)};
      const std::string status = use->text(3);
      if (status == "cancelling") {
        report.cancelled.push_back(std::move(ref));
      } else if (policy == RecoveryPolicy::requeue) {
        report.requeued.push_back(std::move(ref));
      } else {
        report.failed.push_back(std::move(ref));
      }
    }
    if (rc != SQLITE_DONE) return db_->error(rc, "cannot find interrupted runs");
  }

  // Their in-progress steps and messages first (they are recognised by their run's status),
  // then the runs. Runs waiting in requires_action keep their in-progress tool_calls step.
  {
    auto stmt = db_->prepare(
        "UPDATE run_steps SET status = 'failed', failed_at = ?, last_error_code = 'server_error', "
        "last_error_message = ? WHERE status = 'in_progress' AND run_id IN "
        "(SELECT id FROM runs WHERE status IN ('queued', 'in_progress', 'cancelling'))");
    if (!stmt) return stmt.status();
    StmtUse use(*stmt);
    use->bind_all(now, kInterruptedMessage);
    if (auto st = db_->run(*use, "cannot settle interrupted run steps"); !st.ok()) return st;
    report.steps_failed = static_cast<int>(db_->changes());
  }
  {
    auto stmt = db_->prepare(
        "UPDATE messages SET status = 'incomplete', incomplete_at = ?, "
        "incomplete_details = '{\"reason\":\"run_failed\"}' WHERE status = 'in_progress' AND run_id IN "
        "(SELECT id FROM runs WHERE status IN ('queued', 'in_progress', 'cancelling'))");
    if (!stmt) return stmt.status();
    StmtUse use(*stmt);
    use->bind_all(now);
    if (auto st = db_->run(*use, "cannot settle interrupted messages"); !st.ok()) return st;
    report.messages_incomplete = static_cast<int>(db_->changes());
  }
  {
    auto stmt = db_->prepare(
        "UPDATE runs SET status = 'cancelled', cancelled_at = ?, required_action = NULL WHERE status = 'cancelling'");
    if (!stmt) return stmt.status();
    StmtUse use(*stmt);
    use->bind_all(now);
    if (auto st = db_->run(*use, "cannot settle cancelling runs"); !st.ok()) return st;
  }
  if (policy == RecoveryPolicy::requeue) {
    auto stmt = db_->prepare("UPDATE runs SET status = 'queued', required_action = NULL WHERE status = 'in_progress'");
    if (!stmt) return stmt.status();
    StmtUse use(*stmt);
    if (auto st = db_->run(*use, "cannot re-queue interrupted runs"); !st.ok()) return st;
  } else {
    auto stmt = db_->prepare(
        "UPDATE runs SET status = 'failed', failed_at = ?, required_action = NULL, last_error_code = 'server_error', "
        "last_error_message = ? WHERE status IN ('queued', 'in_progress')");
    if (!stmt) return stmt.status();
    StmtUse use(*stmt);
    use->bind_all(now, kInterruptedMessage);
    if (auto st = db_->run(*use, "cannot fail interrupted runs"); !st.ok()) return st;
  }
  if (auto st = txn.commit(); !st.ok()) return st;

  if (auto st = remove_orphan_blobs(report); !st.ok()) return st;
  return report;
}

}  // namespace agora::storage::sqlite
