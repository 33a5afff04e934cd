// HttpServer: HTTP/1.1 with keep-alive on Boost.Beast + Asio, one coroutine per connection.
//
//   HttpServer server(options, std::move(router));
//   server.listen("127.0.0.1", 8080);   // port 0: any free port, see port()
//   server.run();                       // blocks until stop(); n_threads I/O threads
//
// Per request: the head is read under header_timeout and max_header_bytes/max_header_count
// (431), the body under body_timeout and max_body_bytes (413); idle keep-alive connections close
// after idle_timeout. /v1/ routes need `Authorization: Bearer <api_key>` when a key is set (401).
// Connections beyond max_connections get a 503 and are closed.
//
// Streamed routes (Router::add_streaming) are authenticated on the head alone and their handler
// reads the body in pieces (body_stream.h) up to max_upload_bytes: a 401, a 503 while draining or
// a Content-Length over the limit (413) is answered before one byte of the body is read. A
// streamed request whose handler answered before reading its whole body ends its connection
// (after a short lingering close, so the client still gets the answer). Handlers run disk work on
// a separate blocking pool (Exchange::run_blocking, n_blocking_threads).
//
// Drain (SIGTERM): begin_drain() makes every new request a 503 (with Retry-After, Connection:
// close), lets in-flight requests finish, and after drain_timeout aborts those still running
// (Exchange::abort()); run() returns once none is left. Thread-safe: begin_drain() and stop()
// may be called from any thread (including a signal-handling coroutine).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>

#include "engine/util/status.h"
#include "platform/http/router.h"
#include "platform/limits.h"

namespace agora::platform::http {

struct HttpServerOptions {
  ServerLimits limits;
  std::string api_key;  // empty: no authentication (ignored when `authenticate` is set)
  // Per-request authentication (auth/request_auth.h): sets Exchange::principal and returns true,
  // or sets an error response and returns false. Runs before routing; replaces the api_key check.
  std::function<bool(Exchange&)> authenticate;
  int n_threads = 2;
  int n_blocking_threads = 4;  // Exchange::run_blocking (uploads' writes and fsyncs)
  // Called after each response with the route label, status and seconds taken (any I/O thread).
  std::function<void(const std::string&, unsigned, double)> on_response;
  // Called once when a drain begins (e.g. Backend::begin_shutdown).
  std::function<void()> on_drain;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, Router router);
  ~HttpServer();

  Status listen(const std::string& host, uint16_t port);
  uint16_t port() const { return port_; }
  void run();
  void begin_drain();
  void stop();

  boost::asio::io_context& io() { return io_; }
  int n_connections() const { return n_connections_.load(); }
  int n_in_flight() const { return n_in_flight_.load(); }
  bool draining() const { return draining_.load(); }

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<void> drain_watch();

  HttpServerOptions options_;
  Router router_;
  boost::asio::io_context io_;
  boost::asio::thread_pool blocking_;  // after io_: joined before io_ is destroyed
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<int> n_connections_{0};
  std::atomic<int> n_in_flight_{0};
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopped_{false};
  std::mutex exchanges_mu_;
  std::set<Exchange*> exchanges_;  // in flight, for abort at drain timeout
};

}  // namespace agora::platform::http
