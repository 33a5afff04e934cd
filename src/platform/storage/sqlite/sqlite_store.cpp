#include "platform/storage/sqlite/sqlite_store.h"

#include <cerrno>
#include <ctime>
#include <filesystem>
#include <set>
#include <system_error>

#include "platform/storage/ids.h"
#include "platform/storage/sqlite/migrations.h"
#include "platform/storage/sqlite/page_query.h"

namespace agora::storage::sqlite {

Timestamp unix_now() { return static_cast<Timestamp>(std::time(nullptr)); }

// ---- pagination helpers (page_query.h) ------------------------------------------------------

StoreStatus validate_page(const PageRequest& page) {
  if (page.limit < 1 || page.limit > kMaxPageLimit) {
    return {StoreErrc::invalid_argument, "limit must be between 1 and " + std::to_string(kMaxPageLimit)};
  }
  return {};
}

StoreResult<int64_t> cursor_seq(Db& db, const char* table, const Scope& scope, const std::string& id,
                                const char* param_name) {
  const std::string sql = std::string("SELECT seq FROM ") + table + " WHERE " + scope.sql + " AND id = ?";
  auto stmt = db.prepare(sql);
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  int i = 0;
  for (const auto& a : scope.args) use->bind_one(++i, a);
  use->bind_one(++i, id);
  const int rc = use->step();
  if (rc == SQLITE_ROW) return use->i64(0);
  if (rc == SQLITE_DONE) return StoreStatus{StoreErrc::not_found, std::string("no object with id '") + id + "' for `" + param_name + "`"};
  return db.error(rc, "cannot read a cursor");
}

// ---- open -----------------------------------------------------------------------------------

SqliteStore::SqliteStore(StoreOptions options, std::unique_ptr<Db> db, std::unique_ptr<FileIo> own_io, FileIo* io)
    : options_(std::move(options)), db_(std::move(db)), own_io_(std::move(own_io)),
      blobs_(options_.data_dir + "/files", io, options_.max_file_bytes) {}

StoreResult<std::unique_ptr<SqliteStore>> SqliteStore::open(const StoreOptions& options) {
  if (options.data_dir.empty()) return StoreStatus{StoreErrc::invalid_argument, "the data directory is empty"};
  if (options.max_file_bytes <= 0) return StoreStatus{StoreErrc::invalid_argument, "max_file_bytes must be positive"};
  std::error_code ec;
  if (!std::filesystem::is_directory(options.data_dir, ec)) {
    if (!options.create_if_missing) {
      return StoreStatus{StoreErrc::not_found, "no data directory at " + options.data_dir};
    }
    std::filesystem::create_directories(options.data_dir, ec);
    if (ec) return StoreStatus{StoreErrc::unavailable, "cannot create " + options.data_dir + ": " + ec.message()};
  }
  auto db = Db::open(options.data_dir + "/agora.db", options.create_if_missing, options.sqlite_vfs,
                     options.busy_timeout_ms);
  if (!db) return db.status();
  auto version = migrate(**db);
  if (!version) return version.status();
  std::unique_ptr<FileIo> own_io;
  FileIo* io = options.file_io;
  if (!io) {
    own_io = std::make_unique<PosixFileIo>();
    io = own_io.get();
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(options, std::move(*db), std::move(own_io), io));
  if (auto st = store->blobs_.init(); !st.ok()) return st;
  store->schema_version_ = *version;
  return store;
}

std::vector<std::string> SqliteStore::prepared_sql() {
  std::lock_guard lock(mu_);
  return db_->prepared_sql();
}

StoreStatus SqliteStore::check_integrity() {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare("PRAGMA integrity_check");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  std::string findings;
  int rc;
  while ((rc = use->step()) == SQLITE_ROW) {
    const std::string line = use->text(0);
    if (line != "ok") findings += (findings.empty() ? "" : "; ") + line;
  }
  if (rc != SQLITE_DONE) return db_->error(rc, "integrity_check failed to run");
  if (!findings.empty()) return {StoreErrc::internal, "integrity_check: " + findings};
  return {};
}

// ---- accounts -------------------------------------------------------------------------------

namespace {

constexpr const char* kUserCols = "id, name, org_id, password_hash, created_at";
constexpr const char* kKeyCols = "id, user_id, prefix, key_hash, created_at, expires_at, revoked_at";
constexpr const char* kFileCols = "id, owner_id, filename, purpose, bytes, created_at";

User read_user_row(const Stmt& s) {
  return User{s.text(0), s.text(1), s.opt_text(2), s.text(3), s.i64(4)};
}
ApiKey read_key_row(const Stmt& s) {
  return ApiKey{s.text(0), s.text(1), s.text(2), s.text(3), s.i64(4), s.opt_i64(5), s.opt_i64(6)};
}
FileObject read_file_row(const Stmt& s) {
  return FileObject{s.text(0), s.text(1), s.text(2), s.text(3), s.i64(4), s.i64(5)};
}

// Steps a single-row SELECT: the row via `read`, not_found on no row, the error otherwise.
template <typename T, typename ReadRow>
StoreResult<T> one_row(Db& db, Stmt& s, ReadRow read, const std::string& not_found_message) {
  const int rc = s.step();
  if (rc == SQLITE_ROW) return read(s);
  if (rc == SQLITE_DONE) return StoreStatus{StoreErrc::not_found, not_found_message};
  return db.error(rc, "query failed");
}

}  // namespace

StoreResult<Organization> SqliteStore::create_organization(const std::string& name) {
  if (name.empty()) return StoreStatus{StoreErrc::invalid_argument, "organization name is empty"};
  std::lock_guard lock(mu_);
  Organization org{new_id(kOrgIdPrefix), name, unix_now()};
  auto stmt = db_->prepare("INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(org.id, org.name, org.created_at);
  if (auto st = db_->run(*use, "cannot create organization"); !st.ok()) {
    if (st.code() == StoreErrc::conflict) return StoreStatus{StoreErrc::conflict, "organization '" + name + "' already exists"};
    return st;
  }
  return org;
}

StoreResult<Organization> SqliteStore::find_organization(const std::string& name) {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare("SELECT id, name, created_at FROM organizations WHERE name = ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(name);
  return one_row<Organization>(*db_, *use, [](const Stmt& s) { return Organization{s.text(0), s.text(1), s.i64(2)}; },
                               "no organization named '" + name + "'");
}

StoreResult<std::vector<Organization>> SqliteStore::list_organizations() {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare("SELECT id, name, created_at FROM organizations ORDER BY seq");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  std::vector<Organization> out;
  int rc;
  while ((rc = use->step()) == SQLITE_ROW) out.push_back(Organization{use->text(0), use->text(1), use->i64(2)});
  if (rc != SQLITE_DONE) return db_->error(rc, "cannot list organizations");
  return out;
}

StoreResult<User> SqliteStore::create_user(const std::string& name, const std::optional<std::string>& org_id,
                                           const std::string& password_hash) {
  if (name.empty()) return StoreStatus{StoreErrc::invalid_argument, "user name is empty"};
  std::lock_guard lock(mu_);
  User u{new_id(kUserIdPrefix), name, org_id, password_hash, unix_now()};
  auto stmt = db_->prepare("INSERT INTO users (id, name, org_id, password_hash, created_at) VALUES (?, ?, ?, ?, ?)");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(u.id, u.name, u.org_id, u.password_hash, u.created_at);
  if (auto st = db_->run(*use, "cannot create user"); !st.ok()) {
    if (st.code() == StoreErrc::conflict) return StoreStatus{StoreErrc::conflict, "user '" + name + "' already exists"};
    if (st.code() == StoreErrc::not_found) return StoreStatus{StoreErrc::not_found, "no such organization"};
    return st;
  }
  return u;
}

StoreResult<User> SqliteStore::read_user(const char* sql, const std::string& key) {
  auto stmt = db_->prepare(sql);
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(key);
  return one_row<User>(*db_, *use, read_user_row, "no user '" + key + "'");
}

StoreResult<User> SqliteStore::get_user(const std::string& user_id) {
  std::lock_guard lock(mu_);
  return read_user("SELECT id, name, org_id, password_hash, created_at FROM users WHERE id = ?", user_id);
}

StoreResult<User> SqliteStore::find_user(const std::string& name) {
  std::lock_guard lock(mu_);
  return read_user("SELECT id, name, org_id, password_hash, created_at FROM users WHERE name = ?", name);
}

StoreResult<std::vector<User>> SqliteStore::list_users() {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare(std::string("SELECT ") + kUserCols + " FROM users ORDER BY seq");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  std::vector<User> out;
  int rc;
  while ((rc = use->step()) == SQLITE_ROW) out.push_back(read_user_row(*use));
  if (rc != SQLITE_DONE) return db_->error(rc, "cannot list users");
  return out;
}

StoreResult<int64_t> SqliteStore::count_users() {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare("SELECT count(*) FROM users");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  return one_row<int64_t>(*db_, *use, [](const Stmt& s) { return s.i64(0); }, "");
}

StoreResult<ApiKey> SqliteStore::create_api_key(const ApiKey& key) {
  if (key.key_hash.empty() || key.prefix.empty()) return StoreStatus{StoreErrc::invalid_argument, "key hash or prefix is empty"};
  std::lock_guard lock(mu_);
  ApiKey k = key;
  k.id = new_id(kApiKeyIdPrefix);
  k.created_at = unix_now();
  k.revoked_at.reset();
  auto stmt = db_->prepare(
      "INSERT INTO api_keys (id, user_id, prefix, key_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(k.id, k.user_id, k.prefix, k.key_hash, k.created_at, k.expires_at);
  if (auto st = db_->run(*use, "cannot store the API key"); !st.ok()) {
    if (st.code() == StoreErrc::not_found) return StoreStatus{StoreErrc::not_found, "no such user"};
    return st;
  }
  return k;
}

StoreResult<ApiKey> SqliteStore::find_api_key_by_hash(const std::string& key_hash) {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare(std::string("SELECT ") + kKeyCols + " FROM api_keys WHERE key_hash = ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(key_hash);
  return one_row<ApiKey>(*db_, *use, read_key_row, "no such API key");
}

StoreResult<std::vector<ApiKey>> SqliteStore::list_api_keys(const std::string& user_id) {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare(std::string("SELECT ") + kKeyCols + " FROM api_keys WHERE user_id = ? ORDER BY seq");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(user_id);
  std::vector<ApiKey> out;
  int rc;
  while ((rc = use->step()) == SQLITE_ROW) out.push_back(read_key_row(*use));
  if (rc != SQLITE_DONE) return db_->error(rc, "cannot list API keys");
  return out;
}

StoreResult<std::vector<ApiKey>> SqliteStore::find_api_keys(const std::string& id_or_prefix) {
  if (id_or_prefix.empty()) return StoreStatus{StoreErrc::invalid_argument, "empty key id or prefix"};
  std::lock_guard lock(mu_);
  // substr(prefix, 1, length(?)) = ? is a prefix match without LIKE's wildcards.
  auto stmt = db_->prepare(std::string("SELECT ") + kKeyCols +
                           " FROM api_keys WHERE id = ?1 OR substr(prefix, 1, length(?1)) = ?1 ORDER BY seq");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(id_or_prefix);
  std::vector<ApiKey> out;
  int rc;
  while ((rc = use->step()) == SQLITE_ROW) out.push_back(read_key_row(*use));
  if (rc != SQLITE_DONE) return db_->error(rc, "cannot find API keys");
  return out;
}

StoreResult<ApiKey> SqliteStore::revoke_api_key(const std::string& key_id) {
  std::lock_guard lock(mu_);
  {
    auto stmt = db_->prepare("UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?");
    if (!stmt) return stmt.status();
    StmtUse use(*stmt);
    use->bind_all(unix_now(), key_id);
    if (auto st = db_->run(*use, "cannot revoke the API key"); !st.ok()) return st;
    if (db_->changes() == 0) return StoreStatus{StoreErrc::not_found, "no API key '" + key_id + "'"};
  }
  auto stmt = db_->prepare(std::string("SELECT ") + kKeyCols + " FROM api_keys WHERE id = ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(key_id);
  return one_row<ApiKey>(*db_, *use, read_key_row, "no API key '" + key_id + "'");
}

// ---- files ----------------------------------------------------------------------------------

class SqliteFileUpload final : public FileUpload {
 public:
  SqliteFileUpload(SqliteStore* store, FileObject draft, std::unique_ptr<BlobWriter> writer)
      : store_(store), draft_(std::move(draft)), writer_(std::move(writer)) {}

  StoreStatus write(std::string_view bytes) override { return writer_->write(bytes); }
  int64_t bytes_written() const override { return writer_->bytes_written(); }

  StoreResult<FileObject> commit() override {
    auto size = writer_->finish();  // bytes durable under their final name, or an error
    if (!size) return size.status();
    draft_.bytes = *size;
    draft_.created_at = unix_now();
    StoreResult<FileObject> row = [&] {
      std::lock_guard lock(store_->mu_);
      return store_->insert_file_row(draft_);
    }();
    if (!row) store_->blobs_.remove(draft_.id);  // the row did not commit: the bytes must go too
    return row;
  }

 private:
  SqliteStore* store_;
  FileObject draft_;
  std::unique_ptr<BlobWriter> writer_;
};

StoreResult<FileObject> SqliteStore::insert_file_row(const FileObject& f) {
  auto stmt = db_->prepare(
      "INSERT INTO files (id, owner_id, filename, purpose, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?)");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(f.id, f.owner_id, f.filename, f.purpose, f.bytes, f.created_at);
  if (auto st = db_->run(*use, "cannot record the file"); !st.ok()) {
    if (st.code() == StoreErrc::not_found) return StoreStatus{StoreErrc::not_found, "no such owner"};
    return st;
  }
  return f;
}

StoreResult<std::unique_ptr<FileUpload>> SqliteStore::begin_file(const Owner& owner, const std::string& filename,
                                                                 const std::string& purpose) {
  if (filename.empty()) return StoreStatus{StoreErrc::invalid_argument, "filename is empty"};
  if (purpose.empty()) return StoreStatus{StoreErrc::invalid_argument, "purpose is empty"};
  FileObject draft{new_id(kFileIdPrefix), owner.id, filename, purpose, 0, 0};
  auto writer = blobs_.begin(draft.id);
  if (!writer) return writer.status();
  return std::unique_ptr<FileUpload>(new SqliteFileUpload(this, std::move(draft), std::move(*writer)));
}

StoreResult<FileObject> SqliteStore::get_file(const Owner& owner, const std::string& file_id) {
  std::lock_guard lock(mu_);
  auto stmt = db_->prepare(std::string("SELECT ") + kFileCols + " FROM files WHERE owner_id = ? AND id = ?");
  if (!stmt) return stmt.status();
  StmtUse use(*stmt);
  use->bind_all(owner.id, file_id);
  return one_row<FileObject>(*db_, *use, read_file_row, "no file '" + file_id + "'");
}

StoreResult<Page<FileObject>> SqliteStore::list_files(const Owner& owner, const std::string& purpose,
                                                      const PageRequest& page) {
  std::lock_guard lock(mu_);
  Scope scope{"owner_id = ?", {owner.id}};
  if (!purpose.empty()) {
    scope.sql += " AND purpose = ?";
    scope.args.push_back(purpose);
  }
  return page_query<FileObject>(*db_, "files", kFileCols, scope, page, read_file_row);
}

StoreResult<std::unique_ptr<BlobReader>> SqliteStore::open_file_content(const Owner& owner, const std::string& file_id) {
  auto f = get_file(owner, file_id);
  if (!f) return f.status();
  return blobs_.open(f->id);
}

StoreStatus SqliteStore::delete_file(const Owner& owner, const std::string& file_id) {
  {
    std::lock_guard lock(mu_);
    auto stmt = db_->prepare("DELETE FROM files WHERE owner_id = ? AND id = ?");
    if (!stmt) return stmt.status();
    StmtUse use(*stmt);
    use->bind_all(owner.id, file_id);
    if (auto st = db_->run(*use, "cannot delete the file"); !st.ok()) return st;
    if (db_->changes() == 0) return {StoreErrc::not_found, "no file '" + file_id + "'"};
  }
  // The row is gone (committed); bytes left behind by a failure here are an orphan that
  // recover_after_crash removes.
  blobs_.remove(file_id);
  return {};
}

StoreStatus SqliteStore::remove_orphan_blobs(RecoveryReport& report) {
  report.temp_files_removed += blobs_.remove_temp_files();
  // Every id on disk without a row: the crash hit between rename and row commit, or between
  // row delete and unlink. This is a global sweep (all owners) by nature.
  std::set<std::string> known;
  auto stmt = db_->prepare("SELECT id FROM files");  // tenancy: global recovery sweep
  if (!stmt) return stmt.status();
  {
    StmtUse use(*stmt);
    int rc;
    while ((rc = use->step()) == SQLITE_ROW) known.insert(use->text(0));
    if (rc != SQLITE_DONE) return db_->error(rc, "cannot list file ids");
  }
  for (const auto& id : blobs_.list_ids()) {
    if (known.count(id) == 0 && blobs_.remove(id).ok()) ++report.orphan_files_removed;
  }
  return {};
}

// ---- the factory (store.h) ------------------------------------------------------------------

}  // namespace agora::storage::sqlite

namespace agora::storage {

StoreResult<std::unique_ptr<Store>> open_store(const StoreOptions& options) {
  auto s = sqlite::SqliteStore::open(options);
  if (!s) return s.status();
  return std::unique_ptr<Store>(std::move(*s));
}

}  // namespace agora::storage
