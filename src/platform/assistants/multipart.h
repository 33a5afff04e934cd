// multipart/form-data (RFC 7578, framing of RFC 2046 §5.1.1) as the OpenAI SDKs send file
// uploads, parsed incrementally: the body arrives in chunks of any size (a delimiter may be split
// across any number of them) and part data is handed on as it is found, never collected.
//
//   MultipartParser parser(boundary);
//   while (auto chunk = next_chunk())
//     if (!parser.feed(chunk, sink)) return parser.error();   // 400 naming what is malformed
//   if (!parser.finish()) return parser.error();              // truncated / no boundary at all
//
// The sink sees, per part: on_part_begin(head), on_part_data(bytes) zero or more times (views
// valid only during the call), on_part_end(). A preamble before the first delimiter and an
// epilogue after the closing one are ignored. Memory: the parser keeps the delimiter, one header
// line (at most kMaxPartHeaderBytes of headers per part) and fewer than delimiter-length bytes of
// held-back data, whatever the size of the body.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "platform/api_error.h"

namespace agora::platform::assistants {

inline constexpr size_t kMaxMultipartParts = 16;
inline constexpr size_t kMaxPartHeaderBytes = 4096;  // all header lines of one part
inline constexpr size_t kMaxBoundaryBytes = 200;     // RFC 2046 allows 70; we accept more
inline constexpr size_t kMaxTransportPadding = 64;   // spaces/tabs after a delimiter

struct MultipartPartHead {
  std::string name;                     // Content-Disposition name
  std::optional<std::string> filename;  // Content-Disposition filename (file parts)
  std::string content_type;             // Content-Type, empty when absent
};

class MultipartSink {
 public:
  virtual ~MultipartSink() = default;
  virtual void on_part_begin(const MultipartPartHead& head) = 0;
  virtual void on_part_data(std::string_view bytes) = 0;  // never empty
  virtual void on_part_end() = 0;
};

class MultipartParser {
 public:
  // `boundary` as multipart_boundary() returned it (1..kMaxBoundaryBytes bytes).
  explicit MultipartParser(std::string_view boundary);

  // Consumes all of `chunk`, calling `sink` for what it completes. Returns false once the body is
  // malformed (error() says why); every later call then does nothing and returns false.
  bool feed(std::string_view chunk, MultipartSink& sink);
  // The body has ended: true if the closing delimiter was seen, else false with error() set.
  bool finish();
  // The closing delimiter has been seen (what follows is epilogue).
  bool done() const { return state_ == State::epilogue; }
  const ApiError& error() const { return error_; }
  size_t n_parts() const { return n_parts_; }

 private:
  enum class State { preamble, after_delim, after_dash, padding, after_cr, header_line, body, epilogue, failed };
  bool fail(std::string message);
  // Scans for the delimiter, handing data before it to the sink (when `sink` is set). Returns
  // true with `in` advanced past the delimiter, or false with all of `in` consumed.
  bool scan(std::string_view& in, MultipartSink* sink);
  bool header_line_done(MultipartSink& sink);

  State state_ = State::preamble;
  std::string delim_;   // CRLF "--" boundary
  std::string carry_;   // held back: a proper prefix of delim_ that the next chunk may complete
  std::string window_;  // scratch for matches that start in carry_
  std::string line_;    // the header line being read
  size_t header_bytes_ = 0;
  size_t padding_ = 0;
  size_t n_parts_ = 0;
  MultipartPartHead head_;
  bool has_disposition_ = false;
  ApiError error_;
};

// The boundary parameter of a multipart/form-data Content-Type (415 for another type, 400 when
// the boundary is missing, empty or longer than kMaxBoundaryBytes).
ApiResult<std::string> multipart_boundary(std::string_view content_type);

// The value of `param` in a header value like `form-data; name="file"; filename="a.txt"`
// (quoted strings may hold `;` and backslash escapes); nullopt when absent.
std::optional<std::string> header_param(std::string_view value, std::string_view param);

}  // namespace agora::platform::assistants
