// ctest-labels: unit model
// Streamed uploads through a real `agora serve --auth` process (POST /v1/files, multipart, over
// raw sockets so that bodies can be cut short): a 64 MiB file passes an 8 MiB --max-body-bytes,
// round-trips byte for byte in both part orders (purpose first: straight into the Store; file
// first, as the openai npm SDK sends: through the spool), and the server's peak RSS grows far
// less than the file; --max-upload-bytes (set in a --config file) is refused with 413 up front or
// where a chunked body crosses it, leaving nothing in DATA/files; a 401 comes on the head alone
// and nothing touches the disk; `kill -9` in the middle of an upload leaves no visible file and,
// after the restart, no stray bytes. Prints the upload throughput and the RSS growth.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "platform/serve_process.h"
#include "platform/test_http.h"

using namespace agora::test;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr size_t kMiB = 1024 * 1024;
const std::string kBoundary = "----agora-upload-test-7f3a9c51e2";

// Deterministic content: byte i of every upload, generated a block at a time.
void fill_pattern(size_t offset, char* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint64_t x = (offset + i) * 0x9E3779B97F4A7C15ull;
    out[i] = static_cast<char>(x >> 56);
  }
}

std::string part_head(const std::string& name, const std::string& filename = "") {
  std::string h = "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"";
  if (!filename.empty()) h += "; filename=\"" + filename + "\"\r\nContent-Type: application/octet-stream";
  return h + "\r\n\r\n";
}

struct Upload {
  size_t n_file = 0;
  bool purpose_first = true;
  std::string purpose = "assistants";
  std::string key;
  bool chunked = false;
  size_t stop_after = SIZE_MAX;  // file bytes sent before stopping (the connection stays open)
};

// Sends the upload; returns the response (status 0 when the body was cut short).
HttpResponse send_upload(Conn& c, const Upload& u) {
  const std::string purpose = part_head("purpose") + u.purpose + "\r\n";
  const std::string file_head = part_head("file", "big.bin");
  const std::string before = u.purpose_first ? purpose + file_head : file_head;
  const std::string after = "\r\n" + (u.purpose_first ? "" : purpose) + "--" + kBoundary + "--\r\n";
  std::string head = "POST /v1/files HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=" + kBoundary + "\r\n";
  if (!u.key.empty()) head += "Authorization: Bearer " + u.key + "\r\n";
  head += u.chunked ? "Transfer-Encoding: chunked\r\n\r\n"
                    : "Content-Length: " + std::to_string(before.size() + u.n_file + after.size()) + "\r\n\r\n";
  auto frame = [&](const std::string& bytes) {
    if (!u.chunked) return bytes;
    char size[20];
    std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
    std::string out = size;
    out += bytes;
    out += "\r\n";
    return out;
  };
  if (!c.send(head + frame(before))) return {};
  std::string block(kMiB, '\0');
  for (size_t off = 0; off < u.n_file; off += block.size()) {
    const size_t n = std::min(block.size(), u.n_file - off);
    if (off + n > u.stop_after) return {};
    block.resize(n);
    fill_pattern(off, block.data(), n);
    if (!c.send(frame(block))) break;  // the server answered early: read its answer
  }
  c.send(frame(after) + (u.chunked ? "0\r\n\r\n" : ""));
  return c.read_response(30s);
}

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename().string());
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + " ";
  return s;
}

// A data directory with one user and an API key for them.
struct DataDir {
  DataDir() : dir(scratch_dir("serve-upload") + "/data") {
    auto r = run_agora({"admin", "create-user", "--data-dir", dir, "alice"});
    EXPECT_EQ(r.code, 0) << r.err;
    r = run_agora({"admin", "create-key", "--data-dir", dir, "--user", "alice"});
    EXPECT_EQ(r.code, 0) << r.err;
    std::string out = r.out;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    key = out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
  }
  ~DataDir() { fs::remove_all(fs::path(dir).parent_path()); }
  std::string files() const { return dir + "/files"; }
  std::string dir, key;
};

