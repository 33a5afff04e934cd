// An exclusive advisory lock on a data directory (flock on DATA/server.lock), held by the one
// server process that runs crash recovery and owns the run loop. `agora admin` does not take it:
// admin commands share the database with a running server through SQLite's own locking.
#pragma once

#include <memory>
#include <string>

#include "platform/storage/store_status.h"

namespace agora::storage {

class DataDirLock {
 public:
  // conflict when another process holds it; unavailable when the lock file cannot be opened.
  static StoreResult<std::unique_ptr<DataDirLock>> acquire(const std::string& data_dir);
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace agora::storage
