#include "platform/storage/sqlite/fault_vfs.h"

#include <sqlite3.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace agora::storage::sqlite {

namespace {

// One wrapped VFS; SQLite hands `vfs` back to every callback, and vfs.pAppData points here.
struct FaultVfs {
  sqlite3_vfs vfs;
  sqlite3_vfs* real;
  FaultPlan plan;
  std::string name;
};

// Our file object: the sqlite3_file header, then the real VFS's file object right after it.
struct FaultFile {
  sqlite3_file base;
  FaultPlan* plan;
  sqlite3_file* real;
};

sqlite3_file* real_of(sqlite3_file* f) { return reinterpret_cast<FaultFile*>(f)->real; }
FaultPlan* plan_of(sqlite3_file* f) { return reinterpret_cast<FaultFile*>(f)->plan; }

int write_fault(FaultPlan* plan) {
  const int e = plan->write_errno.load();
  if (e == 0) return SQLITE_OK;
  plan->n_faults.fetch_add(1);
  return (e == ENOSPC || e == EDQUOT) ? SQLITE_FULL : SQLITE_IOERR_WRITE;
}

int x_close(sqlite3_file* f) {
  sqlite3_file* r = real_of(f);
  const int rc = r->pMethods ? r->pMethods->xClose(r) : SQLITE_OK;
  return rc;
}
int x_read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return real_of(f)->pMethods->xRead(real_of(f), buf, n, off);
}
int x_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  if (int rc = write_fault(plan_of(f)); rc != SQLITE_OK) return rc;
  return real_of(f)->pMethods->xWrite(real_of(f), buf, n, off);
}
int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (int rc = write_fault(plan_of(f)); rc != SQLITE_OK) return rc;
  return real_of(f)->pMethods->xTruncate(real_of(f), size);
}
int x_sync(sqlite3_file* f, int flags) {
  FaultPlan* plan = plan_of(f);
  if (const int e = plan->sync_errno.load()) {
    plan->n_faults.fetch_add(1);
    return (e == ENOSPC || e == EDQUOT) ? SQLITE_FULL : SQLITE_IOERR_FSYNC;
  }
  return real_of(f)->pMethods->xSync(real_of(f), flags);
}
int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  return real_of(f)->pMethods->xFileSize(real_of(f), size);
}
int x_lock(sqlite3_file* f, int level) { return real_of(f)->pMethods->xLock(real_of(f), level); }
int x_unlock(sqlite3_file* f, int level) { return real_of(f)->pMethods->xUnlock(real_of(f), level); }
int x_check_reserved(sqlite3_file* f, int* out) {
  return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
  return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
int x_sector_size(sqlite3_file* f) { return real_of(f)->pMethods->xSectorSize(real_of(f)); }
int x_device_chars(sqlite3_file* f) {
  return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}
int x_shm_map(sqlite3_file* f, int pg, int pgsz, int extend, void volatile** pp) {
  return real_of(f)->pMethods->xShmMap(real_of(f), pg, pgsz, extend, pp);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) { real_of(f)->pMethods->xShmBarrier(real_of(f)); }
int x_shm_unmap(sqlite3_file* f, int del) { return real_of(f)->pMethods->xShmUnmap(real_of(f), del); }
int x_fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** pp) {
  return real_of(f)->pMethods->xFetch(real_of(f), off, n, pp);
}
int x_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return real_of(f)->pMethods->xUnfetch(real_of(f), off, p);
}

// The method table we hand out depends on the real file's version (WAL needs the xShm* ones).
const sqlite3_io_methods kMethodsV3 = {
    3,        x_close,  x_read,           x_write,        x_truncate,     x_sync,
    x_file_size, x_lock, x_unlock,         x_check_reserved, x_file_control, x_sector_size,
    x_device_chars, x_shm_map, x_shm_lock, x_shm_barrier,  x_shm_unmap,    x_fetch,
    x_unfetch,
};
const sqlite3_io_methods kMethodsV1 = {
    1,        x_close,  x_read,  x_write,  x_truncate,       x_sync,         x_file_size,
    x_lock,   x_unlock, x_check_reserved, x_file_control, x_sector_size, x_device_chars,
    nullptr,  nullptr,  nullptr, nullptr,  nullptr,          nullptr,
};

FaultVfs* self_of(sqlite3_vfs* v) { return static_cast<FaultVfs*>(v->pAppData); }

