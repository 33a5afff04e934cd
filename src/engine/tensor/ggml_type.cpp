#include "engine/tensor/ggml_type.h"

#include <array>

namespace agora {
namespace {

struct Entry {
  uint32_t id;
  TypeInfo info;
};

constexpr std::array<Entry, 17> kTypes = {{
    {0, {"F32", 1, 4, false}},
    {1, {"F16", 1, 2, false}},
    {2, {"Q4_0", 32, 18, true}},
    {3, {"Q4_1", 32, 20, true}},
    {6, {"Q5_0", 32, 22, true}},
    {7, {"Q5_1", 32, 24, true}},
    {8, {"Q8_0", 32, 34, true}},
    {9, {"Q8_1", 32, 36, true}},
    {10, {"Q2_K", 256, 84, true}},
    {11, {"Q3_K", 256, 110, true}},
    {12, {"Q4_K", 256, 144, true}},
    {13, {"Q5_K", 256, 176, true}},
    {14, {"Q6_K", 256, 210, true}},
    {15, {"Q8_K", 256, 292, true}},
    {20, {"IQ4_NL", 32, 18, true}},
    {23, {"IQ4_XS", 256, 136, true}},
    {30, {"BF16", 1, 2, false}},
}};

}  // namespace

std::optional<TypeInfo> type_info(uint32_t type) {
  for (const auto& e : kTypes)
    if (e.id == type) return e.info;
  return std::nullopt;
}

const TypeInfo& type_info(GgmlType type) {
  for (const auto& e : kTypes)
    if (e.id == static_cast<uint32_t>(type)) return e.info;
  return kTypes[0].info;  // unreachable for valid enum values
}

std::string_view type_name(GgmlType type) { return type_info(type).name; }

std::optional<GgmlType> type_from_name(std::string_view name) {
  for (const auto& e : kTypes) {
    if (e.info.name.size() != name.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < name.size(); ++i) {
      char a = e.info.name[i], b = name[i];
      if (b >= 'a' && b <= 'z') b = static_cast<char>(b - 'a' + 'A');
      if (a != b) { eq = false; break; }
    }
    if (eq) return static_cast<GgmlType>(e.id);
  }
  return std::nullopt;
}

size_t row_size(GgmlType type, int64_t n) {
  const TypeInfo& ti = type_info(type);
  return static_cast<size_t>(n / ti.block_size) * ti.type_size;
}

}  // namespace agora
