// Cursor pagination (page.h) over one SQLite table, shared by every list call of SqliteStore.
//
// Objects are ordered by the table's `seq` (insertion order; ids are random). The cursor ids are
// looked up inside the same scope as the list, so a cursor naming another tenant's object is
// not_found like any unknown id. Reading limit+1 rows tells whether there are more.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "platform/storage/page.h"
#include "platform/storage/sqlite/sqlite_db.h"

namespace agora::storage::sqlite {

// "WHERE <sql>" of a list query, with its string parameters in order. Must name the tenant.
struct Scope {
  std::string sql;
  std::vector<std::string> args;
};

StoreStatus validate_page(const PageRequest& page);

// The seq of the object `id` within `scope` in `table`, or not_found.
StoreResult<int64_t> cursor_seq(Db& db, const char* table, const Scope& scope, const std::string& id,
                                const char* param_name);

// Lists `cols` of `table` within `scope` for `page`; `read(stmt)` turns the current row into a T.
// Without cursors, or with `after`, the page starts next to the cursor in the requested order;
// with only `before`, it is the `limit` items just before the cursor (still in the requested
// order), and has_more says whether more exist further back.
template <typename T, typename ReadRow>
StoreResult<Page<T>> page_query(Db& db, const char* table, const char* cols, const Scope& scope,
                                const PageRequest& page, ReadRow read) {
  if (auto st = validate_page(page); !st.ok()) return st;
  std::optional<int64_t> after_seq, before_seq;
  if (!page.after.empty()) {
    auto s = cursor_seq(db, table, scope, page.after, "after");
    if (!s) return s.status();
    after_seq = *s;
  }
  if (!page.before.empty()) {
    auto s = cursor_seq(db, table, scope, page.before, "before");
    if (!s) return s.status();
    before_seq = *s;
  }
  const bool desc = page.order == SortOrder::desc;
  // In list order, "after X" means further along: seq < X when descending, seq > X ascending.
  const char* past = desc ? " < ?" : " > ?";
  const char* until = desc ? " > ?" : " < ?";
  // Traverse backwards (towards the list start) only for a lone `before`.
  const bool backwards = before_seq && !after_seq;
  std::string sql = std::string("SELECT ") + cols + " FROM " + table + " WHERE " + scope.sql;
  if (after_seq) sql += std::string(" AND seq") + past;
  if (before_seq) sql += std::string(" AND seq") + until;
  sql += (desc != backwards) ? " ORDER BY seq DESC" : " ORDER BY seq ASC";
  sql += " LIMIT ?";
  auto stmt = db.prepare(sql);
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  int i = 0;
  for (const auto& a : scope.args) use->bind_one(++i, a);
  if (after_seq) use->bind_one(++i, *after_seq);
  if (before_seq) use->bind_one(++i, *before_seq);
  use->bind_one(++i, static_cast<int64_t>(page.limit) + 1);
  Page<T> out;
  int rc;
  while ((rc = use->step()) == SQLITE_ROW) out.items.push_back(read(*use));
  if (rc != SQLITE_DONE) return db.error(rc, std::string("cannot list ") + table);
  if (static_cast<int>(out.items.size()) > page.limit) {
    out.has_more = true;
    out.items.pop_back();
  }
  if (backwards) std::reverse(out.items.begin(), out.items.end());
  return out;
}

}  // namespace agora::storage::sqlite
