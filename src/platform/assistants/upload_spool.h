// UploadSpool: a nameless temporary file for upload bytes that arrive before the request has said
// where they belong. multipart/form-data carries `purpose` as its own part, and the openai npm SDK
// sends it after the `file` part, while the Store needs the purpose to begin a file
// (Store::begin_file). Such bytes are spooled here and copied into the FileUpload once the purpose
// is known; an upload that names its purpose first streams straight into the Store.
// TODO(upload-purpose): a FileUpload whose purpose is set at commit would make this copy unneeded.
//
// The file is created with O_TMPFILE (or created and unlinked at once where the file system lacks
// it, named .tmp-spool-… so that crash recovery would sweep it), so no path ever shows it and it
// vanishes with its descriptor, a killed process included. One spool belongs to one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "platform/storage/store_status.h"

namespace agora::platform::assistants {

class UploadSpool {
 public:
  // A new empty spool in `dir` (empty: the system's temporary directory); unavailable on failure.
  static storage::StoreResult<std::unique_ptr<UploadSpool>> create(const std::string& dir);
  ~UploadSpool();
  UploadSpool(const UploadSpool&) = delete;
  UploadSpool& operator=(const UploadSpool&) = delete;

  storage::StoreStatus write(std::string_view bytes);
  // Up to `n` bytes from `offset`; 0 at the end.
  storage::StoreResult<size_t> read_at(int64_t offset, char* buf, size_t n) const;
  int64_t size() const { return size_; }

 private:
  explicit UploadSpool(int fd) : fd_(fd) {}
  int fd_;
  int64_t size_ = 0;
};

}  // namespace agora::platform::assistants
