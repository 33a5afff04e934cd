// Test helpers: a blocking loopback HTTP/1.1 client (raw sockets, so tests can also send
// malformed or slow requests) and TestServer, an HttpServer with the OpenAI routes over a
// FakeBackend and the stories260K tokenizer, running on its own thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "platform/fake_backend.h"
#include "platform/http/http_server.h"
#include "platform/metrics.h"
#include "platform/openai/routes.h"
#include "support/testdata.h"

namespace agora::test {

struct HttpResponse {
  int status = 0;  // 0: no response (closed / timed out)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;  // de-chunked
};

class Conn {
 public:
  explicit Conn(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Conn() { close(); }
  Conn(const Conn&) = delete;
  bool ok() const { return ok_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Abortive close (RST), like a killed client.
  void reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close();
  }
  bool send(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      const ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += n;
    }
    return true;
  }
  // Reads until `pred(buffer)` or EOF or timeout. Returns false on timeout.
  template <typename Pred>
  bool read_until(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred(buf_)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char tmp[65536];
      const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) {
        eof_ = true;
        return pred(buf_);
      }
      buf_.append(tmp, n);
    }
    return true;
  }
  bool eof() const { return eof_; }
  std::string& buffer() { return buf_; }

  // Reads one full response (Content-Length or chunked).
  HttpResponse read_response(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    HttpResponse r;
    if (!read_until([](const std::string& b) { return b.find("\r\n\r\n") != std::string::npos; }, timeout)) return r;
    const size_t he = buf_.find("\r\n\r\n");
    std::string head = buf_.substr(0, he);
    buf_.erase(0, he + 4);
    r.status = std::atoi(head.substr(9, 3).c_str());
    size_t pos = head.find("\r\n");
    while (pos != std::string::npos) {
      const size_t next = head.find("\r\n", pos + 2);
      std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      if (auto c = line.find(':'); c != std::string::npos) {
        std::string k = line.substr(0, c);
        for (auto& ch : k) ch = static_cast<char>(std::tolower(ch));
        std::string v = line.substr(c + 1);
        while (!v.empty() && v[0] == ' ') v.erase(0, 1);
        r.headers[k] = v;
      }
      pos = next;
    }
    if (r.headers.count("content-length")) {
      const size_t n = std::stoul(r.headers["content-length"]);
      read_until([n](const std::string& b) { return b.size() >= n; }, timeout);
      r.body = buf_.substr(0, n);
      buf_.erase(0, std::min(n, buf_.size()));
    } else if (r.headers["transfer-encoding"] == "chunked") {
      for (;;) {
        if (!read_until([](const std::string& b) { return b.find("\r\n") != std::string::npos; }, timeout)) break;
        const size_t le = buf_.find("\r\n");
        const size_t n = std::stoul(buf_.substr(0, le), nullptr, 16);
        if (!read_until([&](const std::string& b) { return b.size() >= le + 2 + n + 2; }, timeout)) break;
        r.body += buf_.substr(le + 2, n);
        buf_.erase(0, le + 2 + n + 2);
        if (n == 0) break;
      }
    }
    return r;
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
  bool eof_ = false;
  std::string buf_;
};

inline std::string post_request(const std::string& path, const std::string& body, const std::string& extra = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}
inline std::string get_request(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n";
}

inline HttpResponse roundtrip(uint16_t port, const std::string& raw) {
  Conn c(port);
  if (!c.ok() || !c.send(raw)) return {};
  return c.read_response();
}

// The `data:` payloads of an SSE body, in order.
inline std::vector<std::string> sse_events(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = body.find("data: ", pos)) != std::string::npos) {
    const size_t end = body.find("\n\n", pos);
    out.push_back(body.substr(pos + 6, end - pos - 6));
    pos = end == std::string::npos ? body.size() : end + 2;
  }
  return out;
}

class TestServer {
 public:
  explicit TestServer(FakeBackend::Options fo = {}, platform::ServerLimits limits = {}, std::string api_key = "")
      : ctx_{registry_, metrics_, limits} {
    auto m = std::make_unique<platform::ServedModel>();
    m->id = "fake";
    m->created = 1700000000;
    m->fingerprint = "fp_test";
    auto v = Vocab::load_file(testdata_path("models/stories260K.gguf"));
    EXPECT_TRUE(v.ok()) << v.status().message();
    m->vocab = std::move(v.value());
    auto b = std::make_unique<FakeBackend>(fo);
    backend_ = b.get();
    m->backend = std::move(b);
    EXPECT_TRUE(platform::prepare_chat(*m).ok());
    registry_.add(std::move(m));
    platform::http::Router router;
    platform::register_openai_routes(router, ctx_);
    platform::http::HttpServerOptions ho;
    ho.limits = limits;
    ho.api_key = std::move(api_key);
    ho.on_response = [this](const std::string& r, unsigned s, double t) { metrics_.count_request(r, s, t); };
    ho.on_drain = [this] { backend_->begin_shutdown(); };
    server_ = std::make_unique<platform::http::HttpServer>(std::move(ho), std::move(router));
    EXPECT_TRUE(server_->listen("127.0.0.1", 0).ok());
    thread_ = std::thread([this] {
      server_->run();
      exited_ = true;
    });
  }
  ~TestServer() {
    server_->stop();
    thread_.join();
    for (const auto& m : registry_.all()) m->backend.reset();
  }
  uint16_t port() const { return server_->port(); }
  FakeBackend& backend() { return *backend_; }
  platform::http::HttpServer& server() { return *server_; }
  bool exited() const { return exited_; }

 private:
  platform::ModelRegistry registry_;
  platform::Metrics metrics_;
  platform::OpenAiContext ctx_;
  FakeBackend* backend_ = nullptr;
  std::unique_ptr<platform::http::HttpServer> server_;
  std::thread thread_;
  std::atomic<bool> exited_{false};
};

}  // namespace agora::test
