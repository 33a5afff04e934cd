#include "platform/assistants/multipart.h"

#include <cctype>

namespace agora::platform::assistants {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The value of `param` in a header value like `form-data; name="file"; filename="a.txt"`.
std::optional<std::string> header_param(std::string_view value, std::string_view param) {
  size_t pos = 0;
  while ((pos = value.find(';', pos)) != std::string_view::npos) {
    ++pos;
    std::string_view rest = trim(value.substr(pos));
    const size_t eq = rest.find('=');
    if (eq == std::string_view::npos) continue;
    if (lower(trim(rest.substr(0, eq))) != param) continue;
    std::string_view v = trim(rest.substr(eq + 1));
    std::string out;
    if (!v.empty() && v.front() == '"') {
      for (size_t i = 1; i < v.size() && v[i] != '"'; ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) ++i;
        out += v[i];
      }
    } else {
      out = std::string(v.substr(0, v.find(';')));
    }
    return out;
  }
  return std::nullopt;
}

}  // namespace

ApiResult<std::string> multipart_boundary(std::string_view content_type) {
  if (lower(trim(content_type.substr(0, content_type.find(';')))) != "multipart/form-data")
    return ApiError{ApiErrorKind::unsupported_media_type, "File uploads must be multipart/form-data.", ""};
  auto b = header_param(content_type, "boundary");
  if (!b || b->empty() || b->size() > 200)
    return ApiError::invalid("", "The multipart/form-data Content-Type has no usable boundary.");
  return *b;
}

ApiResult<std::vector<MultipartPart>> parse_multipart(std::string_view body, std::string_view boundary) {
  const std::string delim = "--" + std::string(boundary);
  std::vector<MultipartPart> parts;
  size_t pos = body.find(delim);
  if (pos == std::string_view::npos) return ApiError::invalid("", "The multipart body has no boundary line.");
  for (;;) {
    pos += delim.size();
    if (body.substr(pos, 2) == "--") return parts;  // closing delimiter
    if (body.substr(pos, 2) != "\r\n") return ApiError::invalid("", "Malformed multipart boundary line.");
    pos += 2;
    const size_t head_end = body.find("\r\n\r\n", pos);
    if (head_end == std::string_view::npos || head_end - pos > kMaxPartHeaderBytes)
      return ApiError::invalid("", "Malformed multipart part headers.");
    MultipartPart part;
    std::string_view head = body.substr(pos, head_end - pos);
    bool has_disposition = false;
    while (!head.empty()) {
      const size_t eol = head.find("\r\n");
      std::string_view line = head.substr(0, eol);
      const size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        const std::string key = lower(trim(line.substr(0, colon)));
        std::string_view value = trim(line.substr(colon + 1));
        if (key == "content-disposition") {
          has_disposition = true;
          part.name = header_param(value, "name").value_or("");
          part.filename = header_param(value, "filename");
        } else if (key == "content-type") {
          part.content_type = std::string(value);
        }
      }
      if (eol == std::string_view::npos) break;
      head.remove_prefix(eol + 2);
    }
    if (!has_disposition || part.name.empty())
      return ApiError::invalid("", "A multipart part has no Content-Disposition name.");
    const size_t data = head_end + 4;
    const size_t next = body.find("\r\n" + delim, data);
    if (next == std::string_view::npos) return ApiError::invalid("", "The multipart body is truncated.");
    part.body = body.substr(data, next - data);
    parts.push_back(std::move(part));
    if (parts.size() > kMaxMultipartParts)
      return ApiError::invalid("", "Too many multipart parts (at most " + std::to_string(kMaxMultipartParts) + ").");
    pos = next + 2;
  }
}

}  // namespace agora::platform::assistants
