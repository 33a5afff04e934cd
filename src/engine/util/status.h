// Errors as values at the engine's boundaries (STYLE.md rule 6).
//
// `Status` is ok or (code, message); `Result<T>` is a value or a Status. Engine functions that
// can fail on outside input return one of these and leave their state unchanged on failure.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace agora {

enum class ErrorCode {
  ok = 0,
  invalid_argument,  // a caller passed something unusable (bad flag, bad parameter)
  io_error,          // open/read/mmap/write failed
  invalid_file,      // a file's content is malformed (see the GGUF error taxonomy)
  unsupported,       // valid but not supported (an architecture or type we do not run)
  out_of_range,      // a value exceeds a limit (context length, token id)
  resource_exhausted,  // a queue or pool is full: retry later (HTTP 429)
  unavailable,       // shutting down or not ready (HTTP 503)
  cancelled,         // the caller cancelled the operation
  internal,
};

class Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok_status() { return {}; }

  bool ok() const { return code_ == ErrorCode::ok; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  ErrorCode code_ = ErrorCode::ok;
  std::string message_;
};

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT
  Result(ErrorCode code, std::string message) : v_(Status(code, std::move(message))) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace agora
