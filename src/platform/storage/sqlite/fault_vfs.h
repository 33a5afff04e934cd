// A fault-injecting SQLite VFS for storage-fault tests (RELIABILITY.md test 7).
//
// It wraps the default VFS and forwards everything, except that while a fault is set, writes
// (xWrite, xTruncate) and syncs (xSync) fail the way a full or failing disk makes them fail:
// ENOSPC → SQLITE_FULL, EIO → SQLITE_IOERR_WRITE / SQLITE_IOERR_FSYNC. Open a Store with
// StoreOptions::sqlite_vfs = the registered name to route its database through it.
//
// SQLite VFSes are process-wide by design, so the plan a VFS consults is too; it is a test hook
// and is never registered by the server.
#pragma once

#include <atomic>

#include "platform/storage/store_status.h"

namespace agora::storage::sqlite {

struct FaultPlan {
  std::atomic<int> write_errno{0};  // non-zero: xWrite/xTruncate fail with it
  std::atomic<int> sync_errno{0};   // non-zero: xSync fails with it
  std::atomic<int> n_faults{0};     // calls failed on purpose
};

// Registers (once per name; later calls with the same name return the same plan) a VFS called
// `name` and returns the plan that controls it. Never unregistered.
StoreResult<FaultPlan*> register_fault_vfs(const char* name);

}  // namespace agora::storage::sqlite
