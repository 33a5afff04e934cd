#include "platform/model_pull.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

namespace agora::platform {

namespace fs = std::filesystem;

namespace {

// ---- RAII for the C handles (STYLE.md rule 5) -------------------------------------------------
struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;
struct MdDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return std::string(s);
}

// An ETag value without W/ and quotes, lower-cased when it is a SHA-256.
std::string etag_value(std::string v) {
  v = trim(v);
  if (v.starts_with("W/")) v.erase(0, 2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return is_sha256_hex(v) ? lower(v) : v;
}

// Percent-encodes one path segment (RFC 3986 unreserved characters stay).
std::string encode_segment(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t p = s.find(sep, start);
    parts.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return parts;
}

bool is_url(const std::string& s) {
  return s.starts_with("http://") || s.starts_with("https://");
}

// The file name the download is saved under.
std::string file_name_of(const std::string& url) {
  std::string path = url.substr(0, url.find_first_of("?#"));
  return path.substr(path.rfind('/') + 1);
}

std::string human_bytes(int64_t n) {
  char buf[32];
  if (n >= (int64_t{1} << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", n / double(int64_t{1} << 30));
  else if (n >= (1 << 20))
    std::snprintf(buf, sizeof buf, "%.1f MiB", n / double(1 << 20));
  else if (n >= 1024)
    std::snprintf(buf, sizeof buf, "%.1f KiB", n / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(n));
  return buf;
}

// ---- one HTTP transfer into the .part file ------------------------------------------------------
// Header and body callbacks run on the calling thread inside curl_easy_perform.
struct Transfer {
  std::string part_path;
  int64_t offset = 0;  // bytes already in .part when the request was sent (Range start)
  const PullProgressFn* progress = nullptr;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  // The response being received (reset at each status line: redirects produce several).
  long status = 0;
  int64_t range_start = -1, range_total = -1;  // Content-Range: bytes START-END/TOTAL (or */TOTAL)
  int64_t content_length = -1;
  std::string etag;
  std::string
      linked_etag;  // X-Linked-Etag of any response in the chain (Hugging Face's LFS sha256)
  // The body.
  bool body_started = false;
  bool writing = false;  // body goes to the file (2xx); otherwise kept as error text
  Fd fd;
  int64_t written = 0;     // body bytes written by this transfer
  std::string error_text;  // first bytes of a non-2xx body
  Status failure;          // set when a callback aborted the transfer
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    const size_t sp = line.find(' ');
    t.status = sp == std::string_view::npos
                   ? 0
                   : std::strtol(std::string(line.substr(sp + 1, 3)).c_str(), nullptr, 10);
    t.range_start = t.range_total = t.content_length = -1;
    t.etag.clear();
    return size * n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  const std::string name = lower(std::string(line.substr(0, colon)));
  const std::string value = trim(line.substr(colon + 1));
  if (name == "content-length") {
    t.content_length = std::strtoll(value.c_str(), nullptr, 10);
  } else if (name == "etag") {
    t.etag = etag_value(value);
  } else if (name == "x-linked-etag") {
    t.linked_etag = etag_value(value);
  } else if (name == "content-range" && value.starts_with("bytes ")) {
    const std::string r = value.substr(6);
    if (const size_t slash = r.find('/'); slash != std::string::npos) {
      if (r[0] != '*') t.range_start = std::strtoll(r.c_str(), nullptr, 10);
      if (r.compare(slash + 1, 1, "*") != 0)
        t.range_total = std::strtoll(r.c_str() + slash + 1, nullptr, 10);
    }
  }
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const size_t len = size * n;
  if (!t.body_started) {
    t.body_started = true;
    if (t.status == 206) {
      if (t.range_start != t.offset) {
        t.failure =
            Status(ErrorCode::io_error, "the server answered the resume request with bytes from " +
                                            std::to_string(t.range_start) + " instead of " +
                                            std::to_string(t.offset));
        return 0;
      }
      t.fd = Fd(::open(t.part_path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
      t.writing = true;
    } else if (t.status == 200) {
      t.offset = 0;  // the server ignored the range (or none was asked): start over
      t.fd = Fd(::open(t.part_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
      t.writing = true;
    }
    if (t.writing && t.fd.get() < 0) {
      t.failure =
          Status(ErrorCode::io_error, "cannot open " + t.part_path + ": " + std::strerror(errno));
      return 0;
    }
  }
  if (!t.writing) {
    if (t.error_text.size() < 300)
      t.error_text.append(data, std::min<size_t>(len, 300 - t.error_text.size()));
    return len;
  }
  size_t off = 0;
  while (off < len) {
    const ssize_t w = ::write(t.fd.get(), data + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      t.failure =
          Status(ErrorCode::io_error, "cannot write " + t.part_path + ": " + std::strerror(errno));
      return 0;
    }
    off += static_cast<size_t>(w);
  }
  t.written += static_cast<int64_t>(len);
  return len;
}

int on_progress(void* user, curl_off_t dltotal, curl_off_t, curl_off_t, curl_off_t) {
  auto& t = *static_cast<Transfer*>(user);
  if (!t.progress || !*t.progress || !t.writing) return 0;
  PullProgress p;
  p.resumed_from = t.offset;
  p.received = t.offset + t.written;
  p.total = t.range_total > 0 ? t.range_total : (dltotal > 0 ? t.offset + dltotal : -1);
  p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t.t0).count();
  (*t.progress)(p);
  return 0;
}

// A one-line reason for a non-2xx status.
std::string http_failure(long status, const std::string& url, const std::string& body) {
  std::string msg = "HTTP " + std::to_string(status) + " from " + url;
  if (status == 404)
    msg += " (no such file: check the repository and file name, or --from)";
  else if (status == 401 || status == 403)
    msg += " (access denied: a gated or private repository needs HF_TOKEN)";
  std::string first = body.substr(0, body.find('\n'));
  if (!first.empty() && first.size() < 200 && status != 404) msg += ": " + trim(first);
  return msg;
}

void fsync_dir(const fs::path& dir) {
  Fd d(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.get() >= 0) ::fsync(d.get());
}

}  // namespace

bool is_sha256_hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

Result<std::string> sha256_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0)
    return Status(ErrorCode::io_error, "cannot open " + path + ": " + std::strerror(errno));
  std::unique_ptr<EVP_MD_CTX, MdDeleter> md(EVP_MD_CTX_new());
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1)
    return Status(ErrorCode::internal, "sha256 unavailable");
  std::vector<char> buf(1 << 20);
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return Status(ErrorCode::io_error, "cannot read " + path + ": " + std::strerror(errno));
    if (n == 0) break;
    EVP_DigestUpdate(md.get(), buf.data(), static_cast<size_t>(n));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(md.get(), digest, &len);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

Result<std::string> pull_url(const PullOptions& o) {
  if (is_url(o.spec)) return o.spec;
  const auto parts = split(o.spec, '/');
  bool bad = parts.size() < 3;
  for (const auto& p : parts) bad = bad || p.empty() || p == "." || p == "..";
  if (bad)
    return Status(
        ErrorCode::invalid_argument,
        "'" + o.spec + "' is not OWNER/NAME/FILE.gguf (e.g. " +
            "Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf) or a URL");
  std::string base = o.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (!is_url(base))
    return Status(ErrorCode::invalid_argument,
                  "--from must be an http:// or https:// URL, not '" + o.base_url + "'");
  std::string url = base + "/" + encode_segment(parts[0]) + "/" + encode_segment(parts[1]) +
                    "/resolve/" + encode_segment(o.revision);
  for (size_t i = 2; i < parts.size(); ++i) url += "/" + encode_segment(parts[i]);
  return url;
}

Result<PullResult> pull_model(const PullOptions& o, const PullProgressFn& progress) {
  auto url = pull_url(o);
  if (!url.ok()) return url.status();
  std::string expected = lower(o.sha256);
  if (!expected.empty() && !is_sha256_hex(expected))
    return Status(ErrorCode::invalid_argument, "--sha256 must be 64 hex digits");
  std::string name = is_url(o.spec) ? file_name_of(o.spec) : o.spec.substr(o.spec.rfind('/') + 1);
  if (name.empty() || name == "." || name == ".." || !lower(name).ends_with(".gguf"))
    return Status(ErrorCode::invalid_argument, "'" + o.spec + "' does not name a .gguf file");

  PullResult res;
  res.url = url.value();
  const fs::path dir = o.models_dir.empty() ? fs::path(".") : fs::path(o.models_dir);
  const fs::path final_path = dir / name;
  const std::string part_path = final_path.string() + ".part";
  res.path = final_path.string();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status(ErrorCode::io_error, "cannot create " + dir.string() + ": " + ec.message());
  if (!o.force && fs::exists(final_path, ec)) {
    res.already_present = true;
    res.bytes = static_cast<int64_t>(fs::file_size(final_path, ec));
    return res;
  }

  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });

  // At most two transfers: a resume the server refuses with 416 (the .part does not fit the
  // file) is retried once from zero.
  std::unique_ptr<Transfer> last;
  for (int attempt = 0; attempt < 2; ++attempt) {
    last = std::make_unique<Transfer>();
    Transfer& t = *last;
    t.part_path = part_path;
    t.progress = &progress;
    struct stat st {};
    t.offset = ::stat(part_path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;

    CurlPtr curl(curl_easy_init());
    if (!curl) return Status(ErrorCode::internal, "curl_easy_init failed");
    CURL* c = curl.get();
    char errbuf[CURL_ERROR_SIZE] = {0};
    SlistPtr headers;
    if (!o.token.empty())
      headers.reset(curl_slist_append(nullptr, ("Authorization: Bearer " + o.token).c_str()));
    curl_easy_setopt(c, CURLOPT_URL, res.url.c_str());
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "agora-pull/0.1");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o.connect_timeout_s);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, o.stall_timeout_s);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    if (t.offset > 0) curl_easy_setopt(c, CURLOPT_RANGE, (std::to_string(t.offset) + "-").c_str());
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    const CURLcode rc = curl_easy_perform(c);
    res.resumed_from = t.offset;

    if (!t.failure.ok()) return t.failure;
    if (t.status == 416 && attempt == 0) {
      if (t.range_total >= 0 && t.range_total == t.offset) break;  // the .part is already whole
      fs::remove(part_path, ec);
      continue;
    }
    if (rc != CURLE_OK) {
      const std::string what = errbuf[0] ? errbuf : curl_easy_strerror(rc);
      if (t.written > 0 || t.offset > 0)
        return Status(ErrorCode::io_error, "download of " + res.url + " interrupted at " +
                                               human_bytes(t.offset + t.written) + " (" + what +
                                               "); run the same command again to resume");
      return Status(ErrorCode::io_error, "cannot download " + res.url + ": " + what);
    }
    if (t.status != 200 && t.status != 206)
      return Status(ErrorCode::io_error, http_failure(t.status, res.url, t.error_text));
    if (!t.body_started) {  // an empty 2xx body: make sure the file exists
      t.fd = Fd(::open(part_path.c_str(),
                       O_WRONLY | O_CREAT | (t.status == 200 ? O_TRUNC : 0) | O_CLOEXEC, 0644));
      if (t.status == 200) t.offset = 0;
    }
    const int64_t expected_size = t.range_total >= 0
                                      ? t.range_total
                                      : (t.content_length >= 0 ? t.offset + t.content_length : -1);
    if (expected_size >= 0 && t.offset + t.written != expected_size)
      return Status(ErrorCode::io_error, "download of " + res.url + " ended at " +
                                             human_bytes(t.offset + t.written) + " of " +
                                             human_bytes(expected_size) +
                                             "; run the same command again to resume");
    if (t.fd.get() >= 0 && ::fsync(t.fd.get()) != 0)
      return Status(ErrorCode::io_error, "cannot fsync " + part_path + ": " + std::strerror(errno));
    t.fd.reset();
    break;
  }

  const Transfer& t = *last;
  if (expected.empty()) {
    if (is_sha256_hex(t.linked_etag))
      expected = t.linked_etag;
    else if (is_sha256_hex(t.etag))
      expected = t.etag;
  }
  auto sum = sha256_file(part_path);
  if (!sum.ok()) return sum.status();
  res.sha256 = sum.value();
  if (!expected.empty()) {
    if (expected != res.sha256) {
      fs::remove(part_path, ec);
      return Status(ErrorCode::invalid_file, "checksum mismatch for " + name +
                                                 ": expected sha256 " + expected + ", got " +
                                                 res.sha256 + " (the download was deleted)");
    }
    res.verified = true;
  }
  res.bytes = static_cast<int64_t>(fs::file_size(part_path, ec));
  if (::rename(part_path.c_str(), final_path.c_str()) != 0)
    return Status(ErrorCode::io_error, "cannot rename " + part_path + " to " + final_path.string() +
                                           ": " + std::strerror(errno));
  fsync_dir(dir);
  return res;
}

}  // namespace agora::platform
