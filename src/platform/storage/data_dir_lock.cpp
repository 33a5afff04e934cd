#include "platform/storage/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "platform/storage/blob_store.h"

namespace agora::storage {

StoreResult<std::unique_ptr<DataDirLock>> DataDirLock::acquire(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  const std::string path = data_dir + "/server.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return StoreStatus{StoreErrc::unavailable, "cannot open " + path + ": " + errno_text(errno)};
  if (::flock(fd, LOCK_EX | LOCK_NB) < 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return StoreStatus{StoreErrc::conflict, "another agora server is using the data directory " + data_dir};
    }
    return StoreStatus{StoreErrc::unavailable, "cannot lock " + path + ": " + errno_text(err)};
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace agora::storage
