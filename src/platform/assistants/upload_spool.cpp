#include "platform/assistants/upload_spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "platform/storage/blob_store.h"

namespace agora::platform::assistants {

namespace {
storage::StoreStatus failure(const std::string& what, int err) {
  return {storage::StoreErrc::unavailable, what + ": " + storage::errno_text(err)};
}
}  // namespace

storage::StoreResult<std::unique_ptr<UploadSpool>> UploadSpool::create(const std::string& dir_in) {
  std::string dir = dir_in;
  if (dir.empty()) {
    std::error_code ec;
    dir = std::filesystem::temp_directory_path(ec).string();
    if (ec) dir = "/tmp";
  }
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    std::string path = dir + "/.tmp-spool-XXXXXX";
    fd = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd >= 0) ::unlink(path.c_str());
  }
  if (fd < 0) return failure("cannot create an upload spool in " + dir, errno);
  return std::unique_ptr<UploadSpool>(new UploadSpool(fd));
}

UploadSpool::~UploadSpool() { ::close(fd_); }

storage::StoreStatus UploadSpool::write(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(fd_, bytes.data(), bytes.size(), size_);
    if (n < 0) {
      if (errno == EINTR) continue;
      return failure("cannot spool upload bytes", errno);
    }
    size_ += n;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

storage::StoreResult<size_t> UploadSpool::read_at(int64_t offset, char* buf, size_t n) const {
  for (;;) {
    const ssize_t r = ::pread(fd_, buf, n, offset);
    if (r >= 0) return static_cast<size_t>(r);
    if (errno != EINTR) return failure("cannot read spooled upload bytes", errno);
  }
}

}  // namespace agora::platform::assistants
