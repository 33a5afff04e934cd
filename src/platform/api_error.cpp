#include "platform/api_error.h"

#include <nlohmann/json.hpp>

namespace agora::platform {

ErrorShape error_shape(ApiErrorKind kind) {
  switch (kind) {
    case ApiErrorKind::invalid_request: return {400, "invalid_request_error", nullptr};
    case ApiErrorKind::context_length_exceeded: return {400, "invalid_request_error", "context_length_exceeded"};
    case ApiErrorKind::unauthorized: return {401, "invalid_request_error", "invalid_api_key"};
    case ApiErrorKind::not_found: return {404, "invalid_request_error", "not_found"};
    case ApiErrorKind::model_not_found: return {404, "invalid_request_error", "model_not_found"};
    case ApiErrorKind::method_not_allowed: return {405, "invalid_request_error", "method_not_allowed"};
    case ApiErrorKind::payload_too_large: return {413, "invalid_request_error", "request_too_large"};
    case ApiErrorKind::unsupported_media_type: return {415, "invalid_request_error", "unsupported_media_type"};
    case ApiErrorKind::headers_too_large: return {431, "invalid_request_error", "headers_too_large"};
    case ApiErrorKind::rate_limited: return {429, "rate_limit_error", "rate_limit_exceeded"};
    case ApiErrorKind::unavailable: return {503, "server_error", "service_unavailable"};
    case ApiErrorKind::internal: return {500, "server_error", "internal_error"};
  }
  return {500, "server_error", "internal_error"};
}

ApiErrorKind kind_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument:
    case ErrorCode::unsupported: return ApiErrorKind::invalid_request;
    case ErrorCode::out_of_range: return ApiErrorKind::context_length_exceeded;
    case ErrorCode::resource_exhausted: return ApiErrorKind::rate_limited;
    case ErrorCode::unavailable:
    case ErrorCode::cancelled: return ApiErrorKind::unavailable;
    default: return ApiErrorKind::internal;
  }
}

std::string error_body(const ApiError& e) {
  const ErrorShape s = error_shape(e.kind);
  nlohmann::json j = {{"error",
                       {{"message", e.message},
                        {"type", s.type},
                        {"param", e.param.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.param)},
                        {"code", s.code ? nlohmann::json(s.code) : nlohmann::json(nullptr)}}}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace agora::platform
