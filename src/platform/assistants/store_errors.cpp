#include "platform/assistants/store_errors.h"

namespace agora::platform::assistants {

ApiError api_error_for(const storage::StoreStatus& s, std::string param) {
  using storage::StoreErrc;
  switch (s.code()) {
    case StoreErrc::not_found: return {ApiErrorKind::not_found, "No such object: " + s.message() + ".", std::move(param)};
    case StoreErrc::conflict:
    case StoreErrc::invalid_argument:
    case StoreErrc::ok: return {ApiErrorKind::invalid_request, s.message(), std::move(param)};
    case StoreErrc::too_large: return {ApiErrorKind::payload_too_large, s.message(), std::move(param)};
    case StoreErrc::unavailable:
      return {ApiErrorKind::unavailable, "Storage is unavailable; retry later (" + s.message() + ").", ""};
    case StoreErrc::internal: return {ApiErrorKind::internal, "Storage error: " + s.message(), ""};
  }
  return {ApiErrorKind::internal, s.message(), ""};
}

}  // namespace agora::platform::assistants
