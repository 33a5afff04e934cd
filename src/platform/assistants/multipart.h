// multipart/form-data (RFC 7578) as the OpenAI SDKs send file uploads: parts are views into the
// request body, so a file part is handed to the Store in pieces without another copy.
// Bounded: at most kMaxMultipartParts parts and kMaxPartHeaderBytes of headers per part.
// TODO(upload-stream): the HTTP server reads whole bodies (max_body_bytes); a body-streaming
// route would feed FileUpload::write() straight from the socket.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/api_error.h"

namespace agora::platform::assistants {

inline constexpr size_t kMaxMultipartParts = 16;
inline constexpr size_t kMaxPartHeaderBytes = 4096;

struct MultipartPart {
  std::string name;                     // Content-Disposition name
  std::optional<std::string> filename;  // Content-Disposition filename (file parts)
  std::string content_type;
  std::string_view body;                // into the request body
};

// The boundary parameter of a multipart/form-data Content-Type (400 otherwise).
ApiResult<std::string> multipart_boundary(std::string_view content_type);
// The parts of `body` (400 naming what is malformed).
ApiResult<std::vector<MultipartPart>> parse_multipart(std::string_view body, std::string_view boundary);

}  // namespace agora::platform::assistants