std::vector<std::string> serve_args(const DataDir& d, std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {"serve", "--model", testdata_path("models/stories260K.gguf"), "--port", "0",
                                "--data-dir", d.dir, "--auth", "--max-body-bytes", std::to_string(8 * kMiB)};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

json list_files(uint16_t port, const std::string& key) {
  auto r = roundtrip(port, get_request("/v1/files", "Authorization: Bearer " + key + "\r\n"));
  EXPECT_EQ(r.status, 200) << r.body;
  return r.status == 200 ? json::parse(r.body) : json::object();
}

}  // namespace

TEST(ServeUpload, LargeFileStreamsInBoundedMemory) {
  DataDir d;
  ServeProcess s(serve_args(d));
  ASSERT_GT(s.port(), 0) << s.log();
  // Warm the paths once (thread stacks, SQLite caches) so the peak below measures the upload.
  {
    Conn c(s.port());
    auto r = send_upload(c, {.n_file = 2 * kMiB, .key = d.key});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  const double rss0 = s.peak_rss_mib();
  constexpr size_t kSize = 64 * kMiB;
  std::vector<std::string> ids;
  for (bool purpose_first : {true, false}) {
    Conn c(s.port());
    const auto t0 = std::chrono::steady_clock::now();
    auto r = send_upload(c, {.n_file = kSize, .purpose_first = purpose_first, .key = d.key});
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = json::parse(r.body);
    EXPECT_EQ(j["bytes"], kSize);
    EXPECT_EQ(j["filename"], "big.bin");
    EXPECT_EQ(j["purpose"], "assistants");
    ids.push_back(j["id"]);
    std::printf("[ upload ] 64 MiB, %s: %.2f s, %.0f MB/s\n", purpose_first ? "purpose first" : "file first (spooled)",
                secs, kSize / 1e6 / secs);
  }
  const double growth = s.peak_rss_mib() - rss0;
  std::printf("[ upload ] peak RSS %.1f MiB before, growth %.1f MiB over two 64 MiB uploads\n", rss0, growth);
  EXPECT_LT(growth, 48.0) << "the upload is held in memory somewhere";
  // Byte for byte back; downloads stream too, so the peak stays where the uploads left it.
  std::string expect(kSize, '\0');
  fill_pattern(0, expect.data(), kSize);
  for (const auto& id : ids) {
    Conn c(s.port());
    ASSERT_TRUE(c.send(get_request("/v1/files/" + id + "/content", "Authorization: Bearer " + d.key + "\r\n")));
    auto r = c.read_response(30s);
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(r.body == expect) << "content of " << id << " differs (" << r.body.size() << " bytes)";
    EXPECT_EQ(r.headers["content-length"], std::to_string(kSize));
  }
  const double download_growth = s.peak_rss_mib() - rss0;
  std::printf("[ download ] peak RSS growth %.1f MiB after two 64 MiB downloads\n", download_growth);
  EXPECT_LT(download_growth, 48.0) << "the download is held in memory somewhere";
  // Only the committed objects are on disk: no temp or spool file stays behind.
  auto names = files_in(d.files());
  EXPECT_EQ(names.size(), 3u) << join(names);
  for (const auto& n : names) EXPECT_FALSE(n.starts_with(".")) << n;
}

TEST(ServeUpload, UploadLimitFromConfigFile) {
  DataDir d;
  const std::string cfg = fs::path(d.dir).parent_path().string() + "/agora.toml";
  std::ofstream(cfg) << "max-upload-bytes = " << 4 * kMiB << "\n";
  ServeProcess s(serve_args(d, {"--config", cfg}));
  ASSERT_GT(s.port(), 0) << s.log();
  // Content-Length over the limit: 413 on the head, before any body byte is sent.
  {
    Conn c(s.port());
    ASSERT_TRUE(c.send("POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + d.key +
                       "\r\nContent-Type: multipart/form-data; boundary=" + kBoundary + "\r\nContent-Length: " +
                       std::to_string(4 * kMiB + 1) + "\r\n\r\n"));
    auto r = c.read_response(5s);
    EXPECT_EQ(r.status, 413) << r.body;
    EXPECT_EQ(json::parse(r.body)["error"]["code"], "request_too_large");
  }
  // Chunked, in both part orders: 413 where the body crosses the limit, the temp file discarded.
  for (bool purpose_first : {true, false}) {
    Conn c(s.port());
    auto r = send_upload(c, {.n_file = 6 * kMiB, .purpose_first = purpose_first, .key = d.key, .chunked = true});
    EXPECT_EQ(r.status, 413) << r.body;
  }
  // Just under the limit is fine.
  {
    Conn c(s.port());
    auto r = send_upload(c, {.n_file = 4 * kMiB - 1024, .key = d.key, .chunked = true});
    EXPECT_EQ(r.status, 200) << r.body;
  }
  EXPECT_EQ(list_files(s.port(), d.key)["data"].size(), 1u);
  EXPECT_EQ(files_in(d.files()).size(), 1u) << join(files_in(d.files()));
}

TEST(ServeUpload, UnauthorizedBeforeTheBody) {
  DataDir d;
  ServeProcess s(serve_args(d));
  ASSERT_GT(s.port(), 0) << s.log();
  // No key, Expect: 100-continue: the 401 comes on the head; no 100 Continue, no body read.
  {
    Conn c(s.port());
    ASSERT_TRUE(c.send("POST /v1/files HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=" + kBoundary +
                       "\r\nContent-Length: " + std::to_string(64 * kMiB) + "\r\nExpect: 100-continue\r\n\r\n"));
    auto r = c.read_response(5s);
    EXPECT_EQ(r.status, 401) << r.body;
  }
  // A wrong key with the body already on its way: still a 401, and nothing reaches the disk.
  {
    Conn c(s.port());
    auto r = send_upload(c, {.n_file = 16 * kMiB, .key = "sk-agora-wrong"});
    EXPECT_EQ(r.status, 401) << r.body;
  }
  EXPECT_TRUE(files_in(d.files()).empty()) << join(files_in(d.files()));
  EXPECT_EQ(list_files(s.port(), d.key)["data"].size(), 0u);
  // Form errors are still 400s, answered after the body (the connection stays usable).
  {
    Conn c(s.port());
    auto r = send_upload(c, {.n_file = 3 * kMiB, .purpose = "nope", .key = d.key});
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(json::parse(r.body)["error"]["param"], "purpose");
    r = send_upload(c, {.n_file = 3 * kMiB, .purpose_first = false, .purpose = "nope", .key = d.key});
    EXPECT_EQ(r.status, 400) << r.body;
  }
  EXPECT_TRUE(files_in(d.files()).empty()) << join(files_in(d.files()));
}

TEST(ServeUpload, KillDuringUploadLeavesNothing) {
  DataDir d;
  for (bool purpose_first : {true, false}) {
    {
      ServeProcess s(serve_args(d));
      ASSERT_GT(s.port(), 0) << s.log();
      Conn c(s.port());
      // Half of a 64 MiB upload, then wait until the bytes are on their way to disk.
      send_upload(c, {.n_file = 64 * kMiB, .purpose_first = purpose_first, .key = d.key, .stop_after = 32 * kMiB});
      const auto deadline = std::chrono::steady_clock::now() + 5s;
      bool temp_seen = false;
      while (purpose_first && !temp_seen && std::chrono::steady_clock::now() < deadline) {
        for (const auto& n : files_in(d.files())) temp_seen = temp_seen || n.starts_with(".tmp-");
        std::this_thread::sleep_for(10ms);
      }
      if (purpose_first) {
        EXPECT_TRUE(temp_seen) << "the upload never reached the files directory";
      }
      std::this_thread::sleep_for(100ms);
      ::kill(s.pid(), SIGKILL);
    }  // reaped here
    // Restarted: no file object, no stray bytes.
    ServeProcess s(serve_args(d));
    ASSERT_GT(s.port(), 0) << s.log();
    EXPECT_EQ(list_files(s.port(), d.key)["data"].size(), 0u);
    EXPECT_TRUE(files_in(d.files()).empty()) << join(files_in(d.files()));
  }
}
