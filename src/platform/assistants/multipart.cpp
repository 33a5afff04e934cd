#include "platform/assistants/multipart.h"

#include <string.h>  // memmem

#include <cctype>
#include <cstring>

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

}  // namespace

std::optional<std::string> header_param(std::string_view value, std::string_view param) {
  size_t i = 0;
  // Moves i to the next ';' outside a quoted string; false at the end.
  auto next_semicolon = [&] {
    bool quoted = false;
    for (; i < value.size(); ++i) {
      const char c = value[i];
      if (quoted) {
        if (c == '\\') ++i;
        else if (c == '"') quoted = false;
      } else if (c == '"') {
        quoted = true;
      } else if (c == ';') {
        return true;
      }
    }
    return false;
  };
  while (next_semicolon()) {
    ++i;
    size_t eq = i;
    while (eq < value.size() && value[eq] != '=' && value[eq] != ';') ++eq;
    if (eq >= value.size() || value[eq] == ';') {
      i = eq;
      continue;
    }
    const std::string key = lower(trim(value.substr(i, eq - i)));
    size_t v = eq + 1;
    while (v < value.size() && (value[v] == ' ' || value[v] == '\t')) ++v;
    std::string out;
    if (v < value.size() && value[v] == '"') {
      for (++v; v < value.size() && value[v] != '"'; ++v) {
        if (value[v] == '\\' && v + 1 < value.size()) ++v;
        out += value[v];
      }
      if (v < value.size()) ++v;  // the closing quote
    } else {
      size_t end = v;
      while (end < value.size() && value[end] != ';') ++end;
      out = std::string(trim(value.substr(v, end - v)));
      v = end;
    }
    if (key == param) return out;
    i = v;
  }
  return std::nullopt;
}

ApiResult<std::string> multipart_boundary(std::string_view content_type) {
  if (lower(trim(content_type.substr(0, content_type.find(';')))) != "multipart/form-data")
    return ApiError{ApiErrorKind::unsupported_media_type, "File uploads must be multipart/form-data.", ""};
  auto b = header_param(content_type, "boundary");
  if (!b || b->empty() || b->size() > kMaxBoundaryBytes)
    return ApiError::invalid("", "The multipart/form-data Content-Type has no usable boundary.");
  return *b;
}

// ---- MultipartParser ------------------------------------------------------------------------
//
// Every delimiter is CRLF "--" boundary (RFC 2046: the CRLF before a delimiter belongs to it).
// The first one may open the body without a CRLF, so the parser starts in the preamble with a
// CRLF already held back, as if the body were preceded by one.

MultipartParser::MultipartParser(std::string_view boundary)
    : delim_("\r\n--" + std::string(boundary)), carry_("\r\n") {
  window_.reserve(2 * delim_.size());
  line_.reserve(256);
}

bool MultipartParser::fail(std::string message) {
  state_ = State::failed;
  error_ = ApiError::invalid("", std::move(message));
  return false;
}

bool MultipartParser::scan(std::string_view& in, MultipartSink* sink) {
  const size_t d = delim_.size();
  auto emit = [&](std::string_view bytes) {
    if (sink && !bytes.empty()) sink->on_part_data(bytes);
  };
  // 1. A delimiter that starts in the held-back bytes: look at them plus enough new input to
  //    complete one (carry_ is shorter than the delimiter).
  if (!carry_.empty()) {
    const size_t take = std::min(in.size(), d - 1);
    window_.assign(carry_);
    window_.append(in.data(), take);
    for (size_t i = 0; i < carry_.size(); ++i) {
      const size_t n = std::min(window_.size() - i, d);
      if (std::memcmp(window_.data() + i, delim_.data(), n) != 0) continue;
      if (n == d) {  // a whole delimiter at i
        emit(std::string_view(carry_).substr(0, i));
        in.remove_prefix(i + d - carry_.size());
        carry_.clear();
        return true;
      }
      // The input ran out inside a possible delimiter (so all of it is in the window): keep the
      // candidate, hand on what precedes it.
      emit(std::string_view(window_).substr(0, i));
      carry_.assign(window_, i, std::string::npos);
      in = {};
      return false;
    }
    emit(carry_);
    carry_.clear();
  }
  // 2. A delimiter inside the input.
  if (const void* p = ::memmem(in.data(), in.size(), delim_.data(), d)) {
    const size_t at = static_cast<size_t>(static_cast<const char*>(p) - in.data());
    emit(in.substr(0, at));
    in.remove_prefix(at + d);
    return true;
  }
  // 3. None: hold back the longest tail of the input that could begin one.
  size_t keep = 0;
  for (size_t start = in.size() > d - 1 ? in.size() - (d - 1) : 0; start < in.size(); ++start) {
    if (in[start] == '\r' && std::memcmp(in.data() + start, delim_.data(), in.size() - start) == 0) {
      keep = in.size() - start;
      break;
    }
  }
  emit(in.substr(0, in.size() - keep));
  carry_.assign(in.substr(in.size() - keep));
  in = {};
  return false;
}