int v_open(sqlite3_vfs* v, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  FaultVfs* self = self_of(v);
  auto* ff = reinterpret_cast<FaultFile*>(f);
  ff->base.pMethods = nullptr;
  ff->plan = &self->plan;
  ff->real = reinterpret_cast<sqlite3_file*>(ff + 1);
  std::memset(ff->real, 0, static_cast<size_t>(self->real->szOsFile));
  const int rc = self->real->xOpen(self->real, name, ff->real, flags, out_flags);
  if (ff->real->pMethods) {
    ff->base.pMethods = ff->real->pMethods->iVersion >= 3 ? &kMethodsV3 : &kMethodsV1;
  }
  return rc;
}
int v_delete(sqlite3_vfs* v, const char* name, int sync_dir) {
  return self_of(v)->real->xDelete(self_of(v)->real, name, sync_dir);
}
int v_access(sqlite3_vfs* v, const char* name, int flags, int* out) {
  return self_of(v)->real->xAccess(self_of(v)->real, name, flags, out);
}
int v_full_pathname(sqlite3_vfs* v, const char* name, int n, char* out) {
  return self_of(v)->real->xFullPathname(self_of(v)->real, name, n, out);
}
void* v_dl_open(sqlite3_vfs* v, const char* name) { return self_of(v)->real->xDlOpen(self_of(v)->real, name); }
void v_dl_error(sqlite3_vfs* v, int n, char* msg) { self_of(v)->real->xDlError(self_of(v)->real, n, msg); }
void (*v_dl_sym(sqlite3_vfs* v, void* h, const char* sym))(void) {
  return self_of(v)->real->xDlSym(self_of(v)->real, h, sym);
}
void v_dl_close(sqlite3_vfs* v, void* h) { self_of(v)->real->xDlClose(self_of(v)->real, h); }
int v_randomness(sqlite3_vfs* v, int n, char* out) { return self_of(v)->real->xRandomness(self_of(v)->real, n, out); }
int v_sleep(sqlite3_vfs* v, int us) { return self_of(v)->real->xSleep(self_of(v)->real, us); }
int v_current_time(sqlite3_vfs* v, double* out) { return self_of(v)->real->xCurrentTime(self_of(v)->real, out); }
int v_last_error(sqlite3_vfs* v, int n, char* out) { return self_of(v)->real->xGetLastError(self_of(v)->real, n, out); }
int v_current_time64(sqlite3_vfs* v, sqlite3_int64* out) {
  return self_of(v)->real->xCurrentTimeInt64(self_of(v)->real, out);
}

std::mutex g_mu;
// Registered VFSes live for the process (SQLite keeps pointers to them).
std::map<std::string, std::unique_ptr<FaultVfs>>& registry() {
  static auto* r = new std::map<std::string, std::unique_ptr<FaultVfs>>();
  return *r;
}

}  // namespace

StoreResult<FaultPlan*> register_fault_vfs(const char* name) {
  std::lock_guard lock(g_mu);
  auto& reg = registry();
  if (auto it = reg.find(name); it != reg.end()) return &it->second->plan;
  sqlite3_initialize();
  sqlite3_vfs* real = sqlite3_vfs_find(nullptr);
  if (!real) return StoreStatus{StoreErrc::internal, "no default SQLite VFS"};
  auto self = std::make_unique<FaultVfs>();
  self->real = real;
  self->name = name;
  sqlite3_vfs& v = self->vfs;
  std::memset(&v, 0, sizeof(v));
  v.iVersion = 2;
  v.szOsFile = static_cast<int>(sizeof(FaultFile)) + real->szOsFile;
  v.mxPathname = real->mxPathname;
  v.zName = self->name.c_str();
  v.pAppData = self.get();
  v.xOpen = v_open;
  v.xDelete = v_delete;
  v.xAccess = v_access;
  v.xFullPathname = v_full_pathname;
  v.xDlOpen = v_dl_open;
  v.xDlError = v_dl_error;
  v.xDlSym = v_dl_sym;
  v.xDlClose = v_dl_close;
  v.xRandomness = v_randomness;
  v.xSleep = v_sleep;
  v.xCurrentTime = v_current_time;
  v.xGetLastError = v_last_error;
  v.xCurrentTimeInt64 = v_current_time64;
  if (const int rc = sqlite3_vfs_register(&v, /*makeDflt=*/0); rc != SQLITE_OK) {
    return StoreStatus{StoreErrc::internal, std::string("cannot register the fault VFS: ") + sqlite3_errstr(rc)};
  }
  FaultPlan* plan = &self->plan;
  reg.emplace(name, std::move(self));
  return plan;
}

}  // namespace agora::storage::sqlite
