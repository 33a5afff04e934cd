#include "platform/storage/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace agora::storage {

int FileIo::create_exclusive(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  return fd < 0 ? -errno : fd;
}

int FileIo::open_read(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

int FileIo::write_all(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return 0;
}

int FileIo::fsync(int fd) { return ::fsync(fd) < 0 ? -errno : 0; }

int FileIo::close(int fd) { return ::close(fd) < 0 ? -errno : 0; }

int FileIo::rename(const std::string& from, const std::string& to) {
  return ::rename(from.c_str(), to.c_str()) < 0 ? -errno : 0;
}

int FileIo::unlink(const std::string& path) { return ::unlink(path.c_str()) < 0 ? -errno : 0; }

int FileIo::fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -errno;
  const int rc = ::fsync(fd) < 0 ? -errno : 0;
  ::close(fd);
  return rc;
}

int FaultyFileIo::write_all(int fd, const char* data, size_t n) {
  if (const int e = write_errno.load()) {
    n_faults.fetch_add(1);
    return -e;
  }
  return FileIo::write_all(fd, data, n);
}

int FaultyFileIo::fsync(int fd) {
  if (const int e = fsync_errno.load()) {
    n_faults.fetch_add(1);
    return -e;
  }
  return FileIo::fsync(fd);
}

int FaultyFileIo::fsync_dir(const std::string& dir) {
  if (const int e = fsync_errno.load()) {
    n_faults.fetch_add(1);
    return -e;
  }
  return FileIo::fsync_dir(dir);
}

}  // namespace agora::storage
