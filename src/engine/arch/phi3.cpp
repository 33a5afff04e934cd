// Phi-3 family: fused QKV projection (rows q, then k, then v) and fused gate/up FFN (rows
// gate, then up; act = silu(gate) * up), NEOX RoPE, queries scaled by 1/sqrt(head) before
// QK^T, optional sliding window on every layer.
#include "engine/arch/weights.h"

namespace agora {

Status bind_phi3_weights(WeightBinder& b, const ModelParams& p, ModelWeights& w) {
  for (int64_t il = 0; il < p.n_layer; ++il) {
    LayerWeights& l = w.layers[static_cast<size_t>(il)];
    const std::string pre = "blk." + std::to_string(il) + ".";
    Status s = b.vector(pre + "attn_norm.weight", p.n_embd, l.attn_norm);
    if (!s.ok()) return s;
    if (b.has(pre + "attn_qkv.weight")) {
      s = b.matrix(pre + "attn_qkv.weight", p.n_embd, p.n_embd_q() + p.n_embd_k_gqa() + p.n_embd_v_gqa(), l.wqkv);
    } else {
      for (Status st : {b.matrix(pre + "attn_q.weight", p.n_embd, p.n_embd_q(), l.wq),
                        b.matrix(pre + "attn_k.weight", p.n_embd, p.n_embd_k_gqa(), l.wk),
                        b.matrix(pre + "attn_v.weight", p.n_embd, p.n_embd_v_gqa(), l.wv)})
        if (!st.ok()) return st;
    }
    if (!s.ok()) return s;
    l.ffn_fused_gate_up = true;
    for (Status st : {b.matrix(pre + "attn_output.weight", p.head_dim_v * p.n_head, p.n_embd, l.wo),
                      b.vector(pre + "ffn_norm.weight", p.n_embd, l.ffn_norm),
                      b.matrix(pre + "ffn_up.weight", p.n_embd, 2 * p.n_ff, l.ffn_up),
                      b.matrix(pre + "ffn_down.weight", p.n_ff, p.n_embd, l.ffn_down)})
      if (!st.ok()) return st;
  }
  return {};
}

}  // namespace agora
