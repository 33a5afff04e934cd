// Which type each tensor of a model gets when the model is quantized to a file type ("Q4_K_M").
//
// Usage:
//   auto ft = quant_file_type_from_name("Q4_K_M");           // nullopt if unknown
//   QuantModelInfo info{"llama", n_layer, n_head, n_head_kv, 0};
//   std::vector<QuantTensorDesc> ts = ...;                   // every tensor of the file
//   QuantPlan plan = plan_quantization(*ft, info, ts);       // plan.order, plan.types
//
// The choices are the reference engine's (llama.cpp llama-quant.cpp at the commit the test data
// was made with), so that a file quantized by `agora quantize` has the same tensor types as one
// made by llama-quantize, tensor for tensor:
//   * only 2-D+ tensors whose name ends in "weight" are quantized; norms ("_norm.weight"),
//     positional/token-type embeddings and MoE gate inputs stay as they are;
//   * output.weight (or token_embd.weight when there is no output) gets Q6_K unless the file
//     type is Q8_0 (or its rows do not fit Q6_K's blocks: Q8_0);
//   * the _M/_S/_L mixes raise attn_v, ffn_down, attn_output, attn_qkv by layer position, with
//     the reference's layer counters (which count tensors in the reference's tensor order,
//     `order` below: layer by layer, by name within a layer);
//   * a row length not divisible by the chosen type's block size falls back (Q4_K -> Q5_0,
//     Q5_K -> Q5_1, Q6_K -> Q8_0, Q2_K/Q3_K -> IQ4_NL, then F16 if that does not fit either);
//     the legacy 32-blocks types have no fallback and make planning fail, as in the reference.
// Pure functions; no allocation beyond the returned vectors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tensor/ggml_type.h"
#include "engine/util/status.h"

namespace agora {

// The reference's llama_ftype numbers (written to general.file_type).
enum class QuantFileType : uint32_t {
  ALL_F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q8_0 = 7,
  Q5_0 = 8,
  Q5_1 = 9,
  Q2_K = 10,
  Q3_K_S = 11,
  Q3_K_M = 12,
  Q3_K_L = 13,
  Q4_K_S = 14,
  Q4_K_M = 15,
  Q5_K_S = 16,
  Q5_K_M = 17,
  Q6_K = 18,
  Q2_K_S = 21,
  BF16 = 32,
};

// "Q4_K_M", "q8_0", ... (case-insensitive); the aliases Q3_K, Q4_K, Q5_K mean the _M mixes.
std::optional<QuantFileType> quant_file_type_from_name(std::string_view name);
std::string_view quant_file_type_name(QuantFileType ft);
// The type most tensors get (Q4_K for Q4_K_M).
GgmlType quant_file_type_base(QuantFileType ft);
// Names accepted by quant_file_type_from_name, for help texts.
std::string quant_file_type_names();

struct QuantModelInfo {
  std::string arch;  // general.architecture
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t n_expert = 0;
};

struct QuantTensorDesc {
  std::string name;
  GgmlType type = GgmlType::F32;  // current type
  int64_t ne[4] = {1, 1, 1, 1};
};

struct QuantPlan {
  // Tensor indices in the reference's order (output files list tensors in this order).
  std::vector<size_t> order;
  // New type per tensor (indexed like the input); equal to the input type where it stays.
  std::vector<GgmlType> types;
  int n_fallback = 0;  // tensors that fell back to another type for their row length
};

// Plans the quantization of `tensors` to `ft`. Errors (invalid_argument) name the tensor when a
// row length fits neither the chosen type nor a fallback.
Result<QuantPlan> plan_quantization(QuantFileType ft, const QuantModelInfo& info,
                                    const std::vector<QuantTensorDesc>& tensors);

// True when the reference quantizes a tensor of this name and shape at all (rule 1 above).
bool quant_tensor_is_quantizable(const QuantTensorDesc& t);

}  // namespace agora
