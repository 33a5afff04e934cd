#include "platform/http/body_stream.h"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

#include "platform/http/socket_body_stream.h"

namespace agora::platform::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

net::awaitable<BodyError> discard_rest(BodyStream& body) {
  char scratch[16 * 1024];
  for (;;) {
    const BodyRead r = co_await body.read(std::span<char>(scratch, sizeof scratch));
    if (r.error != BodyError::none) co_return r.error;
    if (r.n == 0) co_return BodyError::none;
  }
}

ApiError body_error(BodyError e, const ServerLimits& limits) {
  switch (e) {
    case BodyError::too_large:
      return {ApiErrorKind::payload_too_large,
              "The request body is larger than the upload limit of " + std::to_string(limits.max_upload_bytes) +
                  " bytes.",
              ""};
    case BodyError::malformed: return ApiError::invalid("", "Malformed HTTP request body (bad chunked framing).");
    case BodyError::timeout:
      return ApiError::invalid("", "The request body arrived too slowly (a read waited more than " +
                                       std::to_string(limits.body_timeout.count()) + " ms, or the upload fell below " +
                                       std::to_string(limits.min_upload_rate) + " bytes/s).");
    case BodyError::disconnected: return ApiError::invalid("", "The client closed the connection mid-body.");
    case BodyError::aborted:
      return {ApiErrorKind::unavailable, "The server is shutting down; retry the upload on another instance.", ""};
    case BodyError::none: break;
  }
  return {ApiErrorKind::internal, "No body error.", ""};
}

// ---- SocketBodyStream -------------------------------------------------------------------------

SocketBodyStream::SocketBodyStream(beast::tcp_stream& stream, beast::flat_buffer& buffer, Parser& parser,
                                   const ServerLimits& limits)
    : stream_(stream), buffer_(buffer), parser_(parser), limits_(limits) {}

namespace {
BodyError classify(const boost::system::error_code& ec) {
  if (ec == bhttp::error::body_limit) return BodyError::too_large;
  if (ec == beast::error::timeout) return BodyError::timeout;
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_chunk).category() &&
      ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message)
    return BodyError::malformed;
  return BodyError::disconnected;  // eof, partial message, reset, cancelled
}
}  // namespace

net::awaitable<BodyRead> SocketBodyStream::read(std::span<char> buf) {
  using clock = std::chrono::steady_clock;
  if (error_ != BodyError::none) co_return BodyRead{0, error_};
  if (parser_.is_done()) co_return BodyRead{};
  if (buf.empty()) co_return BodyRead{};
  if (!continue_sent_) {
    continue_sent_ = true;
    start_ = clock::now();
    if (beast::iequals(parser_.get()[bhttp::field::expect], "100-continue")) {
      static const std::string cont = "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.expires_after(limits_.write_timeout);
      auto [ec, n] = co_await net::async_write(stream_, net::buffer(cont), net::as_tuple(net::use_awaitable));
      stream_.expires_never();
      if (ec) {
        error_ = BodyError::disconnected;
        co_return BodyRead{0, error_};
      }
    }
  }
  for (;;) {
    if (aborted_.load()) {
      error_ = BodyError::aborted;
      co_return BodyRead{0, error_};
    }
    // Each read waits at most body_timeout; the whole body has body_timeout plus the time it
    // earned at min_upload_rate.
    const auto now = clock::now();
    const auto earned = std::chrono::milliseconds(
        static_cast<int64_t>(n_read_ * 1000 / std::max<uint64_t>(1, limits_.min_upload_rate)));
    const auto deadline = std::min(now + limits_.body_timeout, start_ + limits_.body_timeout + earned);
    if (deadline <= now) {
      error_ = BodyError::timeout;
      co_return BodyRead{0, error_};
    }
    auto& body = parser_.get().body();
    body.data = buf.data();
    body.size = buf.size();
    body.more = true;
    stream_.expires_at(deadline);
    auto [ec, n] = co_await bhttp::async_read_some(stream_, buffer_, parser_, net::as_tuple(net::use_awaitable));
    stream_.expires_never();
    if (ec == bhttp::error::need_buffer) ec = {};
    const size_t got = buf.size() - body.size;
    body.data = nullptr;
    body.size = 0;
    if (ec) {
      error_ = classify(ec);
      co_return BodyRead{0, error_};
    }
    n_read_ += got;
    if (got > 0) co_return BodyRead{got, BodyError::none};
    if (parser_.is_done()) co_return BodyRead{};
  }
}

}  // namespace agora::platform::http
