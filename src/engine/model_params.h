// Hyperparameters of a transformer model, read from GGUF metadata.
//
// Plain data: filled once at load, immutable afterwards. Keys are `<arch>.<name>` as written
// by the reference converters; absent optional keys take the family's defaults.
#pragma once

#include <cstdint>
#include <string>

#include "engine/gguf/gguf_reader.h"
#include "engine/util/status.h"

namespace agora {

enum class ArchKind { llama, qwen2, phi3, gemma2, bert };
enum class RopeMode { normal, neox };  // normal rotates (2i, 2i+1); neox rotates (i, i + n_rot/2)
enum class FfnAct { silu, gelu };

struct ModelParams {
  std::string arch_name;  // general.architecture
  ArchKind arch = ArchKind::llama;
  std::string name;       // general.name

  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_ff = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim_k = 0;  // per-head key/query width
  int64_t head_dim_v = 0;  // per-head value width
  int64_t n_rot = 0;       // rotary dimensions per head
  float rms_eps = 1e-5f;

  // RoPE
  RopeMode rope_mode = RopeMode::normal;
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // 1 / scaling factor (linear and YaRN)
  bool rope_yarn = false;
  int64_t rope_n_ctx_orig = 0;   // original training context for YaRN
  float yarn_ext_factor = 0.0f;
  float yarn_attn_factor = 1.0f;
  float yarn_beta_fast = 32.0f;
  float yarn_beta_slow = 1.0f;

  // Attention variants
  int64_t n_swa = 0;                // sliding window (0 = none)
  bool swa_even_layers_only = false;  // gemma2: window on layers 0, 2, 4, ...
  float attn_softcap = 0.0f;        // 0 = none; else cap * tanh(x / cap) on attention logits
  float final_softcap = 0.0f;       // same on the output logits
  float q_scale = 0.0f;             // scale applied to Q before QK^T (phi3, gemma2); 0 = use 1/sqrt(head_dim) in softmax
  float embd_scale = 1.0f;          // gemma2: sqrt(n_embd)
  FfnAct ffn_act = FfnAct::silu;

  // Encoders (bert): LayerNorm with bias, learned positions, bidirectional attention, pooling.
  bool causal = true;
  float norm_eps = 1e-12f;   // LayerNorm epsilon
  int pooling = 1;           // the model's pooling: 0 none, 1 mean, 2 cls, 3 last (GGUF pooling_type)
  bool generative() const { return arch != ArchKind::bert; }

  int64_t n_embd_k_gqa() const { return head_dim_k * n_head_kv; }
  int64_t n_embd_v_gqa() const { return head_dim_v * n_head_kv; }
  int64_t n_embd_q() const { return head_dim_k * n_head; }
};

// Reads and validates the hyperparameters (positive sizes, head counts dividing evenly,
// n_rot <= head_dim, ...). Errors name the file and the key.
Result<ModelParams> read_model_params(const GgufFile& file);

const char* arch_kind_name(ArchKind a);

}  // namespace agora
