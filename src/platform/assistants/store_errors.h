// The Store's error kinds as API errors (one mapping, docs/storage.md): not_found → 404,
// conflict → 400 (OpenAI answers a second active run and illegal run states with 400),
// invalid_argument → 400, too_large → 413, unavailable → 503, internal → 500.
#pragma once

#include <string>

#include "platform/api_error.h"
#include "platform/storage/store_status.h"

namespace agora::platform::assistants {

ApiError api_error_for(const storage::StoreStatus& status, std::string param = {});

}  // namespace agora::platform::assistants
