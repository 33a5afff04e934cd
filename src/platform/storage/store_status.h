// Errors as values for the storage layer (STYLE.md rule 6).
//
// The engine's ErrorCode has no "not found" or "conflict", and src/engine is not ours to change,
// so the platform's storage has its own small code set. The routes layer maps it to HTTP in one
// function: not_found → 404, conflict → 400/409, invalid_argument → 400, too_large → 413,
// unavailable → 503 (busy, disk full, I/O error: retry later), internal → 500.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace agora::storage {

enum class StoreErrc {
  ok = 0,
  not_found,         // no such object for this owner (a foreign id is "not found", never "forbidden")
  conflict,          // a uniqueness or state rule: duplicate name, second active run, illegal transition
  invalid_argument,  // a caller passed something unusable (bad limit, bad cursor, empty name)
  too_large,         // over a configured size limit (file upload)
  unavailable,       // the write did not persist: disk full, I/O error, database busy; retry later
  internal,          // corrupt database, newer schema, a bug
};

const char* to_string(StoreErrc code);

class StoreStatus {
 public:
  StoreStatus() = default;
  StoreStatus(StoreErrc code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StoreErrc::ok; }
  StoreErrc code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StoreErrc code_ = StoreErrc::ok;
  std::string message_;
};

// A value or a StoreStatus that is not ok.
template <typename T>
class StoreResult {
 public:
  StoreResult(T value) : v_(std::move(value)) {}                    // NOLINT: implicit by design
  StoreResult(StoreStatus status) : v_(std::move(status)) {}        // NOLINT
  StoreResult(StoreErrc code, std::string message) : v_(StoreStatus(code, std::move(message))) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  StoreStatus status() const { return ok() ? StoreStatus() : std::get<StoreStatus>(v_); }
  StoreErrc code() const { return ok() ? StoreErrc::ok : std::get<StoreStatus>(v_).code(); }

 private:
  std::variant<T, StoreStatus> v_;
};

}  // namespace agora::storage
