// Exchange: one HTTP request and its response on a connection, as the route handlers see it.
//
// A handler either sets one response (set_response/set_error), or begin_stream() then send_event()… end_stream() for
// Server-Sent Events (chunked transfer encoding, exactly "data: <json>\n\n" per event and
// "data: [DONE]\n\n" at the end, as OpenAI streams). Writes never throw: a failed or timed-out
// write marks the client gone and returns false. wait_disconnect() completes when the client
// closes its side, so a handler can race it against generation (see chat_route.cpp).
//
// Streamed routes (Router::add_streaming) run after the head only: body() is empty and they read
// body_stream() instead. run_blocking() runs disk work (writes, fsync) on the server's blocking
// pool so that the I/O threads keep serving other connections meanwhile.
//
// Thread safety: used only on its connection's strand, except abort(), which the server may call
// from any thread during a drain that has run out of time.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "platform/api_error.h"
#include "platform/auth/principal.h"
#include "platform/http/body_stream.h"
#include "platform/limits.h"

namespace agora::platform::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Headers = std::vector<std::pair<std::string, std::string>>;

class Exchange {
 public:
  // `blocking`: where run_blocking() runs its work (none: inline, on the caller's thread).
  Exchange(boost::beast::tcp_stream& stream, Request request, const ServerLimits& limits,
           boost::asio::any_io_executor blocking = {})
      : stream_(stream), request_(std::move(request)), limits_(limits), blocking_(std::move(blocking)) {}

  const Request& request() const { return request_; }
  const std::string& body() const { return request_.body(); }
  // The body still to be read, for a streamed route; nullptr otherwise. Owned by the server.
  BodyStream* body_stream() const { return body_; }
  void set_body_stream(BodyStream* body) { body_ = body; }
  // Runs `fn` on the blocking pool and resumes on this connection's strand when it returns (its
  // exception, if any, is rethrown here). `fn` must outlive the call: pass a named object.
  boost::asio::awaitable<void> run_blocking(const std::function<void()>& fn);
  std::string_view path() const;  // target without the query string
  const ServerLimits& limits() const { return limits_; }
  // Values of the `{}` segments of the matched route pattern.
  std::vector<std::string> path_params;
  // The route's metrics label (the pattern), set by the router.
  std::string route_label = "unmatched";
  // Who the request acts for, set by the server's authenticate hook (auth/request_auth.h) before
  // the handler runs; always set for /v1/ handlers when the hook is installed.
  std::optional<auth::Principal> principal;

  // A whole response: set_response()/set_error() record it (synchronously; GCC 12 mishandles
  // non-trivial temporaries inside co_await expressions, so the API keeps them out), and
  // flush() writes it. The server flushes after the handler returns if the handler did not.
  void set_response(unsigned status, std::string content_type, std::string body, Headers headers = {});
  void set_json(unsigned status, std::string body) { set_response(status, "application/json", std::move(body)); }
  // The OpenAI error object with its status (and Retry-After on 429/503).
  void set_error(const ApiError& error);
  bool has_pending() const { return pending_status_ != 0; }
  boost::asio::awaitable<bool> flush();

  // A body of known length written in pieces (file downloads): begin_body() sends the head,
  // send_body() each piece; the pieces must add up to content_length. false: the client is gone.
  boost::asio::awaitable<bool> begin_body(unsigned status, std::string_view content_type, uint64_t content_length);
  boost::asio::awaitable<bool> send_body(std::string_view bytes);

  boost::asio::awaitable<bool> begin_stream();
  boost::asio::awaitable<bool> send_event(std::string_view data);
  boost::asio::awaitable<bool> end_stream();  // "data: [DONE]" and the last chunk
  // Named events, as the Responses API streams them: "event: <name>\ndata: <json>\n\n"; then
  // close_stream() ends the chunked body without a [DONE] sentinel.
  boost::asio::awaitable<bool> send_named_event(std::string_view name, std::string_view data);
  boost::asio::awaitable<bool> close_stream();

  // Completes when the client disconnects; never completes otherwise (cancel it, e.g. with ||).
  boost::asio::awaitable<void> wait_disconnect();

  bool responded() const { return status_ != 0; }
  unsigned status() const { return status_; }
  bool streaming() const { return streaming_; }
  bool client_gone() const { return client_gone_; }
  bool keep_alive() const { return request_.keep_alive() && !client_gone_ && !close_after_; }
  void close_after() { close_after_ = true; }

  // Drain support: a handler registers how to stop its work; the server may call abort() from
  // any thread (idempotent).
  void set_abort(std::function<void()> fn);
  void abort();

 private:
  boost::asio::awaitable<bool> write_raw(const std::string& data);
  unsigned pending_status_ = 0;
  std::string pending_type_, pending_body_;
  Headers pending_headers_;
  boost::beast::tcp_stream& stream_;
  Request request_;
  const ServerLimits& limits_;
  boost::asio::any_io_executor blocking_;
  BodyStream* body_ = nullptr;
  unsigned status_ = 0;
  bool streaming_ = false;
  bool client_gone_ = false;
  bool close_after_ = false;
  std::mutex abort_mu_;
  std::function<void()> abort_fn_;
  bool aborted_ = false;
};

}  // namespace agora::platform::http
