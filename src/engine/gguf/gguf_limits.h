// Named caps on what a GGUF file may declare (STYLE.md: every limit a named constant).
#pragma once

#include <cstdint>

namespace agora::limits {

constexpr uint64_t kGgufMaxKv = 1u << 20;           // metadata entries
constexpr uint64_t kGgufMaxTensors = 1u << 20;      // tensor infos
constexpr uint64_t kGgufMaxString = 64u << 20;      // bytes in one string
constexpr uint64_t kGgufMaxArray = 1u << 28;        // elements in one array
constexpr int kGgufMaxArrayDepth = 8;               // nested arrays
constexpr uint64_t kGgufMaxAlignment = 1u << 20;    // general.alignment

}  // namespace agora::limits
