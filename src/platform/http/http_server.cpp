#include "platform/http/http_server.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include "platform/http/socket_body_stream.h"

namespace agora::platform::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

HttpServer::HttpServer(HttpServerOptions options, Router router)
    : options_(std::move(options)),
      router_(std::move(router)),
      blocking_(static_cast<size_t>(std::max(1, options_.n_blocking_threads))),
      acceptor_(io_) {}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::listen(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  const auto addr = net::ip::make_address(host, ec);
  if (ec) return {ErrorCode::invalid_argument, "invalid --host address '" + host + "': " + ec.message()};
  tcp::endpoint ep(addr, port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return {ErrorCode::io_error, "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message()};
  port_ = acceptor_.local_endpoint().port();
  return {};
}

void HttpServer::run() {
  net::co_spawn(io_, accept_loop(), net::detached);
  std::vector<std::thread> threads;
  for (int i = 1; i < std::max(1, options_.n_threads); ++i) threads.emplace_back([this] { io_.run(); });
  io_.run();
  for (auto& t : threads) t.join();
}

void HttpServer::stop() {
  if (stopped_.exchange(true)) return;
  io_.stop();
}

void HttpServer::begin_drain() {
  if (draining_.exchange(true)) return;
  net::post(io_, [this] {
    if (options_.on_drain) options_.on_drain();
    net::co_spawn(io_, drain_watch(), net::detached);
  });
}

net::awaitable<void> HttpServer::drain_watch() {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + options_.limits.drain_timeout;
  net::steady_timer t(io_);
  bool aborted = false;
  for (;;) {
    if (n_in_flight_.load() == 0) break;
    if (!aborted && clock::now() >= deadline) {
      aborted = true;
      std::lock_guard lock(exchanges_mu_);
      for (Exchange* e : exchanges_) e->abort();
    }
    if (aborted && clock::now() >= deadline + std::chrono::seconds(5)) break;  // give up on stragglers
    t.expires_after(std::chrono::milliseconds(20));
    co_await t.async_wait(net::as_tuple(net::use_awaitable));
  }
  boost::system::error_code ec;
  acceptor_.close(ec);
  stop();
}

net::awaitable<void> HttpServer::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(net::make_strand(io_), net::as_tuple(net::use_awaitable));
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) co_return;
      // EMFILE and friends: back off briefly instead of spinning.
      net::steady_timer t(io_, std::chrono::milliseconds(50));
      co_await t.async_wait(net::as_tuple(net::use_awaitable));
      continue;
    }
    auto ex = socket.get_executor();
    net::co_spawn(ex, session(std::move(socket)), net::detached);
  }
}

