// SocketBodyStream: the server's BodyStream over a connection (body_stream.h has the contract).
// Beast's parser, switched to buffer_body after the head, decodes Content-Length and chunked
// framing straight into the caller's buffer; what it read ahead stays in the connection's
// flat_buffer (at most one socket read, about 64 KiB), so memory does not grow with the body.
#pragma once

#include <chrono>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "platform/http/body_stream.h"

namespace agora::platform::http {

class SocketBodyStream final : public BodyStream {
 public:
  using Parser = boost::beast::http::request_parser<boost::beast::http::buffer_body>;
  // `parser` has read the head (its body_limit is the caller's); all four outlive this object.
  SocketBodyStream(boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer, Parser& parser,
                   const ServerLimits& limits);

  boost::asio::awaitable<BodyRead> read(std::span<char> buf) override;
  bool done() const override { return error_ == BodyError::none && parser_.is_done(); }
  uint64_t n_read() const override { return n_read_; }

 private:
  boost::beast::tcp_stream& stream_;
  boost::beast::flat_buffer& buffer_;
  Parser& parser_;
  const ServerLimits& limits_;
  std::chrono::steady_clock::time_point start_;
  uint64_t n_read_ = 0;
  bool continue_sent_ = false;
  BodyError error_ = BodyError::none;
};

}  // namespace agora::platform::http
