// RAII over the SQLite C API: a connection (Db), cached prepared statements (Stmt), and a write
// transaction guard (Transaction). Every SQLite result code becomes a StoreStatus here, in one
// place (status_from_sqlite).
//
// Not thread-safe: the owner serialises calls (SqliteStore holds a mutex around each operation).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "platform/storage/store_status.h"

namespace agora::storage::sqlite {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

// Maps a result code to a StoreErrc: constraint violations → conflict (foreign key → not_found),
// busy/locked/full/I/O → unavailable, corruption and the rest → internal.
StoreStatus status_from_sqlite(int rc, sqlite3* db, std::string_view what);

// A prepared statement, reset when the scope that used it ends (see Db::prepare).
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}

  // Binds the arguments to parameters 1..n in order. std::nullopt and empty optionals bind NULL.
  template <typename... Args>
  void bind_all(const Args&... args) {
    int i = 0;
    (bind_one(++i, args), ...);
  }
  void bind_one(int i, std::string_view v) { sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
  void bind_one(int i, const std::string& v) { bind_one(i, std::string_view(v)); }
  void bind_one(int i, const char* v) { bind_one(i, std::string_view(v)); }
  void bind_one(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void bind_one(int i, int v) { sqlite3_bind_int64(s_, i, v); }
  void bind_one(int i, bool v) { sqlite3_bind_int64(s_, i, v ? 1 : 0); }
  void bind_one(int i, double v) { sqlite3_bind_double(s_, i, v); }
  void bind_one(int i, std::nullopt_t) { sqlite3_bind_null(s_, i); }
  template <typename T>
  void bind_one(int i, const std::optional<T>& v) {
    if (v) bind_one(i, *v); else sqlite3_bind_null(s_, i);
  }

  int step() { return sqlite3_step(s_); }  // SQLITE_ROW, SQLITE_DONE or an error code

  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, col))) : std::string();
  }
  std::optional<std::string> opt_text(int col) const { return is_null(col) ? std::nullopt : std::optional(text(col)); }
  int64_t i64(int col) const { return sqlite3_column_int64(s_, col); }
  std::optional<int64_t> opt_i64(int col) const { return is_null(col) ? std::nullopt : std::optional(i64(col)); }
  std::optional<double> opt_f64(int col) const {
    return is_null(col) ? std::nullopt : std::optional(sqlite3_column_double(s_, col));
  }

  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  sqlite3_stmt* raw() const { return s_; }

 private:
  sqlite3_stmt* s_;
};

// Borrowed use of a cached statement: resets it on destruction, so a half-stepped SELECT never
// holds a read transaction open.
class StmtUse {
 public:
  explicit StmtUse(Stmt* s) : s_(s) {}
  ~StmtUse() { if (s_) s_->reset(); }
  StmtUse(const StmtUse&) = delete;
  StmtUse& operator=(const StmtUse&) = delete;
  Stmt* operator->() const { return s_; }
  Stmt& operator*() const { return *s_; }

 private:
  Stmt* s_;
};

class Db {
 public:
  // Opens (creating when `create`) the database at `path` with `vfs` (empty = default), then sets
  // WAL, synchronous=FULL, foreign_keys=ON and the busy timeout.
  static StoreResult<std::unique_ptr<Db>> open(const std::string& path, bool create, const std::string& vfs,
                                               int busy_timeout_ms);

  // Runs SQL text with no results (several statements allowed).
  StoreStatus exec(const char* sql, std::string_view what);
  // The cached prepared statement for `sql` (prepared once per connection, keyed by its text).
  StoreResult<Stmt*> prepare(const std::string& sql);
  // Every SQL text prepared on this connection (for the tenancy check in the tests).
  std::vector<std::string> prepared_sql() const;
  // Steps a statement that returns no rows (INSERT/UPDATE/DELETE) to the end.
  StoreStatus run(Stmt& s, std::string_view what);
  int64_t changes() const { return sqlite3_changes64(db_.get()); }
  bool in_transaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }
  sqlite3* raw() const { return db_.get(); }
  StoreStatus error(int rc, std::string_view what) const { return status_from_sqlite(rc, db_.get(), what); }
  // Sets synchronous=FULL (wait for the disk at COMMIT) or NORMAL (WAL: no sync at COMMIT) for
  // the next transactions; a no-op when already set.
  StoreStatus set_wait_for_disk(bool full);

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  // Busy handler: short, jittered sleeps until the timeout. SQLite's default handler backs off
  // to 100 ms sleeps, so a writer that commits continuously (a busy server) can starve another
  // process (agora admin) until the timeout; retrying every millisecond wins a gap between commits.
  static int on_busy(void* self, int count);
  int busy_timeout_ms_ = 0;
  int64_t busy_started_ns_ = 0;
  bool sync_full_ = true;
  std::unique_ptr<sqlite3, DbCloser> db_;
  struct Cached {
    std::unique_ptr<sqlite3_stmt, StmtFinalizer> handle;
    std::unique_ptr<Stmt> stmt;
  };
  std::unordered_map<std::string, Cached> cache_;
};

// A write transaction (BEGIN IMMEDIATE: take the write lock up front, so two writers wait on
// the busy timeout instead of deadlocking on a lock upgrade). Rolls back unless committed.
// Commits with the calling thread's Durability (store.h): acknowledged unless a deferred
// DurabilityScope is open.
class Transaction {
 public:
  explicit Transaction(Db& db) : db_(db) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  StoreStatus begin();
  // ok only when COMMIT succeeded, i.e. the transaction is durable (or, deferred, committed).
  StoreStatus commit();

 private:
  Db& db_;
  bool open_ = false;
};

}  // namespace agora::storage::sqlite
