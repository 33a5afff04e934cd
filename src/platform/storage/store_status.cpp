#include "platform/storage/store_status.h"

namespace agora::storage {

const char* to_string(StoreErrc code) {
  switch (code) {
    case StoreErrc::ok: return "ok";
    case StoreErrc::not_found: return "not_found";
    case StoreErrc::conflict: return "conflict";
    case StoreErrc::invalid_argument: return "invalid_argument";
    case StoreErrc::too_large: return "too_large";
    case StoreErrc::unavailable: return "unavailable";
    case StoreErrc::internal: return "internal";
  }
  return "internal";
}

}  // namespace agora::storage