bool MultipartParser::header_line_done(MultipartSink& sink) {
  if (line_.empty() || line_.back() != '\r') return fail("Malformed multipart part headers (a line does not end in CRLF).");
  line_.pop_back();
  if (line_.empty()) {  // the blank line: the part's data follows
    if (!has_disposition_ || head_.name.empty())
      return fail("A multipart part has no Content-Disposition name.");
    if (n_parts_ == kMaxMultipartParts)
      return fail("Too many multipart parts (at most " + std::to_string(kMaxMultipartParts) + ").");
    ++n_parts_;
    state_ = State::body;
    sink.on_part_begin(head_);
    return true;
  }
  const size_t colon = line_.find(':');
  if (colon != std::string::npos) {
    const std::string key = lower(trim(std::string_view(line_).substr(0, colon)));
    const std::string_view value = trim(std::string_view(line_).substr(colon + 1));
    if (key == "content-disposition") {
      has_disposition_ = true;
      head_.name = header_param(value, "name").value_or("");
      head_.filename = header_param(value, "filename");
    } else if (key == "content-type") {
      head_.content_type = std::string(value);
    }
  }
  line_.clear();
  return true;
}

bool MultipartParser::feed(std::string_view in, MultipartSink& sink) {
  while (!in.empty()) {
    switch (state_) {
      case State::failed: return false;
      case State::epilogue: return true;
      case State::preamble:
        if (scan(in, nullptr)) state_ = State::after_delim;
        break;
      case State::body:
        if (scan(in, &sink)) {
          sink.on_part_end();
          state_ = State::after_delim;
        }
        break;
      case State::after_delim: {
        const char c = in.front();
        in.remove_prefix(1);
        if (c == '-') state_ = State::after_dash;
        else if (c == '\r') state_ = State::after_cr;
        else if (c == ' ' || c == '\t') {
          state_ = State::padding;
          padding_ = 1;
        } else return fail("Malformed multipart boundary line.");
        break;
      }
      case State::after_dash:
        if (in.front() != '-') return fail("Malformed multipart boundary line.");
        in.remove_prefix(1);
        state_ = State::epilogue;
        break;
      case State::padding: {
        const char c = in.front();
        in.remove_prefix(1);
        if (c == '\r') state_ = State::after_cr;
        else if ((c != ' ' && c != '\t') || ++padding_ > kMaxTransportPadding)
          return fail("Malformed multipart boundary line.");
        break;
      }
      case State::after_cr:
        if (in.front() != '\n') return fail("Malformed multipart boundary line.");
        in.remove_prefix(1);
        state_ = State::header_line;
        head_ = {};
        has_disposition_ = false;
        header_bytes_ = 0;
        line_.clear();
        break;
      case State::header_line: {
        const size_t lf = in.find('\n');
        const size_t n = lf == std::string_view::npos ? in.size() : lf;
        header_bytes_ += n + (lf == std::string_view::npos ? 0 : 1);
        if (header_bytes_ > kMaxPartHeaderBytes)
          return fail("Multipart part headers are longer than " + std::to_string(kMaxPartHeaderBytes) + " bytes.");
        line_.append(in.data(), n);
        in.remove_prefix(lf == std::string_view::npos ? n : n + 1);
        if (lf != std::string_view::npos && !header_line_done(sink)) return false;
        break;
      }
    }
  }
  return state_ != State::failed;
}

bool MultipartParser::finish() {
  switch (state_) {
    case State::epilogue: return true;
    case State::failed: return false;
    case State::preamble: return fail("The multipart body has no boundary line.");
    default: return fail("The multipart body is truncated (no closing boundary).");
  }
}

}  // namespace agora::platform::assistants
