#include "engine/model_params.h"

#include <cmath>

namespace agora {

const char* arch_kind_name(ArchKind a) {
  switch (a) {
    case ArchKind::llama: return "llama";
    case ArchKind::qwen2: return "qwen2";
    case ArchKind::phi3: return "phi3";
    case ArchKind::gemma2: return "gemma2";
    case ArchKind::bert: return "bert";
  }
  return "?";
}

Result<ModelParams> read_model_params(const GgufFile& f) {
  ModelParams p;
  auto err = [&](const std::string& key, const std::string& what) {
    return Status(ErrorCode::invalid_file, f.path() + ": " + key + ": " + what);
  };
  auto arch = f.get_str("general.architecture");
  if (!arch) return err("general.architecture", "missing");
  p.arch_name = std::string(*arch);
  if (p.arch_name == "llama") p.arch = ArchKind::llama;
  else if (p.arch_name == "qwen2") p.arch = ArchKind::qwen2;
  else if (p.arch_name == "phi3") p.arch = ArchKind::phi3;
  else if (p.arch_name == "gemma2") p.arch = ArchKind::gemma2;
  else if (p.arch_name == "bert") p.arch = ArchKind::bert;
  else return Status(ErrorCode::unsupported, f.path() + ": architecture '" + p.arch_name + "' is not supported (llama, qwen2, phi3, gemma2, bert)");
  p.name = std::string(f.get_str("general.name").value_or(""));
  const std::string a = p.arch_name + ".";

  auto req = [&](const std::string& key, int64_t& out) -> Status {
    auto v = f.get_u64(a + key);
    if (!v) return err(a + key, "missing or not an unsigned integer");
    if (*v == 0 || *v > (uint64_t(1) << 31)) return err(a + key, "value " + std::to_string(*v) + " out of range");
    out = static_cast<int64_t>(*v);
    return {};
  };
  for (auto [key, out] : {std::pair<const char*, int64_t*>{"context_length", &p.n_ctx_train},
                          {"embedding_length", &p.n_embd},
                          {"block_count", &p.n_layer},
                          {"feed_forward_length", &p.n_ff},
                          {"attention.head_count", &p.n_head}}) {
    Status s = req(key, *out);
    if (!s.ok()) return s;
  }
  p.n_head_kv = static_cast<int64_t>(f.get_u64(a + "attention.head_count_kv").value_or(p.n_head));
  if (p.n_head_kv <= 0 || p.n_head_kv > p.n_head || p.n_head % p.n_head_kv != 0)
    return err(a + "attention.head_count_kv", "must divide attention.head_count");
  if (p.n_embd % p.n_head != 0 && !f.has(a + "attention.key_length"))
    return err(a + "attention.head_count", "does not divide embedding_length");
  p.head_dim_k = static_cast<int64_t>(f.get_u64(a + "attention.key_length").value_or(p.n_embd / p.n_head));
  p.head_dim_v = static_cast<int64_t>(f.get_u64(a + "attention.value_length").value_or(p.head_dim_k));
  if (p.head_dim_k <= 0 || p.head_dim_k > 4096 || p.head_dim_v <= 0 || p.head_dim_v > 4096)
    return err(a + "attention.key_length", "head size out of range");
  p.n_rot = static_cast<int64_t>(f.get_u64(a + "rope.dimension_count").value_or(p.head_dim_k));
  if (p.n_rot <= 0 || p.n_rot > p.head_dim_k || p.n_rot % 2) return err(a + "rope.dimension_count", "must be even and <= head size");

  p.rms_eps = f.get_f32(a + "attention.layer_norm_rms_epsilon").value_or(1e-5f);
  if (!(p.rms_eps > 0.0f) || p.rms_eps > 1.0f) return err(a + "attention.layer_norm_rms_epsilon", "out of range");
  p.rope_freq_base = f.get_f32(a + "rope.freq_base").value_or(10000.0f);
  if (!(p.rope_freq_base > 0.0f)) return err(a + "rope.freq_base", "must be positive");

  // RoPE scaling: linear or YaRN; factor from rope.scaling.factor or the older rope.scale_linear.
  float factor = f.get_f32(a + "rope.scaling.factor").value_or(0.0f);
  if (factor == 0.0f) factor = f.get_f32(a + "rope.scale_linear").value_or(0.0f);
  if (factor != 0.0f) {
    if (!(factor > 0.0f) || !std::isfinite(factor)) return err(a + "rope.scaling.factor", "must be positive");
    p.rope_freq_scale = 1.0f / factor;
  }
  std::string scaling(f.get_str(a + "rope.scaling.type").value_or(factor != 0.0f ? "linear" : "none"));
  if (scaling == "none") p.rope_freq_scale = 1.0f;
  else if (scaling == "yarn") {
    p.rope_yarn = true;
    p.yarn_ext_factor = 1.0f;
    p.yarn_attn_factor = f.get_f32(a + "rope.scaling.attn_factor").value_or(1.0f);
  } else if (scaling != "linear") {
    return Status(ErrorCode::unsupported, f.path() + ": " + a + "rope.scaling.type: '" + scaling + "' is not supported (none, linear, yarn)");
  }
  p.rope_n_ctx_orig = static_cast<int64_t>(f.get_u64(a + "rope.scaling.original_context_length").value_or(p.n_ctx_train));

  switch (p.arch) {
    case ArchKind::llama:
      p.rope_mode = RopeMode::normal;
      break;
    case ArchKind::qwen2:
      p.rope_mode = RopeMode::neox;
      break;
    case ArchKind::phi3:
      p.rope_mode = RopeMode::neox;
      p.n_swa = static_cast<int64_t>(f.get_u64(a + "attention.sliding_window").value_or(0));
      p.q_scale = 1.0f / std::sqrt(static_cast<float>(p.head_dim_k));
      break;
    case ArchKind::gemma2:
      p.rope_mode = RopeMode::neox;
      p.n_swa = static_cast<int64_t>(f.get_u64(a + "attention.sliding_window").value_or(4096));
      p.swa_even_layers_only = true;
      p.attn_softcap = f.get_f32(a + "attn_logit_softcapping").value_or(50.0f);
      p.final_softcap = f.get_f32(a + "final_logit_softcapping").value_or(30.0f);
      // Gemma 2 27B (46 layers) scales queries by n_embd/n_head, the smaller ones by the head size.
      p.q_scale = 1.0f / std::sqrt(static_cast<float>(p.n_layer == 46 ? p.n_embd / p.n_head : p.head_dim_k));
      p.embd_scale = std::sqrt(static_cast<float>(p.n_embd));
      p.ffn_act = FfnAct::gelu;
      break;
  }
  if (p.arch == ArchKind::bert) {
    p.causal = f.get_bool(a + "attention.causal").value_or(false);
    p.norm_eps = f.get_f32(a + "attention.layer_norm_epsilon").value_or(1e-12f);
    if (!(p.norm_eps > 0.0f) || p.norm_eps > 1.0f) return err(a + "attention.layer_norm_epsilon", "out of range");
    p.pooling = static_cast<int>(f.get_u64(a + "pooling_type").value_or(1));
    if (p.pooling < 0 || p.pooling > 3) return err(a + "pooling_type", "must be 0..3 (none, mean, cls, last)");
    p.ffn_act = FfnAct::gelu;
  }
  if (p.attn_softcap < 0 || p.final_softcap < 0) return err(a + "softcapping", "must not be negative");

  // Vocabulary size: the token list, or the embedding matrix.
  if (const auto* toks = f.get_str_array("tokenizer.ggml.tokens")) p.n_vocab = static_cast<int64_t>(toks->size());
  if (const GgufTensorInfo* emb = f.tensor("token_embd.weight")) {
    if (emb->n_dims != 2 || emb->ne[0] != p.n_embd) return err("token_embd.weight", "shape does not match embedding_length");
    if (p.n_vocab == 0) p.n_vocab = emb->ne[1];
    if (emb->ne[1] != p.n_vocab) return err("token_embd.weight", "rows do not match the token count");
  }
  if (p.n_vocab <= 0) return err("tokenizer.ggml.tokens", "vocabulary size unknown");
  return p;
}

}  // namespace agora
