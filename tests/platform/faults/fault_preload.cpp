// An LD_PRELOAD shim for the API-level storage-fault test (RELIABILITY.md test 7): while the file
// named by $AGORA_FAULT_FLAG exists, every write and sync to a file under $AGORA_FAULT_DIR fails
// with the errno written in the flag file ("ENOSPC" or "EIO"). Everything else passes through.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

namespace {

// The errno to fail with for this fd, or 0.
int fault_for(int fd) {
  const char* flag = getenv("AGORA_FAULT_FLAG");
  const char* dir = getenv("AGORA_FAULT_DIR");
  if (!flag || !dir || !*dir) return 0;
  struct stat st;
  if (stat(flag, &st) != 0) return 0;
  char link[64], target[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, target, sizeof target - 1);
  if (n <= 0) return 0;
  target[n] = '\0';
  if (strncmp(target, dir, strlen(dir)) != 0) return 0;
  char what[16] = {};
  const int f = open(flag, O_RDONLY | O_CLOEXEC);
  if (f >= 0) {
    (void)!read(f, what, sizeof what - 1);
    close(f);
  }
  return strncmp(what, "ENOSPC", 6) == 0 ? ENOSPC : EIO;
}

template <typename Fn>
Fn real(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" {

ssize_t write(int fd, const void* buf, size_t n) {
  static auto fn = real<ssize_t (*)(int, const void*, size_t)>("write");
  if (const int e = fault_for(fd)) return errno = e, -1;
  return fn(fd, buf, n);
}
ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
  static auto fn = real<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  if (const int e = fault_for(fd)) return errno = e, -1;
  return fn(fd, buf, n, off);
}
ssize_t pwrite64(int fd, const void* buf, size_t n, off64_t off) {
  static auto fn = real<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
  if (const int e = fault_for(fd)) return errno = e, -1;
  return fn(fd, buf, n, off);
}
ssize_t writev(int fd, const struct iovec* iov, int cnt) {
  static auto fn = real<ssize_t (*)(int, const struct iovec*, int)>("writev");
  if (const int e = fault_for(fd)) return errno = e, -1;
  return fn(fd, iov, cnt);
}
int fsync(int fd) {
  static auto fn = real<int (*)(int)>("fsync");
  if (const int e = fault_for(fd)) return errno = e, -1;
  return fn(fd);
}
int fdatasync(int fd) {
  static auto fn = real<int (*)(int)>("fdatasync");
  if (const int e = fault_for(fd)) return errno = e, -1;
  return fn(fd);
}

}  // extern "C"
