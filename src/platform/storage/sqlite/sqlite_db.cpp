#include "platform/storage/sqlite/sqlite_db.h"

#include "platform/storage/store.h"

#include <chrono>
#include <random>
#include <string>
#include <thread>

namespace agora::storage::sqlite {

StoreStatus status_from_sqlite(int rc, sqlite3* db, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xFF) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return {StoreErrc::not_found, msg};
      if (rc == SQLITE_CONSTRAINT_CHECK) return {StoreErrc::invalid_argument, msg};
      return {StoreErrc::conflict, msg};
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
    case SQLITE_NOMEM:
      return {StoreErrc::unavailable, msg};
    case SQLITE_TOOBIG:
      return {StoreErrc::too_large, msg};
    default:
      return {StoreErrc::internal, msg};
  }
}

StoreResult<std::unique_ptr<Db>> Db::open(const std::string& path, bool create, const std::string& vfs,
                                          int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, vfs.empty() ? nullptr : vfs.c_str());
  std::unique_ptr<Db> db(new Db(raw));  // owns raw even on failure
  if (rc != SQLITE_OK) {
    if ((rc & 0xFF) == SQLITE_CANTOPEN && !create) return StoreStatus{StoreErrc::not_found, "no database at " + path};
    return status_from_sqlite(rc, raw, "cannot open " + path);
  }
  sqlite3_extended_result_codes(raw, 1);
  db->busy_timeout_ms_ = busy_timeout_ms;
  sqlite3_busy_handler(raw, &Db::on_busy, db.get());
  // journal_mode=WAL is persistent in the file; the others are per connection.
  if (auto st = db->exec("PRAGMA journal_mode=WAL", "cannot enable WAL"); !st.ok()) return st;
  if (auto st = db->exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", "cannot set pragmas"); !st.ok()) return st;
  return db;
}

int Db::on_busy(void* self, int count) {
  auto* db = static_cast<Db*>(self);
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  if (count == 0) db->busy_started_ns_ = now;
  if (now - db->busy_started_ns_ >= static_cast<int64_t>(db->busy_timeout_ms_) * 1000000) return 0;  // give up: SQLITE_BUSY
  thread_local std::minstd_rand rng(std::random_device{}());
  std::this_thread::sleep_for(std::chrono::microseconds(200 + rng() % 800));
  return 1;
}

StoreStatus Db::exec(const char* sql, std::string_view what) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return error(rc, what);
  return {};
}

StoreResult<Stmt*> Db::prepare(const std::string& sql) {
  if (auto it = cache_.find(sql); it != cache_.end()) return it->second.stmt.get();
  sqlite3_stmt* s = nullptr;
  const int rc = sqlite3_prepare_v3(db_.get(), sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                    &s, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(s);
    return error(rc, "cannot prepare a statement");
  }
  Cached& slot = cache_[sql];
  slot.handle.reset(s);
  slot.stmt = std::make_unique<Stmt>(s);
  return slot.stmt.get();
}

std::vector<std::string> Db::prepared_sql() const {
  std::vector<std::string> out;
  out.reserve(cache_.size());
  for (const auto& [sql, cached] : cache_) out.push_back(sql);
  return out;
}

StoreStatus Db::run(Stmt& s, std::string_view what) {
  // A write outside a Transaction commits on its own: with this thread's durability, and the
  // connection goes back to waiting for the disk right after.
  const bool relax = !in_transaction() && DurabilityScope::current() == Durability::deferred &&
                     !sqlite3_stmt_readonly(s.raw());
  if (relax) {
    if (auto st = set_wait_for_disk(false); !st.ok()) return st;
  }
  struct Restore {
    Db* db;
    ~Restore() { if (db) (void)db->set_wait_for_disk(true); }
  } restore{relax ? this : nullptr};
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) {
    StoreStatus st = error(rc, what);
    s.reset();
    return st;
  }
  s.reset();
  return {};
}

Transaction::~Transaction() {
  // Roll back whatever is open: after a failed statement or COMMIT SQLite may or may not have
  // rolled back already; ROLLBACK on an autocommit connection is simply skipped.
  if (db_.in_transaction()) sqlite3_exec(db_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
  // Statements outside a Transaction (autocommit) always wait for the disk.
  (void)db_.set_wait_for_disk(true);
}

StoreStatus Db::set_wait_for_disk(bool full) {
  if (full == sync_full_) return {};
  auto st = exec(full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", "cannot set synchronous");
  if (st.ok()) sync_full_ = full;
  return st;
}

StoreStatus Transaction::begin() {
  if (auto st = db_.set_wait_for_disk(DurabilityScope::current() == Durability::acknowledged); !st.ok()) return st;
  auto st = db_.exec("BEGIN IMMEDIATE", "cannot begin a write transaction");
  open_ = st.ok();
  return st;
}

StoreStatus Transaction::commit() {
  if (!open_) return {StoreErrc::internal, "commit without begin"};
  auto st = db_.exec("COMMIT", "cannot commit");
  open_ = false;
  return st;  // on failure the destructor rolls back what is still open
}

}  // namespace agora::storage::sqlite
