// Gemma 2 family: embeddings scaled by sqrt(n_embd), GELU (tanh) FFN, post-attention and
// post-FFN norms, attention and final logit soft-capping, sliding-window attention on even
// layers, head size independent of n_embd/n_head, tied output.
#include "engine/arch/weights.h"

namespace agora {

Status bind_gemma2_weights(WeightBinder& b, const ModelParams& p, ModelWeights& w) {
  for (int64_t il = 0; il < p.n_layer; ++il) {
    LayerWeights& l = w.layers[static_cast<size_t>(il)];
    const std::string pre = "blk." + std::to_string(il) + ".";
    for (Status st : {b.vector(pre + "attn_norm.weight", p.n_embd, l.attn_norm),
                      b.matrix(pre + "attn_q.weight", p.n_embd, p.n_embd_q(), l.wq),
                      b.matrix(pre + "attn_k.weight", p.n_embd, p.n_embd_k_gqa(), l.wk),
                      b.matrix(pre + "attn_v.weight", p.n_embd, p.n_embd_v_gqa(), l.wv),
                      b.matrix(pre + "attn_output.weight", p.head_dim_v * p.n_head, p.n_embd, l.wo),
                      b.vector(pre + "post_attention_norm.weight", p.n_embd, l.post_attn_norm),
                      b.vector(pre + "ffn_norm.weight", p.n_embd, l.ffn_norm),
                      b.matrix(pre + "ffn_gate.weight", p.n_embd, p.n_ff, l.ffn_gate),
                      b.matrix(pre + "ffn_up.weight", p.n_embd, p.n_ff, l.ffn_up),
                      b.matrix(pre + "ffn_down.weight", p.n_ff, p.n_embd, l.ffn_down),
                      b.vector(pre + "post_ffw_norm.weight", p.n_embd, l.post_ffn_norm)}) {
      if (!st.ok()) return st;
    }
  }
  return {};
}

}  // namespace agora
