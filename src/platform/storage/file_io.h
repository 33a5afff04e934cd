// The few POSIX calls that put file bytes on disk, behind an interface so that tests can make
// them fail (ENOSPC, EIO) the way a full or failing disk does (RELIABILITY.md test 7).
//
// Every function returns 0 / a non-negative value on success and -errno on failure; none throws.
// Thread-safety: PosixFileIo is stateless; FaultyFileIo's fault settings are atomics, so a test
// may flip them while other threads write.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <string>

namespace agora::storage {

class FileIo {
 public:
  virtual ~FileIo() = default;
  // Creates `path` exclusively (O_CREAT|O_EXCL, mode 0600). Returns the fd or -errno.
  virtual int create_exclusive(const std::string& path);
  virtual int open_read(const std::string& path);  // fd or -errno
  // Writes all `n` bytes (retrying short writes and EINTR). Returns 0 or -errno.
  virtual int write_all(int fd, const char* data, size_t n);
  virtual int fsync(int fd);
  virtual int close(int fd);
  virtual int rename(const std::string& from, const std::string& to);
  virtual int unlink(const std::string& path);
  // fsync of a directory, so that a rename or unlink inside it is durable.
  virtual int fsync_dir(const std::string& dir);
};

// The real thing.
class PosixFileIo final : public FileIo {};

// Injects errors: while `write_errno` / `fsync_errno` is non-zero, write_all / fsync (and
// fsync_dir) fail with that errno (and write nothing). Set back to 0 to heal.
class FaultyFileIo final : public FileIo {
 public:
  std::atomic<int> write_errno{0};
  std::atomic<int> fsync_errno{0};
  std::atomic<int> n_faults{0};  // how many calls failed on purpose

  int write_all(int fd, const char* data, size_t n) override;
  int fsync(int fd) override;
  int fsync_dir(const std::string& dir) override;
};

}  // namespace agora::storage
