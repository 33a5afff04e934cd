#include "platform/storage/blob_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "platform/storage/ids.h"

namespace agora::storage {

namespace {
constexpr std::string_view kTempPrefix = ".tmp-";

StoreStatus io_failure(const std::string& what, int err) {
  return {StoreErrc::unavailable, what + ": " + errno_text(err)};
}
}  // namespace

std::string errno_text(int err) {
  const char* name = err == ENOSPC ? "ENOSPC" : err == EIO ? "EIO" : err == EDQUOT ? "EDQUOT" : nullptr;
  std::string s = std::strerror(err);
  if (name) s += std::string(" (") + name + ")";
  return s;
}

// ---- BlobWriter -----------------------------------------------------------------------------

BlobWriter::BlobWriter(FileIo* io, std::string dir, std::string id, std::string tmp_path, int fd,
                       int64_t max_bytes)
    : io_(io), dir_(std::move(dir)), id_(std::move(id)), tmp_path_(std::move(tmp_path)), fd_(fd),
      max_bytes_(max_bytes) {}

BlobWriter::~BlobWriter() { discard(); }

void BlobWriter::discard() {
  if (fd_ >= 0) {
    io_->close(fd_);
    fd_ = -1;
  }
  if (!tmp_path_.empty()) {
    io_->unlink(tmp_path_);
    tmp_path_.clear();
  }
  dead_ = true;
}

StoreStatus BlobWriter::write(std::string_view bytes) {
  if (dead_) return {StoreErrc::invalid_argument, "the upload has already failed or finished"};
  if (static_cast<int64_t>(bytes.size()) > max_bytes_ - n_bytes_) {
    discard();
    return {StoreErrc::too_large, "file is larger than the limit of " + std::to_string(max_bytes_) + " bytes"};
  }
  if (const int rc = io_->write_all(fd_, bytes.data(), bytes.size()); rc < 0) {
    discard();
    return io_failure("cannot write file bytes", -rc);
  }
  n_bytes_ += static_cast<int64_t>(bytes.size());
  return {};
}

StoreResult<int64_t> BlobWriter::finish() {
  if (dead_) return StoreStatus{StoreErrc::invalid_argument, "the upload has already failed or finished"};
  if (const int rc = io_->fsync(fd_); rc < 0) {
    discard();
    return io_failure("cannot fsync file bytes", -rc);
  }
  const int rc_close = io_->close(fd_);
  fd_ = -1;
  if (rc_close < 0) {
    discard();
    return io_failure("cannot close file", -rc_close);
  }
  const std::string final_path = dir_ + "/" + id_;
  if (const int rc = io_->rename(tmp_path_, final_path); rc < 0) {
    discard();
    return io_failure("cannot rename file into place", -rc);
  }
  tmp_path_.clear();
  if (const int rc = io_->fsync_dir(dir_); rc < 0) {
    // The rename may or may not survive a crash: remove the object, report the failure.
    io_->unlink(final_path);
    dead_ = true;
    return io_failure("cannot fsync the files directory", -rc);
  }
  dead_ = true;  // finished: nothing more to write
  return n_bytes_;
}

// ---- BlobReader -----------------------------------------------------------------------------

BlobReader::~BlobReader() {
  if (fd_ >= 0) ::close(fd_);
}

StoreResult<size_t> BlobReader::read(char* buf, size_t n) {
  for (;;) {
    const ssize_t r = ::read(fd_, buf, n);
    if (r >= 0) return static_cast<size_t>(r);
    if (errno != EINTR) return StoreStatus{StoreErrc::unavailable, "cannot read file bytes: " + errno_text(errno)};
  }
}

StoreResult<std::string> BlobReader::read_all() {
  std::string out;
  char buf[64 * 1024];
  for (;;) {
    auto r = read(buf, sizeof(buf));
    if (!r) return r.status();
    if (*r == 0) return out;
    out.append(buf, *r);
  }
}

// ---- BlobStore ------------------------------------------------------------------------------

BlobStore::BlobStore(std::string dir, FileIo* io, int64_t max_bytes)
    : dir_(std::move(dir)), io_(io), max_bytes_(max_bytes) {}

StoreStatus BlobStore::init() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return {StoreErrc::unavailable, "cannot create " + dir_ + ": " + ec.message()};
  return {};
}

StoreResult<std::unique_ptr<BlobWriter>> BlobStore::begin(const std::string& id) {
  const std::string tmp = dir_ + "/" + std::string(kTempPrefix) + id + "-" + random_base62(8);
  const int fd = io_->create_exclusive(tmp);
  if (fd < 0) return io_failure("cannot create a temporary file in " + dir_, -fd);
  return std::make_unique<BlobWriter>(io_, dir_, id, tmp, fd, max_bytes_);
}

StoreResult<std::unique_ptr<BlobReader>> BlobStore::open(const std::string& id) const {
  const int fd = io_->open_read(path_of(id));
  if (fd < 0) {
    if (fd == -ENOENT) return StoreStatus{StoreErrc::internal, "file bytes of " + id + " are missing"};
    return io_failure("cannot open file bytes", -fd);
  }
  struct stat st {};
  if (::fstat(fd, &st) < 0) {
    const int err = errno;
    ::close(fd);
    return io_failure("cannot stat file bytes", err);
  }
  return std::make_unique<BlobReader>(fd, static_cast<int64_t>(st.st_size));
}

StoreStatus BlobStore::remove(const std::string& id) {
  const int rc = io_->unlink(path_of(id));
  if (rc < 0 && rc != -ENOENT) return io_failure("cannot remove file bytes", -rc);
  if (const int rc_dir = io_->fsync_dir(dir_); rc_dir < 0) return io_failure("cannot fsync the files directory", -rc_dir);
  return {};
}

int BlobStore::remove_temp_files() {
  int n = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kTempPrefix, 0) == 0 && io_->unlink(entry.path().string()) == 0) ++n;
  }
  if (n > 0) io_->fsync_dir(dir_);
  return n;
}

std::vector<std::string> BlobStore::list_ids() const {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kTempPrefix, 0) != 0) ids.push_back(name);
  }
  return ids;
}

}  // namespace agora::storage
