// BERT family encoders (BGE, MiniLM, nomic-style BERT GGUFs): token + type-0 + learned position
// embeddings, embedding LayerNorm, bidirectional attention with biases, post-norm LayerNorms,
// GELU FFN with biases. Produces hidden states for pooled embeddings; no output head.
#include "engine/arch/weights.h"

namespace agora {

Status bind_bert_weights(WeightBinder& b, const ModelParams& p, ModelWeights& w) {
  const GgufTensorInfo* types = b.file().tensor("token_types.weight");
  if (!types || types->ne[0] != p.n_embd || types->n_dims > 2)
    return Status(ErrorCode::invalid_file, b.file().path() + ": tensor 'token_types.weight' is missing or has the wrong shape");
  // Token types are always 0 ("sentence A"): bind the first row only.
  if (types->type != GgmlType::F32) return Status(ErrorCode::unsupported, b.file().path() + ": token_types.weight must be F32");
  w.type_embd0 = reinterpret_cast<const float*>(types->data);
  const GgufTensorInfo* pos = b.file().tensor("position_embd.weight");
  if (!pos) return Status(ErrorCode::invalid_file, b.file().path() + ": tensor 'position_embd.weight' is missing");
  for (Status st : {b.matrix("position_embd.weight", p.n_embd, pos->ne[1], w.pos_embd),
                    b.vector("token_embd_norm.weight", p.n_embd, w.tok_norm),
                    b.vector("token_embd_norm.bias", p.n_embd, w.tok_norm_b)})
    if (!st.ok()) return st;
  for (int64_t il = 0; il < p.n_layer; ++il) {
    LayerWeights& l = w.layers[static_cast<size_t>(il)];
    const std::string pre = "blk." + std::to_string(il) + ".";
    for (Status st : {b.matrix(pre + "attn_q.weight", p.n_embd, p.n_embd_q(), l.wq),
                      b.vector(pre + "attn_q.bias", p.n_embd_q(), l.bq),
                      b.matrix(pre + "attn_k.weight", p.n_embd, p.n_embd_k_gqa(), l.wk),
                      b.vector(pre + "attn_k.bias", p.n_embd_k_gqa(), l.bk),
                      b.matrix(pre + "attn_v.weight", p.n_embd, p.n_embd_v_gqa(), l.wv),
                      b.vector(pre + "attn_v.bias", p.n_embd_v_gqa(), l.bv),
                      b.matrix(pre + "attn_output.weight", p.head_dim_v * p.n_head, p.n_embd, l.wo),
                      b.vector(pre + "attn_output.bias", p.n_embd, l.bo),
                      b.vector(pre + "attn_output_norm.weight", p.n_embd, l.attn_out_norm),
                      b.vector(pre + "attn_output_norm.bias", p.n_embd, l.attn_out_norm_b),
                      b.matrix(pre + "ffn_up.weight", p.n_embd, p.n_ff, l.ffn_up),
                      b.vector(pre + "ffn_up.bias", p.n_ff, l.ffn_up_b),
                      b.matrix(pre + "ffn_down.weight", p.n_ff, p.n_embd, l.ffn_down),
                      b.vector(pre + "ffn_down.bias", p.n_embd, l.ffn_down_b),
                      b.vector(pre + "layer_output_norm.weight", p.n_embd, l.layer_out_norm),
                      b.vector(pre + "layer_output_norm.bias", p.n_embd, l.layer_out_norm_b)})
      if (!st.ok()) return st;
  }
  return {};
}

}  // namespace agora
