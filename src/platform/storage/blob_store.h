// File bytes on local disk, one file per object under DATA/files/, shared by every Store backend.
//
// Write protocol (so that a crash never leaves a half-written object visible):
//   1. bytes stream into DATA/files/.tmp-<id>-<random> (created exclusively, never read by anyone);
//   2. finish(): fsync the file, close it, rename it to DATA/files/<id>, fsync the directory;
//   3. only then does the Store commit the database row that makes <id> visible.
// A crash before 3 leaves a temp file or an unreferenced final file; Store::recover_after_crash
// removes both. Deleting goes the other way round: row first, then the bytes.
//
// Thread-safety: a BlobStore may be shared by threads; each BlobWriter/BlobReader belongs to one.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "platform/storage/file_io.h"
#include "platform/storage/store_status.h"

namespace agora::storage {

// An upload in progress. Destroying it without finish() removes the temp file.
class BlobWriter {
 public:
  BlobWriter(FileIo* io, std::string dir, std::string id, std::string tmp_path, int fd, int64_t max_bytes);
  ~BlobWriter();
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  // Appends bytes. too_large once the total would pass the limit; unavailable on a write error.
  // After any error the writer is dead: every later call fails and the temp file is gone.
  StoreStatus write(std::string_view bytes);
  // Makes the bytes durable under their final name (steps 2 above). Returns the size.
  StoreResult<int64_t> finish();
  int64_t bytes_written() const { return n_bytes_; }
  const std::string& id() const { return id_; }

 private:
  void discard();

  FileIo* io_;
  std::string dir_, id_, tmp_path_;
  int fd_ = -1;
  int64_t max_bytes_;
  int64_t n_bytes_ = 0;
  bool dead_ = false;
};

// Reads a stored object (an open descriptor: stays readable even if the object is deleted meanwhile).
class BlobReader {
 public:
  BlobReader(int fd, int64_t size) : fd_(fd), size_(size) {}
  ~BlobReader();
  BlobReader(const BlobReader&) = delete;
  BlobReader& operator=(const BlobReader&) = delete;

  int64_t size() const { return size_; }
  // Reads up to n bytes; 0 at the end.
  StoreResult<size_t> read(char* buf, size_t n);
  // The whole remaining content (for small files and tests).
  StoreResult<std::string> read_all();

 private:
  int fd_;
  int64_t size_;
};

class BlobStore {
 public:
  // `dir` is DATA/files; `io` must outlive the store.
  BlobStore(std::string dir, FileIo* io, int64_t max_bytes);

  // Creates the directory if needed.
  StoreStatus init();
  StoreResult<std::unique_ptr<BlobWriter>> begin(const std::string& id);
  StoreResult<std::unique_ptr<BlobReader>> open(const std::string& id) const;
  // Removes the object's bytes (absent is fine) and makes the removal durable.
  StoreStatus remove(const std::string& id);

  // Recovery helpers (call only when no upload is in progress, i.e. at server start).
  int remove_temp_files();                     // returns how many were removed
  std::vector<std::string> list_ids() const;   // names of final objects

  const std::string& dir() const { return dir_; }
  std::string path_of(const std::string& id) const { return dir_ + "/" + id; }
  int64_t max_bytes() const { return max_bytes_; }

 private:
  std::string dir_;
  FileIo* io_;
  int64_t max_bytes_;
};

// "disk full (ENOSPC)"-style text for an errno.
std::string errno_text(int err);

}  // namespace agora::storage
