// OpenAI error objects and the one mapping from error kinds to HTTP (STYLE.md rule 6).
//
// Every error the server answers is {"error":{"message","type","param","code"}}. Engine errors
// (Status/ErrorCode) and the platform's own failures both go through error_shape(), the single
// place that decides the HTTP status, the OpenAI `type` and `code`.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "engine/util/status.h"

namespace agora::platform {

enum class ApiErrorKind {
  invalid_request,          // 400: bad JSON, bad field
  context_length_exceeded,  // 400: prompt (+ max_tokens) over the context
  unauthorized,             // 401: missing or wrong API key
  not_found,                // 404: unknown route or object
  model_not_found,          // 404: unknown model id
  method_not_allowed,       // 405
  payload_too_large,        // 413: body over the limit
  unsupported_media_type,   // 415: body is not JSON
  headers_too_large,        // 431: header block over the limit
  rate_limited,             // 429: the engine queue is full (Retry-After)
  unavailable,              // 503: shutting down, overloaded, not ready (Retry-After)
  internal,                 // 500
};

struct ErrorShape {
  int http_status;
  const char* type;
  const char* code;  // nullptr = JSON null
};

// The one mapping (kind → HTTP status, OpenAI type, code).
ErrorShape error_shape(ApiErrorKind kind);
// Engine codes → kinds (invalid_argument → 400, out_of_range → 400 context_length_exceeded,
// resource_exhausted → 429, unavailable → 503, everything else → 500).
ApiErrorKind kind_for(ErrorCode code);

struct ApiError {
  ApiErrorKind kind = ApiErrorKind::internal;
  std::string message;
  std::string param;  // empty = JSON null

  static ApiError invalid(std::string param, std::string message) {
    return {ApiErrorKind::invalid_request, std::move(message), std::move(param)};
  }
  static ApiError from_status(const Status& s, std::string param = {}) {
    return {kind_for(s.code()), s.message(), std::move(param)};
  }
  int http_status() const { return error_shape(kind).http_status; }
};

// The JSON body of an error response.
std::string error_body(const ApiError& e);

// A value or an ApiError (the routes layer's Result).
template <typename T>
class ApiResult {
 public:
  ApiResult(T v) : v_(std::move(v)) {}          // NOLINT: implicit by design
  ApiResult(ApiError e) : v_(std::move(e)) {}   // NOLINT
  bool ok() const { return v_.index() == 0; }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  const ApiError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, ApiError> v_;
};

}  // namespace agora::platform
