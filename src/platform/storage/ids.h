// Object ids shaped like OpenAI's: a type prefix and 24 random base62 characters
// (`asst_…`, `thread_…`, `msg_…`, `run_…`, `step_…`, `file-…`). Ids are random, never sequential,
// so they reveal nothing about other tenants' objects; ordering uses a separate sequence column.
#pragma once

#include <string>
#include <string_view>

namespace agora::storage {

inline constexpr std::string_view kUserIdPrefix = "user_";
inline constexpr std::string_view kOrgIdPrefix = "org_";
inline constexpr std::string_view kApiKeyIdPrefix = "key_";
inline constexpr std::string_view kFileIdPrefix = "file-";
inline constexpr std::string_view kAssistantIdPrefix = "asst_";
inline constexpr std::string_view kThreadIdPrefix = "thread_";
inline constexpr std::string_view kMessageIdPrefix = "msg_";
inline constexpr std::string_view kRunIdPrefix = "run_";
inline constexpr std::string_view kRunStepIdPrefix = "step_";

inline constexpr size_t kIdRandomChars = 24;  // 24 × log2(62) ≈ 143 bits

// `prefix` followed by kIdRandomChars characters from a CSPRNG (libsodium).
std::string new_id(std::string_view prefix);
// n random characters from [0-9A-Za-z] (CSPRNG).
std::string random_base62(size_t n);
// True when `id` is `prefix` + kIdRandomChars base62 characters (cheap pre-check before a query).
bool is_well_formed_id(std::string_view id, std::string_view prefix);

}  // namespace agora::storage
