// ctest-labels: unit
// Streamed request bodies (Router::add_streaming, body_stream.h, socket_body_stream.h): bodies
// larger than max_body_bytes arrive in pieces (Content-Length and chunked), max_upload_bytes is
// refused up front (413 before reading) or where a chunked body crosses it, authentication
// happens on the head alone (401 without reading the body, no 100 Continue), a stalled or
// trickling body ends (body_timeout, min_upload_rate), an early answer closes the connection
// but still reaches the client, and run_blocking() runs off the I/O threads.
#include <atomic>
#include <thread>

#include <nlohmann/json.hpp>

#include "platform/test_http.h"

using namespace agora;
using namespace agora::test;
using namespace std::chrono_literals;
using nlohmann::json;
namespace http = agora::platform::http;
namespace net = boost::asio;

namespace {

struct Seen {
  std::atomic<int> handler_runs{0};
  std::atomic<int> last_error{-1};
  std::atomic<bool> blocking_off_io{false};
};

// POST /v1/upload reads the body in 1000-byte pieces and answers {n, sum, reads}; `?stop=N`
// answers after N bytes without reading the rest. POST /v1/whole answers the size of a whole body.
http::Router make_router(Seen& seen) {
  http::Router r;
  r.add_streaming(boost::beast::http::verb::post, "/v1/upload", [&seen](http::Exchange& ex) -> net::awaitable<void> {
    ++seen.handler_runs;
    const std::string target(ex.request().target());
    const size_t stop = target.find("stop=") != std::string::npos ? std::stoul(target.substr(target.find("stop=") + 5)) : SIZE_MAX;
    const std::thread::id io_thread = std::this_thread::get_id();
    const std::function<void()> probe = [&] { seen.blocking_off_io = std::this_thread::get_id() != io_thread; };
    co_await ex.run_blocking(probe);
    char buf[1000];
    uint64_t n = 0, sum = 0, reads = 0;
    for (;;) {
      const http::BodyRead r = co_await ex.body_stream()->read(std::span<char>(buf, sizeof buf));
      if (r.error != http::BodyError::none) {
        seen.last_error = static_cast<int>(r.error);
        ex.set_error(http::body_error(r.error, ex.limits()));
        co_return;
      }
      if (r.n == 0) break;
      ++reads;
      for (size_t i = 0; i < r.n; ++i) sum = sum * 31 + static_cast<unsigned char>(buf[i]);
      n += r.n;
      if (n >= stop) break;
    }
    seen.last_error = 0;
    ex.set_json(200, json{{"n", n}, {"sum", sum}, {"reads", reads}}.dump());
  });
  r.add(boost::beast::http::verb::post, "/v1/whole", [](http::Exchange& ex) -> net::awaitable<void> {
    ex.set_json(200, json{{"n", ex.body().size()}}.dump());
    co_return;
  });
  return r;
}

platform::ServerLimits test_limits() {
  platform::ServerLimits l;
  l.max_body_bytes = 64 * 1024;
  l.max_upload_bytes = 4 * 1024 * 1024;
  l.body_timeout = 400ms;
  l.header_timeout = 2s;
  return l;
}

class StreamServer {
 public:
  explicit StreamServer(platform::ServerLimits limits = test_limits(), std::string api_key = "sk-t") {
    http::HttpServerOptions ho;
    ho.limits = limits;
    ho.api_key = std::move(api_key);
    server_ = std::make_unique<http::HttpServer>(std::move(ho), make_router(seen));
    EXPECT_TRUE(server_->listen("127.0.0.1", 0).ok());
    thread_ = std::thread([this] { server_->run(); });
  }
  ~StreamServer() {
    server_->stop();
    thread_.join();
  }
  uint16_t port() const { return server_->port(); }
  Seen seen;

