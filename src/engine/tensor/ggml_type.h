// Tensor element types as numbered in GGUF files, and their block layouts.
//
// A row of a quantized tensor is a sequence of blocks; each block encodes `block_size`
// consecutive values in `type_size` bytes. Non-quantized types have block_size 1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace agora {

enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ4_NL = 20,
  IQ4_XS = 23,
  BF16 = 30,
};

struct TypeInfo {
  std::string_view name;
  int64_t block_size;  // values per block
  size_t type_size;    // bytes per block
  bool quantized;
};

// Returns the layout of a type, or nullopt for a type number Agora does not know.
std::optional<TypeInfo> type_info(uint32_t type);
const TypeInfo& type_info(GgmlType type);
std::string_view type_name(GgmlType type);
std::optional<GgmlType> type_from_name(std::string_view name);

// Bytes of one row of n values; n must be a multiple of the block size.
size_t row_size(GgmlType type, int64_t n);

}  // namespace agora
