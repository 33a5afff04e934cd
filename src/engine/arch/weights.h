// The weights of a loaded model, as views into the mapped GGUF file.
//
// Matrices are WeightViews (any GGUF type, used in place). Vectors (norms, biases, rope
// factors) are always f32: read in place when stored as F32, else converted once at load into
// `owned`. Immutable after load; shared by every sequence.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/gguf/gguf_reader.h"
#include "engine/kernels/matmul.h"
#include "engine/model_params.h"
#include "engine/util/status.h"

namespace agora {

struct LayerWeights {
  const float* attn_norm = nullptr;
  WeightView wq{}, wk{}, wv{}, wqkv{}, wo{};  // wqkv: fused q|k|v rows (phi3); else wq/wk/wv
  const float* bq = nullptr;
  const float* bk = nullptr;
  const float* bv = nullptr;
  const float* bo = nullptr;
  const float* post_attn_norm = nullptr;  // gemma2
  const float* ffn_norm = nullptr;
  WeightView ffn_gate{}, ffn_up{}, ffn_down{};
  bool ffn_fused_gate_up = false;  // phi3: ffn_up holds gate rows then up rows
  const float* post_ffn_norm = nullptr;  // gemma2
  // bert: post-norm LayerNorms with biases, FFN biases
  const float* attn_out_norm = nullptr;
  const float* attn_out_norm_b = nullptr;
  const float* layer_out_norm = nullptr;
  const float* layer_out_norm_b = nullptr;
  const float* ffn_up_b = nullptr;
  const float* ffn_down_b = nullptr;
};

struct ModelWeights {
  WeightView tok_embd{};
  const float* output_norm = nullptr;
  WeightView output{};       // == tok_embd when tied
  const float* rope_freqs = nullptr;  // optional per-dimension frequency factors (n_rot / 2)
  // bert: learned positions, token type 0 ("sentence A") row, embedding LayerNorm
  WeightView pos_embd{};
  const float* type_embd0 = nullptr;
  const float* tok_norm = nullptr;
  const float* tok_norm_b = nullptr;
  std::vector<LayerWeights> layers;
  std::vector<std::unique_ptr<float[]>> owned;  // converted vectors
  struct FreeBytes {
    void operator()(uint8_t* p) const;
  };
  std::vector<std::unique_ptr<uint8_t, FreeBytes>> repacked;  // matrices repacked at load
};

// Repacks the matrices that have a faster layout (today: Q4_0 → q4_0x8, Q8_0 → q8_0x8 on CPUs
// with AVX-VNNI) into owned, 64-byte
// aligned buffers, and points their views there; the token embedding keeps the file's rows (it is
// read row by row). Results are bit-identical to the unpacked kernels. AGORA_NO_REPACK=1 in the
// environment turns it off (for side-by-side measurements).
void repack_weights(ModelWeights& w);

// Looks up tensors by name and checks their shapes before binding them.
class WeightBinder {
 public:
  WeightBinder(const GgufFile& file, ModelWeights& w) : file_(file), w_(w) {}

  // A matrix with rows of n_in values and n_out rows. Missing + required → error.
  Status matrix(const std::string& name, int64_t n_in, int64_t n_out, WeightView& out, bool required = true);
  // A vector of n values as f32.
  Status vector(const std::string& name, int64_t n, const float*& out, bool required = true);
  bool has(const std::string& name) const { return file_.tensor(name) != nullptr; }
  const GgufFile& file() const { return file_; }

 private:
  const GgufFile& file_;
  ModelWeights& w_;
};

// Binds every tensor of the model's family, checking each shape against the parameters.
Status bind_weights(const GgufFile& file, const ModelParams& p, ModelWeights& w);

// Per-family binders (one file each under src/engine/arch/).
Status bind_llama_weights(WeightBinder& b, const ModelParams& p, ModelWeights& w);
Status bind_qwen2_weights(WeightBinder& b, const ModelParams& p, ModelWeights& w);
Status bind_phi3_weights(WeightBinder& b, const ModelParams& p, ModelWeights& w);
Status bind_gemma2_weights(WeightBinder& b, const ModelParams& p, ModelWeights& w);
Status bind_bert_weights(WeightBinder& b, const ModelParams& p, ModelWeights& w);

}  // namespace agora
