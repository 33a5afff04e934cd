// Llama family (Llama 1/2/3, Mistral, TinyLlama, ...): RMSNorm, RoPE (normal mode, optional
// per-dimension frequency factors), grouped-query attention, SwiGLU FFN, tied or untied output.
#include "engine/arch/weights.h"

namespace agora {

Status bind_llama_weights(WeightBinder& b, const ModelParams& p, ModelWeights& w) {
  Status s = b.vector("rope_freqs.weight", p.n_rot / 2, w.rope_freqs, /*required=*/false);
  if (!s.ok()) return s;
  for (int64_t il = 0; il < p.n_layer; ++il) {
    LayerWeights& l = w.layers[static_cast<size_t>(il)];
    const std::string pre = "blk." + std::to_string(il) + ".";
    for (Status st : {b.vector(pre + "attn_norm.weight", p.n_embd, l.attn_norm),
                      b.matrix(pre + "attn_q.weight", p.n_embd, p.n_embd_q(), l.wq),
                      b.matrix(pre + "attn_k.weight", p.n_embd, p.n_embd_k_gqa(), l.wk),
                      b.matrix(pre + "attn_v.weight", p.n_embd, p.n_embd_v_gqa(), l.wv),
                      b.matrix(pre + "attn_output.weight", p.head_dim_v * p.n_head, p.n_embd, l.wo),
                      b.vector(pre + "ffn_norm.weight", p.n_embd, l.ffn_norm),
                      b.matrix(pre + "ffn_gate.weight", p.n_embd, p.n_ff, l.ffn_gate),
                      b.matrix(pre + "ffn_up.weight", p.n_embd, p.n_ff, l.ffn_up),
                      b.matrix(pre + "ffn_down.weight", p.n_ff, p.n_embd, l.ffn_down),
                      // Optional biases (some Llama-architecture fine-tunes carry them).
                      b.vector(pre + "attn_q.bias", p.n_embd_q(), l.bq, false),
                      b.vector(pre + "attn_k.bias", p.n_embd_k_gqa(), l.bk, false),
                      b.vector(pre + "attn_v.bias", p.n_embd_v_gqa(), l.bv, false),
                      b.vector(pre + "attn_output.bias", p.n_embd, l.bo, false)}) {
      if (!st.ok()) return st;
    }
  }
  return {};
}

}  // namespace agora
