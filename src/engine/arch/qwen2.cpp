// Qwen2 family (Qwen1.5, Qwen2, Qwen2.5, DeepSeek-R1-Distill-Qwen): the Llama layout plus
// q/k/v biases, NEOX RoPE, usually tied embeddings.
#include "engine/arch/weights.h"

namespace agora {

Status bind_qwen2_weights(WeightBinder& b, const ModelParams& p, ModelWeights& w) {
  for (int64_t il = 0; il < p.n_layer; ++il) {
    LayerWeights& l = w.layers[static_cast<size_t>(il)];
    const std::string pre = "blk." + std::to_string(il) + ".";
    for (Status st : {b.vector(pre + "attn_norm.weight", p.n_embd, l.attn_norm),
                      b.matrix(pre + "attn_q.weight", p.n_embd, p.n_embd_q(), l.wq),
                      b.matrix(pre + "attn_k.weight", p.n_embd, p.n_embd_k_gqa(), l.wk),
                      b.matrix(pre + "attn_v.weight", p.n_embd, p.n_embd_v_gqa(), l.wv),
                      b.vector(pre + "attn_q.bias", p.n_embd_q(), l.bq),
                      b.vector(pre + "attn_k.bias", p.n_embd_k_gqa(), l.bk),
                      b.vector(pre + "attn_v.bias", p.n_embd_v_gqa(), l.bv),
                      b.matrix(pre + "attn_output.weight", p.head_dim_v * p.n_head, p.n_embd, l.wo),
                      b.vector(pre + "ffn_norm.weight", p.n_embd, l.ffn_norm),
                      b.matrix(pre + "ffn_gate.weight", p.n_embd, p.n_ff, l.ffn_gate),
                      b.matrix(pre + "ffn_up.weight", p.n_embd, p.n_ff, l.ffn_up),
                      b.matrix(pre + "ffn_down.weight", p.n_ff, p.n_embd, l.ffn_down)}) {
      if (!st.ok()) return st;
    }
  }
  return {};
}

}  // namespace agora