namespace {

// A minimal error response written before the request is fully read (431, 413, 503 at the door).
std::string raw_error(const ApiError& e, int retry_after_s) {
  const std::string body = error_body(e);
  const int status = e.http_status();
  const char* reason = status == 431 ? "Request Header Fields Too Large"
                       : status == 413 ? "Payload Too Large"
                       : status == 503 ? "Service Unavailable"
                       : status == 408 ? "Request Timeout"
                                       : "Bad Request";
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nServer: agora\r\n";
  out += "Content-Type: application/json\r\nConnection: close\r\n";
  if (status == 503) out += "Retry-After: " + std::to_string(retry_after_s) + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char d = 0;
  for (size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}

// After answering a request whose body was left unread: stop sending, then read and drop what
// the client still sends for a moment, so that closing does not reset the connection before the
// client has read the answer (a reset can discard it from the client's receive buffer).
constexpr std::chrono::milliseconds kLingerTime{2000};

net::awaitable<void> linger_close(beast::tcp_stream& stream) {
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_after(kLingerTime);
  char scratch[16 * 1024];
  for (;;) {
    auto [ec2, n] = co_await stream.async_read_some(net::buffer(scratch), net::as_tuple(net::use_awaitable));
    if (ec2) break;
  }
}

}  // namespace

net::awaitable<void> HttpServer::session(tcp::socket socket) {
  const ServerLimits& L = options_.limits;
  beast::tcp_stream stream(std::move(socket));
  struct ConnCount {
    std::atomic<int>& n;
    ~ConnCount() { --n; }
  } conn{n_connections_};
  const int n_conn = ++n_connections_;
  auto write_and_close = [&](const std::string& bytes) -> net::awaitable<void> {
    stream.expires_after(std::chrono::seconds(2));
    co_await net::async_write(stream, net::buffer(bytes), net::as_tuple(net::use_awaitable));
    boost::system::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  };
  if (n_conn > static_cast<int>(L.max_connections)) {
    {
      const std::string bytes = raw_error({ApiErrorKind::unavailable, "Too many open connections; retry later.", ""},
                                       L.retry_after_s);
      co_await write_and_close(bytes);
    }
    co_return;
  }

  beast::flat_buffer buffer;
  bool first = true;
  for (;;) {
    // The head first, with no body type yet: the route decides whether the body is read whole
    // (string_body, max_body_bytes) or handed to the handler in pieces (buffer_body).
    bhttp::request_parser<bhttp::empty_body> head;
    head.header_limit(static_cast<uint32_t>(L.max_header_bytes));
    head.body_limit(boost::none);  // per route, below
    // The first request's head has header_timeout; a kept-alive connection waits idle_timeout for
    // its next request to start (Beast's timer covers the whole read, so slowloris is bounded).
    stream.expires_after(first ? L.header_timeout : L.idle_timeout);
    first = false;
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, head, net::as_tuple(net::use_awaitable));
    if (ec) {
      if (ec == bhttp::error::header_limit) {
        const std::string bytes = raw_error({ApiErrorKind::headers_too_large,
                                             "The request head is larger than the limit of " +
                                                 std::to_string(L.max_header_bytes) + " bytes.", ""},
                                            L.retry_after_s);
        co_await write_and_close(bytes);
      } else if (ec != bhttp::error::end_of_stream && ec != beast::error::timeout && ec != net::error::eof &&
                 ec != bhttp::error::partial_message &&
                 ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
        const std::string bytes = raw_error(ApiError::invalid("", "Malformed HTTP request: " + ec.message()), L.retry_after_s);
        co_await write_and_close(bytes);
      }
      co_return;
    }
    size_t n_fields = 0;
    for (auto it = head.get().begin(); it != head.get().end(); ++it) ++n_fields;
    if (n_fields > L.max_header_count) {
      {  // the string dies before co_return (GCC 12 coroutine frames)
        const std::string bytes = raw_error({ApiErrorKind::headers_too_large,
                                             "The request has more than " + std::to_string(L.max_header_count) +
                                                 " header fields.", ""},
                                            L.retry_after_s);
        co_await write_and_close(bytes);
      }
      co_return;
    }
    Router::Match match;
    {
      std::string_view target(head.get().target().data(), head.get().target().size());
      if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
      match = router_.match(head.get().method(), target);
    }
    const bool streamed = match.handler && match.stream_body;

    std::optional<bhttp::request_parser<bhttp::string_body>> whole;
    std::optional<SocketBodyStream::Parser> piecewise;
    Request request;
    if (!streamed) {
      whole.emplace(std::move(head));
      whole->body_limit(L.max_body_bytes);
      // 413 with the OpenAI error object, then close (the rest of the body is not read).
      const std::string too_large = raw_error({ApiErrorKind::payload_too_large,
                                               "The request body is larger than the limit of " +
                                                   std::to_string(L.max_body_bytes) + " bytes.", ""},
                                              L.retry_after_s);
      if (whole->content_length() && *whole->content_length() > L.max_body_bytes) {
        co_await write_and_close(too_large);
        co_return;
      }
      if (beast::iequals(whole->get()[bhttp::field::expect], "100-continue") && !whole->is_done()) {
        static const std::string cont = "HTTP/1.1 100 Continue\r\n\r\n";
        co_await net::async_write(stream, net::buffer(cont), net::as_tuple(net::use_awaitable));
      }
      if (!whole->is_done()) {
        stream.expires_after(L.body_timeout);
        auto [ec2, n2] = co_await bhttp::async_read(stream, buffer, *whole, net::as_tuple(net::use_awaitable));
        if (ec2) {
          if (ec2 == bhttp::error::body_limit) co_await write_and_close(too_large);
          co_return;
        }
      }
      request = whole->release();
    } else {
      request = Request(head.get().base());  // the head only; the handler reads the body
      piecewise.emplace(std::move(head));
      piecewise->body_limit(L.max_upload_bytes);
    }
    stream.expires_never();

    const auto t0 = std::chrono::steady_clock::now();
    Exchange ex(stream, std::move(request), L, blocking_.get_executor());
    std::optional<SocketBodyStream> body;
    if (streamed) {
      body.emplace(stream, buffer, *piecewise, L);
      ex.set_body_stream(&*body);
    }
    ++n_in_flight_;
    {
      std::lock_guard lock(exchanges_mu_);
      exchanges_.insert(&ex);
    }
    const std::string_view path = ex.path();
    ex.route_label = match.handler || match.wrong_method ? match.label : "unmatched";
    bool handler_failed = false;
    try {
      if (draining_.load()) {
        ex.set_error({ApiErrorKind::unavailable, "The server is shutting down; retry on another instance.", ""});
      } else if (options_.authenticate && !options_.authenticate(ex)) {
        // the hook answered (401/403/503)
      } else if (!options_.authenticate && !options_.api_key.empty() && path.starts_with("/v1/") &&
                 !constant_time_equal(ex.request()[bhttp::field::authorization], "Bearer " + options_.api_key)) {
        ex.set_error({ApiErrorKind::unauthorized,
                                   "Incorrect API key provided. Pass it as 'Authorization: Bearer <key>'.", ""});
      } else if (!match.handler) {
        if (match.wrong_method)
          ex.set_error({ApiErrorKind::method_not_allowed,
                                     "Method " + std::string(ex.request().method_string()) + " is not allowed on " +
                                         std::string(path) + ".", ""});
        else
          ex.set_error({ApiErrorKind::not_found, "Unknown request URL: " +
                                                                  std::string(ex.request().method_string()) + " " +
                                                                  std::string(path) + ".", ""});
      } else if (streamed && piecewise->content_length() && *piecewise->content_length() > L.max_upload_bytes) {
        ex.set_error(body_error(BodyError::too_large, L));  // refused before reading a byte of it
      } else {
        ex.path_params = std::move(match.params);
        co_await (*match.handler)(ex);
        if (!ex.responded() && !ex.has_pending())
          ex.set_error({ApiErrorKind::internal, "The handler sent no response.", ""});
      }
    } catch (const std::exception& e) {
      // Safety net, not the design: handlers answer their own errors.
      std::fprintf(stderr, "agora serve: handler error on %s: %s\n", std::string(path).c_str(), e.what());
      handler_failed = true;
    }
    if (handler_failed) {
      if (!ex.responded()) ex.set_error({ApiErrorKind::internal, "Internal error.", ""});
      ex.close_after();
    }
    // A body left unread cannot be skipped reliably: answer, then end the connection.
    const bool unread_body = streamed && !body->done();
    if (unread_body) ex.close_after();
    if (!ex.responded()) co_await ex.flush();
    {
      std::lock_guard lock(exchanges_mu_);
      exchanges_.erase(&ex);
    }
    --n_in_flight_;
    if (options_.on_response)
      options_.on_response(ex.route_label, ex.status(),
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (unread_body && !ex.client_gone()) {
      co_await linger_close(stream);
      co_return;
    }
    if (!ex.keep_alive() || draining_.load()) break;
  }
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace agora::platform::http
