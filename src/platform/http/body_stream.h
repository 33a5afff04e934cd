// BodyStream: a request body read in pieces, for routes registered with Router::add_streaming
// (POST /v1/files). The server has read only the head when such a handler starts, so memory stays
// bounded by the handler's own buffer whatever the body's size.
//
//   char buf[64 * 1024];
//   for (;;) {
//     http::BodyRead r = co_await body.read(buf);
//     if (r.error != http::BodyError::none) { ex.set_error(http::body_error(r.error, ex.limits())); co_return; }
//     if (r.n == 0) break;                       // the whole body has arrived
//     consume(std::string_view(buf, r.n));
//   }
//
// Limits (limits.h): the body may not pass max_upload_bytes (a Content-Length over it is refused
// with 413 before the handler runs; a chunked body fails with too_large where it crosses); each
// read waits at most body_timeout, and the whole body gets body_timeout plus one second per
// min_upload_rate bytes received. `Expect: 100-continue` is answered on the first read, so a
// handler that refuses early never makes the client send its body.
//
// Thread safety: read() runs on the connection's strand; abort() may be called from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include <boost/asio/awaitable.hpp>

#include "platform/api_error.h"
#include "platform/limits.h"

namespace agora::platform::http {

enum class BodyError {
  none,
  too_large,     // over max_upload_bytes (413)
  malformed,     // bad chunked framing (400)
  timeout,       // the client stalled or trickled: the connection is already closed
  disconnected,  // the client went away mid-body
  aborted,       // the server is draining and ran out of time (503)
};

struct BodyRead {
  size_t n = 0;  // bytes placed in the buffer; 0 with BodyError::none: the body is complete
  BodyError error = BodyError::none;
};

class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // Up to buf.size() bytes of the body (at least one unless the body is complete or failed).
  // After an error every later call returns the same error.
  virtual boost::asio::awaitable<BodyRead> read(std::span<char> buf) = 0;
  // The whole body has been read.
  virtual bool done() const = 0;
  // Body bytes read so far (after chunked decoding).
  virtual uint64_t n_read() const = 0;
  // Makes the next read fail with BodyError::aborted (any thread; the drain timeout).
  void abort() { aborted_ = true; }

 protected:
  std::atomic<bool> aborted_{false};
};

// Reads and drops the rest of the body (so a connection can be kept alive after an early answer).
// Returns the first error, or none once the body is complete.
boost::asio::awaitable<BodyError> discard_rest(BodyStream& body);

// The OpenAI error answered for a body error.
ApiError body_error(BodyError e, const ServerLimits& limits);

}  // namespace agora::platform::http
