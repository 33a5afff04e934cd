// What the stateful routes get from `agora serve` (run_serve builds it once; it outlives the
// router): the models, the Store, and the Authenticator. Each request's principal is on the
// exchange (http::Exchange::principal, set before a /v1/ handler runs); scope every Store call
// with `ex.principal->owner()`.
#pragma once

#include "platform/auth/request_auth.h"
#include "platform/limits.h"
#include "platform/openai/model_registry.h"
#include "platform/storage/store.h"

namespace agora::platform {

struct PlatformContext {
  const ModelRegistry& models;
  storage::Store& store;
  auth::Authenticator& auth;
  ServerLimits limits;
  std::string web_dir;  // the built web app (web/dist); empty = not served
  std::string data_dir = {};  // --data-dir (uploads spool under DATA/files); empty in tests
};

}  // namespace agora::platform
