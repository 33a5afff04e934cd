// Versioned schema migrations for the SQLite backend, applied in order when a Store opens.
//
// The database's `PRAGMA user_version` is the number of migrations applied. Each migration runs
// in its own write transaction together with the version bump, so a crash leaves the schema at
// a whole version. A database newer than this binary (user_version > known) is refused.
// Migrations are append-only: never edit one that has shipped; add the next.
#pragma once

#include <span>

#include "platform/storage/sqlite/sqlite_db.h"

namespace agora::storage::sqlite {

struct Migration {
  int version;      // 1, 2, ... (the user_version after it is applied)
  const char* name;
  const char* sql;
};

std::span<const Migration> migrations();

// Applies every migration above the database's version. Returns the resulting version.
StoreResult<int> migrate(Db& db);

}  // namespace agora::storage::sqlite
