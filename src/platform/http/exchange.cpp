#include "platform/http/exchange.h"

#include <sys/socket.h>

#include <cerrno>
#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/write.hpp>

namespace agora::platform::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

std::string_view Exchange::path() const {
  std::string_view t(request_.target().data(), request_.target().size());
  if (auto q = t.find('?'); q != std::string_view::npos) t = t.substr(0, q);
  return t;
}

void Exchange::set_response(unsigned status, std::string content_type, std::string body, Headers headers) {
  pending_status_ = status;
  pending_type_ = std::move(content_type);
  pending_body_ = std::move(body);
  pending_headers_ = std::move(headers);
}

void Exchange::set_error(const ApiError& error) {
  Headers h;
  const int status = error.http_status();
  if (status == 429 || status == 503) h.emplace_back("Retry-After", std::to_string(limits_.retry_after_s));
  if (status == 503) close_after_ = true;
  set_response(status, "application/json", error_body(error), std::move(h));
}

net::awaitable<bool> Exchange::flush() {
  if (pending_status_ == 0 || responded()) co_return false;
  status_ = pending_status_;
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(pending_status_), request_.version()};
  res.set(bhttp::field::server, "agora");
  res.set(bhttp::field::content_type, pending_type_);
  for (const auto& [k, v] : pending_headers_) res.set(k, v);
  res.keep_alive(keep_alive());
  res.body() = std::move(pending_body_);
  res.prepare_payload();
  stream_.expires_after(limits_.write_timeout);
  auto [ec, n] = co_await bhttp::async_write(stream_, res, net::as_tuple(net::use_awaitable));
  stream_.expires_never();
  if (ec) client_gone_ = true;
  co_return !ec;
}

net::awaitable<bool> Exchange::write_raw(const std::string& data) {
  if (client_gone_) co_return false;
  stream_.expires_after(limits_.write_timeout);
  auto [ec, n] = co_await net::async_write(stream_, net::buffer(data), net::as_tuple(net::use_awaitable));
  stream_.expires_never();
  if (ec) client_gone_ = true;
  co_return !ec;
}

namespace {
std::string chunk(std::string_view payload) {
  char size[20];
  std::snprintf(size, sizeof size, "%zx\r\n", payload.size());
  std::string out = size;
  out.append(payload);
  out += "\r\n";
  return out;
}
}  // namespace

net::awaitable<bool> Exchange::begin_body(unsigned status, std::string_view content_type, uint64_t content_length) {
  status_ = status;
  streaming_ = true;
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " +
                     std::string(boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status))) +
                     "\r\nServer: agora\r\nContent-Type: ";
  head.append(content_type);
  head += "\r\nContent-Length: " + std::to_string(content_length) + "\r\n";
  head += keep_alive() ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  co_return co_await write_raw(head);
}

net::awaitable<bool> Exchange::send_body(std::string_view bytes) {
  if (client_gone_) co_return false;
  stream_.expires_after(limits_.write_timeout);
  auto [ec, n] = co_await net::async_write(stream_, net::buffer(bytes.data(), bytes.size()), net::as_tuple(net::use_awaitable));
  stream_.expires_never();
  if (ec) client_gone_ = true;
  co_return !ec;
}

net::awaitable<bool> Exchange::begin_stream() {
  status_ = 200;
  streaming_ = true;
  std::string head =
      "HTTP/1.1 200 OK\r\n"
      "Server: agora\r\n"
      "Content-Type: text/event-stream; charset=utf-8\r\n"
      "Cache-Control: no-cache\r\n"
      "X-Accel-Buffering: no\r\n"
      "Transfer-Encoding: chunked\r\n";
  head += keep_alive() ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  co_return co_await write_raw(head);
}

net::awaitable<bool> Exchange::send_event(std::string_view data) {
  std::string ev = "data: ";
  ev.append(data);
  ev += "\n\n";
  const std::string framed = chunk(ev);
  co_return co_await write_raw(framed);
}

net::awaitable<bool> Exchange::end_stream() {
  std::string tail = chunk("data: [DONE]\n\n");
  tail += "0\r\n\r\n";
  co_return co_await write_raw(tail);
}

net::awaitable<bool> Exchange::send_named_event(std::string_view name, std::string_view data) {
  std::string ev = "event: ";
  ev.append(name);
  ev += "\ndata: ";
  ev.append(data);
  ev += "\n\n";
  const std::string framed = chunk(ev);
  co_return co_await write_raw(framed);
}

net::awaitable<bool> Exchange::close_stream() {
  static const std::string tail = "0\r\n\r\n";
  co_return co_await write_raw(tail);
}

net::awaitable<void> Exchange::wait_disconnect() {
  auto& sock = stream_.socket();
  try {
    for (;;) {
      auto [ec] = co_await sock.async_wait(net::socket_base::wait_read, net::as_tuple(net::use_awaitable));
      if (ec == net::error::operation_aborted) co_return;
      if (ec) {
        client_gone_ = true;
        co_return;
      }
      char c;
      const ssize_t n = ::recv(sock.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        client_gone_ = true;
        co_return;
      }
      if (n > 0) {
        // A pipelined request is waiting: we cannot see a close behind it. Wait to be cancelled.
        net::steady_timer forever(co_await net::this_coro::executor, std::chrono::steady_clock::time_point::max());
        co_await forever.async_wait(net::as_tuple(net::use_awaitable));
        co_return;
      }
    }
  } catch (const boost::system::system_error&) {
    co_return;  // cancelled
  }
}

net::awaitable<void> Exchange::run_blocking(const std::function<void()>& fn) {
  if (!blocking_) {
    fn();
    co_return;
  }
  co_await net::co_spawn(blocking_, [&fn]() -> net::awaitable<void> {
    fn();
    co_return;
  }, net::use_awaitable);
}

void Exchange::set_abort(std::function<void()> fn) {
  std::lock_guard lock(abort_mu_);
  abort_fn_ = std::move(fn);
  if (aborted_ && abort_fn_) abort_fn_();
}

void Exchange::abort() {
  std::lock_guard lock(abort_mu_);
  aborted_ = true;
  if (body_) body_->abort();
  if (abort_fn_) abort_fn_();
}

}  // namespace agora::platform::http
