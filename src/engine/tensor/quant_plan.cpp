#include "engine/tensor/quant_plan.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace agora {
namespace {

using FT = QuantFileType;
using T = GgmlType;

struct FileTypeName {
  std::string_view name;
  FT ft;
};

constexpr FileTypeName kFileTypes[] = {
    {"F32", FT::ALL_F32}, {"F16", FT::F16},       {"BF16", FT::BF16},     {"Q4_0", FT::Q4_0},
    {"Q4_1", FT::Q4_1},   {"Q5_0", FT::Q5_0},     {"Q5_1", FT::Q5_1},     {"Q8_0", FT::Q8_0},
    {"Q2_K", FT::Q2_K},   {"Q2_K_S", FT::Q2_K_S}, {"Q3_K_S", FT::Q3_K_S}, {"Q3_K_M", FT::Q3_K_M},
    {"Q3_K_L", FT::Q3_K_L}, {"Q4_K_S", FT::Q4_K_S}, {"Q4_K_M", FT::Q4_K_M}, {"Q5_K_S", FT::Q5_K_S},
    {"Q5_K_M", FT::Q5_K_M}, {"Q6_K", FT::Q6_K},
};

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

int n_dims(const QuantTensorDesc& t) {
  int n = 1;
  for (int i = 1; i < 4; ++i)
    if (t.ne[i] > 1) n = i + 1;
  return n;
}

// The layer number of "blk.N.*", or -1.
int layer_of(const std::string& name) {
  int il = -1;
  if (std::sscanf(name.c_str(), "blk.%d.", &il) != 1) return -1;
  return il;
}

// The reference's layer test for the _M mixes: the first and last eighth, and every third
// layer in between.
bool use_more_bits(int i_layer, int n_layers) {
  return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

struct State {
  const QuantModelInfo& info;
  FT ft;
  bool has_output = false;
  int n_attention_wv = 0;
  int i_attention_wv = 0;
  int n_ffn = 0;  // n_ffn_down = n_ffn_gate = n_ffn_up = n_layer
  int i_ffn_down = 0, i_ffn_gate = 0, i_ffn_up = 0;
  int n_fallback = 0;
};

// The reference's per-tensor choice (llama_tensor_get_type) for the file types Agora writes.
// The IQ-specific branches of the reference are left out: Agora does not write those types.
Result<GgmlType> tensor_type(State& qs, GgmlType new_type, const QuantTensorDesc& t) {
  const std::string& name = t.name;
  const FT ft = qs.ft;
  const bool falcon = qs.info.arch == "falcon";
  const int64_t n_gqa = qs.info.n_head_kv > 0 ? qs.info.n_head / qs.info.n_head_kv : 1;
  const int64_t n_expert = qs.info.n_expert;
  // LLM_TYPE_70B: an 80-layer llama with grouped-query attention.
  const bool is_70b = qs.info.arch == "llama" && qs.info.n_layer == 80 && qs.info.n_head != qs.info.n_head_kv;
  // With experts the reference parses the layer from the name; otherwise it uses its counter.
  auto layer = [&](int counter) { return n_expert > 1 ? std::max(0, layer_of(name)) : counter; };

  if (name == "output.weight" || (!qs.has_output && name == "token_embd.weight")) {
    const int64_t qk = type_info(new_type).block_size;
    if (falcon || t.ne[0] % qk != 0) {
      new_type = T::Q8_0;
    } else if (new_type != T::Q8_0) {
      new_type = T::Q6_K;
    }
  } else if (name == "token_embd.weight") {
    // Only the IQ types change the embedding type in the reference.
  } else if (contains(name, "attn_v.weight")) {
    if (ft == FT::Q2_K) {
      new_type = n_gqa >= 4 ? T::Q4_K : T::Q3_K;
    } else if (ft == FT::Q2_K_S && n_gqa >= 4) {
      new_type = T::Q4_K;
    } else if (ft == FT::Q3_K_M) {
      new_type = qs.i_attention_wv < 2 ? T::Q5_K : T::Q4_K;
    } else if (ft == FT::Q3_K_L) {
      new_type = T::Q5_K;
    } else if ((ft == FT::Q4_K_M || ft == FT::Q5_K_M) && use_more_bits(qs.i_attention_wv, qs.n_attention_wv)) {
      new_type = T::Q6_K;
    } else if (ft == FT::Q4_K_S && qs.i_attention_wv < 4) {
      new_type = T::Q5_K;
    }
    if (is_70b && (new_type == T::Q3_K || new_type == T::Q4_K)) new_type = T::Q5_K;
    if (n_expert == 8) new_type = T::Q8_0;
    ++qs.i_attention_wv;
  } else if (contains(name, "attn_k.weight")) {
    if (n_expert == 8) new_type = T::Q8_0;
  } else if (contains(name, "attn_q.weight")) {
    // IQ types only.
  } else if (contains(name, "ffn_down")) {
    const int i_layer = layer(qs.i_ffn_down), n_layer = qs.n_ffn;
    if (ft == FT::Q2_K) {
      new_type = T::Q3_K;
    } else if (ft == FT::Q2_K_S) {
      if (i_layer < n_layer / 8) new_type = T::Q4_K;
    } else if (ft == FT::Q3_K_M) {
      new_type = i_layer < n_layer / 16                    ? T::Q5_K
                 : !falcon || use_more_bits(i_layer, n_layer) ? T::Q4_K
                                                              : T::Q3_K;
    } else if (ft == FT::Q3_K_L) {
      new_type = falcon ? T::Q4_K : T::Q5_K;
    } else if (ft == FT::Q4_K_M) {
      if (falcon) {
        new_type = i_layer < n_layer / 16 ? T::Q6_K : use_more_bits(i_layer, n_layer) ? T::Q5_K : T::Q4_K;
      } else if (use_more_bits(i_layer, n_layer)) {
        new_type = T::Q6_K;
      }
    } else if (ft == FT::Q5_K_M && use_more_bits(i_layer, n_layer)) {
      new_type = T::Q6_K;
    } else if (ft == FT::Q4_K_S && !falcon && i_layer < n_layer / 8) {
      new_type = T::Q5_K;
    }
    ++qs.i_ffn_down;
  } else if (contains(name, "attn_output.weight")) {
    if (!falcon) {
      if (n_expert == 8) {
        if (ft == FT::Q2_K || ft == FT::Q3_K_S || ft == FT::Q3_K_M || ft == FT::Q4_K_S || ft == FT::Q4_K_M)
          new_type = T::Q5_K;
      } else {
        if (ft == FT::Q2_K) new_type = T::Q3_K;
        else if (ft == FT::Q3_K_M) new_type = T::Q4_K;
        else if (ft == FT::Q3_K_L) new_type = T::Q5_K;
      }
    } else if (ft == FT::Q3_K_L) {
      new_type = T::Q4_K;
    }
  } else if (contains(name, "attn_qkv.weight")) {
    if (ft == FT::Q3_K_M || ft == FT::Q3_K_L) new_type = T::Q4_K;
    else if (ft == FT::Q4_K_M) new_type = T::Q5_K;
    else if (ft == FT::Q5_K_M) new_type = T::Q6_K;
  } else if (contains(name, "ffn_gate")) {
    ++qs.i_ffn_gate;
  } else if (contains(name, "ffn_up")) {
    ++qs.i_ffn_up;
  }

  // Rows that do not fill whole blocks of the chosen type.
  if (t.ne[0] % type_info(new_type).block_size != 0) {
    GgmlType fb;
    switch (new_type) {
      case T::Q2_K: case T::Q3_K: case T::IQ4_XS: fb = T::IQ4_NL; break;
      case T::Q4_K: fb = T::Q5_0; break;
      case T::Q5_K: fb = T::Q5_1; break;
      case T::Q6_K: fb = T::Q8_0; break;
      default:
        return Status(ErrorCode::invalid_argument,
                      "tensor " + name + ": rows of " + std::to_string(t.ne[0]) + " values are not divisible by " +
                          std::to_string(type_info(new_type).block_size) + ", required for " +
                          std::string(type_name(new_type)) + " (no fallback for this type, as in the reference)");
    }
    if (t.ne[0] % type_info(fb).block_size != 0) fb = T::F16;
    new_type = fb;
    ++qs.n_fallback;
  }
  return new_type;
}

}  // namespace

std::optional<QuantFileType> quant_file_type_from_name(std::string_view name) {
  std::string up(name);
  for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (up == "Q3_K") return FT::Q3_K_M;
  if (up == "Q4_K") return FT::Q4_K_M;
  if (up == "Q5_K") return FT::Q5_K_M;
  for (const auto& f : kFileTypes)
    if (f.name == up) return f.ft;
  return std::nullopt;
}

std::string_view quant_file_type_name(QuantFileType ft) {
  for (const auto& f : kFileTypes)
    if (f.ft == ft) return f.name;
  return "?";
}

std::string quant_file_type_names() {
  std::string s;
  for (const auto& f : kFileTypes) s += (s.empty() ? "" : ", ") + std::string(f.name);
  return s + " (Q3_K, Q4_K, Q5_K = the _M mixes)";
}

GgmlType quant_file_type_base(QuantFileType ft) {
  switch (ft) {
    case FT::ALL_F32: return T::F32;
    case FT::F16: return T::F16;
    case FT::BF16: return T::BF16;
    case FT::Q4_0: return T::Q4_0;
    case FT::Q4_1: return T::Q4_1;
    case FT::Q5_0: return T::Q5_0;
    case FT::Q5_1: return T::Q5_1;
    case FT::Q8_0: return T::Q8_0;
    case FT::Q2_K: case FT::Q2_K_S: return T::Q2_K;
    case FT::Q3_K_S: case FT::Q3_K_M: case FT::Q3_K_L: return T::Q3_K;
    case FT::Q4_K_S: case FT::Q4_K_M: return T::Q4_K;
    case FT::Q5_K_S: case FT::Q5_K_M: return T::Q5_K;
    case FT::Q6_K: return T::Q6_K;
  }
  return T::F32;
}

bool quant_tensor_is_quantizable(const QuantTensorDesc& t) {
  const std::string& n = t.name;
  if (n.size() < 6 || n.compare(n.size() - 6, 6, "weight") != 0) return false;
  if (n_dims(t) < 2) return false;
  if (contains(n, "_norm.weight")) return false;
  if (contains(n, "ffn_gate_inp.weight")) return false;
  if (n == "position_embd.weight" || n == "token_types.weight") return false;
  if (contains(n, "ssm_conv1d.weight") || contains(n, "attn_rel_b.weight")) return false;
  for (const char* rwkv : {"time_mix_first.weight", "time_mix_w1.weight", "time_mix_w2.weight",
                           "time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight"})
    if (contains(n, rwkv)) return false;
  return true;
}

Result<QuantPlan> plan_quantization(QuantFileType ft, const QuantModelInfo& info,
                                    const std::vector<QuantTensorDesc>& tensors) {
  QuantPlan plan;
  plan.order.resize(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) plan.order[i] = i;
  // The reference's tensor order: by layer (non-layer tensors first), then by name.
  std::stable_sort(plan.order.begin(), plan.order.end(), [&](size_t a, size_t b) {
    const int la = layer_of(tensors[a].name), lb = layer_of(tensors[b].name);
    if (la != lb) return la < lb;
    return tensors[a].name < tensors[b].name;
  });

  State qs{info, ft};
  for (const auto& t : tensors) {
    if (contains(t.name, "attn_v.weight") || contains(t.name, "attn_qkv.weight") || contains(t.name, "attn_kv_b.weight"))
      ++qs.n_attention_wv;
    else if (t.name == "output.weight")
      qs.has_output = true;
  }
  qs.n_ffn = static_cast<int>(info.n_layer);

  const GgmlType base = quant_file_type_base(ft);
  const bool base_quantized = type_info(base).quantized;
  plan.types.resize(tensors.size());
  for (size_t idx : plan.order) {
    const QuantTensorDesc& t = tensors[idx];
    GgmlType nt = t.type;
    if (quant_tensor_is_quantizable(t)) {
      nt = base;
      if (base_quantized) {
        auto r = tensor_type(qs, base, t);
        if (!r.ok()) return r.status();
        nt = r.value();
      }
    }
    plan.types[idx] = nt;
  }
  plan.n_fallback = qs.n_fallback;
  return plan;
}

}  // namespace agora
