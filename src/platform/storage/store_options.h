// How to open a Store: where the data lives and the storage limits (each with its default).
#pragma once

#include <cstdint>
#include <string>

namespace agora::storage {

class FileIo;

inline constexpr const char* kDefaultDataDir = "./data";
inline constexpr int64_t kDefaultMaxFileBytes = 512LL * 1024 * 1024;  // one uploaded file
inline constexpr int kDefaultBusyTimeoutMs = 5000;  // wait for another process's write lock

struct StoreOptions {
  // The data directory: DATA/agora.db (+ -wal, -shm) and DATA/files/.
  std::string data_dir = kDefaultDataDir;
  // Create the directory and an empty database when missing; otherwise opening a missing
  // directory is not_found (the admin commands that only read use this).
  bool create_if_missing = true;
  int64_t max_file_bytes = kDefaultMaxFileBytes;
  int busy_timeout_ms = kDefaultBusyTimeoutMs;
  // Test hooks for storage faults (RELIABILITY.md test 7): the SQLite VFS to open the database
  // with (empty = the default VFS; see sqlite/fault_vfs.h) and the file-bytes I/O layer
  // (nullptr = real POSIX calls; the pointee must outlive the Store).
  std::string sqlite_vfs;
  FileIo* file_io = nullptr;
};

}  // namespace agora::storage