 private:
  std::unique_ptr<http::HttpServer> server_;
  std::thread thread_;
};

// The handler records its outcome just after the connection closes: wait for it (bounded).
int wait_error(const Seen& seen) {
  for (int i = 0; i < 200 && seen.last_error.load() < 0; ++i) std::this_thread::sleep_for(5ms);
  return seen.last_error.load();
}

std::string pattern(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (auto& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

uint64_t checksum(const std::string& s) {
  uint64_t sum = 0;
  for (unsigned char c : s) sum = sum * 31 + c;
  return sum;
}

std::string upload_head(size_t length, const std::string& extra = "Authorization: Bearer sk-t\r\n",
                        const std::string& path = "/v1/upload") {
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(length) + "\r\n" + extra + "\r\n";
}

std::string chunked(const std::string& body, size_t piece) {
  std::string out;
  for (size_t off = 0; off < body.size(); off += piece) {
    const size_t n = std::min(piece, body.size() - off);
    char size[20];
    std::snprintf(size, sizeof size, "%zx\r\n", n);
    out += size + body.substr(off, n) + "\r\n";
  }
  return out + "0\r\n\r\n";
}

}  // namespace

TEST(BodyStream, ContentLengthBodyLargerThanMaxBodyBytes) {
  StreamServer s;
  const std::string body = pattern(3 * 1024 * 1024);  // 48 × max_body_bytes
  Conn c(s.port());
  ASSERT_TRUE(c.send(upload_head(body.size()) + body));
  auto r = c.read_response();
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["n"], body.size());
  EXPECT_EQ(j["sum"], checksum(body));
  EXPECT_GE(j["reads"].get<int>(), 3 * 1024);  // in pieces of the handler's buffer
  EXPECT_TRUE(s.seen.blocking_off_io);
  // The connection stays usable: a whole-body request and another upload follow.
  ASSERT_TRUE(c.send(post_request("/v1/whole", "{}", "Authorization: Bearer sk-t\r\n")));
  r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["n"], 2);
  ASSERT_TRUE(c.send(upload_head(5) + "hello"));
  r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["n"], 5);
  // Whole-body routes keep their own limit.
  EXPECT_EQ(roundtrip(s.port(), post_request("/v1/whole", std::string(70 * 1024, ' '), "Authorization: Bearer sk-t\r\n")).status, 413);
}

TEST(BodyStream, ChunkedBody) {
  StreamServer s;
  const std::string body = pattern(1024 * 1024 + 17);
  struct Case {
    size_t n, piece;
  };
  for (const Case& k : {Case{body.size(), body.size()}, Case{body.size(), 65536 + 3}, Case{200000, 7}}) {
    const std::string part = body.substr(0, k.n);
    Conn c(s.port());
    ASSERT_TRUE(c.send("POST /v1/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-t\r\nTransfer-Encoding: chunked\r\n\r\n" +
                       chunked(part, k.piece)));
    auto r = c.read_response();
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body)["n"], part.size());
    EXPECT_EQ(json::parse(r.body)["sum"], checksum(part));
  }
}

TEST(BodyStream, ContentLengthOverUploadLimitRefusedBeforeReading) {
  StreamServer s;
  Conn c(s.port());
  ASSERT_TRUE(c.send(upload_head(4 * 1024 * 1024 + 1)));  // the head only: the server must not wait for the body
  auto r = c.read_response(3s);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "request_too_large");
  EXPECT_NE(json::parse(r.body)["error"]["message"].get<std::string>().find("4194304"), std::string::npos);
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_EQ(s.seen.handler_runs, 0);
  // Exactly at the limit is fine.
  const std::string body = pattern(4 * 1024 * 1024);
  r = roundtrip(s.port(), upload_head(body.size()) + body);
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST(BodyStream, ChunkedOverUploadLimitStopsWhereItCrosses) {
  StreamServer s;
  const std::string body = pattern(4 * 1024 * 1024 + 1);
  Conn c(s.port());
  ASSERT_TRUE(c.send("POST /v1/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-t\r\nTransfer-Encoding: chunked\r\n\r\n" +
                     chunked(body, 65536)));
  auto r = c.read_response();
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(s.seen.last_error, static_cast<int>(http::BodyError::too_large));
}

TEST(BodyStream, AuthBeforeBodyAndNoContinue) {
  StreamServer s;
  // A missing key: answered on the head, with no 100 Continue and no handler.
  Conn c(s.port());
  ASSERT_TRUE(c.send(upload_head(3 * 1024 * 1024, "Expect: 100-continue\r\n")));
  auto r = c.read_response(3s);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_EQ(s.seen.handler_runs, 0);
  // A wrong key while the client sends its body anyway: the 401 still reaches it.
  Conn c2(s.port());
  ASSERT_TRUE(c2.send(upload_head(256 * 1024, "Authorization: Bearer nope\r\n") + pattern(100 * 1024)));
  r = c2.read_response(3s);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(s.seen.handler_runs, 0);
  // With the key, 100 Continue comes once the handler reads.
  Conn c3(s.port());
  ASSERT_TRUE(c3.send(upload_head(4, "Authorization: Bearer sk-t\r\nExpect: 100-continue\r\n")));
  auto cont = c3.read_response(3s);
  EXPECT_EQ(cont.status, 100);
  ASSERT_TRUE(c3.send("abcd"));
  r = c3.read_response(3s);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["n"], 4);
}

TEST(BodyStream, StalledBodyTimesOut) {
  // As for whole bodies, a timed-out read closes the connection (Beast's stream timeout).
  StreamServer s;
  Conn c(s.port());
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(c.send(upload_head(100000) + pattern(50000)));
  c.read_until([](const std::string&) { return false; }, 3s);
  EXPECT_TRUE(c.eof());
  EXPECT_EQ(wait_error(s.seen), static_cast<int>(http::BodyError::timeout));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(BodyStream, TrickleEndsAtTheMinimumRate) {
  // 1 byte per 50 ms never stalls a read (400 ms each) but earns almost no time at 1 MiB/s:
  // the body ends near body_timeout, not when the client is done.
  platform::ServerLimits l = test_limits();
  l.min_upload_rate = 1024 * 1024;
  StreamServer s(l);
  Conn c(s.port());
  ASSERT_TRUE(c.send(upload_head(1000)));
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 40 && !c.eof(); ++i) {
    c.send("x");
    c.read_until([](const std::string&) { return false; }, 50ms);
  }
  EXPECT_TRUE(c.eof());
  EXPECT_EQ(wait_error(s.seen), static_cast<int>(http::BodyError::timeout));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
}

TEST(BodyStream, EarlyAnswerClosesButArrives) {
  StreamServer s;
  const std::string body = pattern(2 * 1024 * 1024);
  Conn c(s.port());
  ASSERT_TRUE(c.send(upload_head(body.size(), "Authorization: Bearer sk-t\r\n", "/v1/upload?stop=5000") + body.substr(0, 600000)));
  auto r = c.read_response(3s);
  ASSERT_EQ(r.status, 200);
  EXPECT_GE(json::parse(r.body)["n"].get<int>(), 5000);
  EXPECT_EQ(r.headers["connection"], "close");
  c.send(body.substr(600000, 100000));  // the server drops what still comes, then closes
  EXPECT_TRUE(c.read_until([](const std::string&) { return false; }, 4s) || c.eof());
  EXPECT_TRUE(c.eof());
}

TEST(BodyStream, ClientGoneMidBody) {
  StreamServer s;
  {
    Conn c(s.port());
    ASSERT_TRUE(c.send(upload_head(1000000) + pattern(300000)));
    std::this_thread::sleep_for(100ms);
    c.reset();
  }
  EXPECT_EQ(wait_error(s.seen), static_cast<int>(http::BodyError::disconnected));
  // The server is fine afterwards.
  EXPECT_EQ(roundtrip(s.port(), upload_head(3) + "abc").status, 200);
}
