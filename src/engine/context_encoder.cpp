// The encoder forward pass (bert family): post-norm transformer with bidirectional attention.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/arch/blocks.h"
#include "engine/context.h"
#include "engine/kernels/matmul.h"
#include "engine/kernels/type_ops.h"

namespace agora {

void Context::forward_encoder(std::span<const BatchEntry> batch, float* out) {
  const ModelParams& p = model_.params();
  const ModelWeights& w = model_.weights();
  const int64_t T = static_cast<int64_t>(batch.size());
  const int64_t E = p.n_embd, H = p.n_head, hd = p.head_dim_k, F = p.n_ff;
  const int64_t nq = p.n_embd_q(), nk = p.n_embd_k_gqa(), nv = p.n_embd_v_gqa();
  const int64_t group = p.n_head / p.n_head_kv;
  ThreadPool& pool = *pool_;
  auto add_bias = [](float* y, const float* b, int64_t n_tok, int64_t n) {
    if (!b) return;
    for (int64_t t = 0; t < n_tok; ++t)
      for (int64_t i = 0; i < n; ++i) y[t * n + i] += b[i];
  };

  // Embeddings: token + type 0 + position, then LayerNorm.
  const TypeOps& tok_ops = type_ops(w.tok_embd.type);
  const TypeOps& pos_ops = type_ops(w.pos_embd.type);
  std::vector<float> row(static_cast<size_t>(E));
  for (int64_t t = 0; t < T; ++t) {
    float* x = &x_[t * E];
    tok_ops.to_float(static_cast<const uint8_t*>(w.tok_embd.data) + static_cast<size_t>(batch[t].token) * w.tok_embd.row_bytes, x, E);
    pos_ops.to_float(static_cast<const uint8_t*>(w.pos_embd.data) + static_cast<size_t>(batch[t].pos) * w.pos_embd.row_bytes,
                     row.data(), E);
    for (int64_t i = 0; i < E; ++i) x[i] = x[i] + w.type_embd0[i] + row[i];
    layer_norm(x, w.tok_norm, w.tok_norm_b, x, E, p.norm_eps);
  }

  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  for (int64_t il = 0; il < p.n_layer; ++il) {
    const LayerWeights& l = w.layers[static_cast<size_t>(il)];
    matmul(l.wq, x_.data(), T, q_.data(), pool, mm_scratch_);
    matmul(l.wk, x_.data(), T, k_.data(), pool, mm_scratch_);
    matmul(l.wv, x_.data(), T, v_.data(), pool, mm_scratch_);
    add_bias(q_.data(), l.bq, T, nq);
    add_bias(k_.data(), l.bk, T, nk);
    add_bias(v_.data(), l.bv, T, nv);
    // Bidirectional attention over the entries of the same sequence.
    pool.parallel_for(T * H, [&](int64_t begin, int64_t end) {
      thread_local std::vector<float> sc;
      thread_local std::vector<int64_t> idx;
      for (int64_t ix = begin; ix < end; ++ix) {
        const int64_t t = ix / H, h = ix % H, kvh = h / group;
        idx.clear();
        for (int64_t u = 0; u < T; ++u)
          if (batch[u].seq == batch[t].seq && (!p.causal || batch[u].pos <= batch[t].pos)) idx.push_back(u);
        sc.resize(idx.size());
        const float* q = &q_[t * nq + h * hd];
        float mx = -INFINITY;
        for (size_t j = 0; j < idx.size(); ++j) {
          const float* k = &k_[idx[j] * nk + kvh * hd];
          float d = 0;
          for (int64_t i = 0; i < hd; ++i) d += q[i] * k[i];
          sc[j] = d * scale;
          mx = std::max(mx, sc[j]);
        }
        double sum = 0;
        for (auto& s : sc) sum += (s = std::exp(s - mx));
        const float inv = static_cast<float>(1.0 / sum);
        float* o = &attn_[t * H * hd + h * hd];
        std::fill(o, o + hd, 0.0f);
        for (size_t j = 0; j < idx.size(); ++j) {
          const float pj = sc[j] * inv;
          const float* v = &v_[idx[j] * nv + kvh * hd];
          for (int64_t i = 0; i < hd; ++i) o[i] += pj * v[i];
        }
      }
    });
    matmul(l.wo, attn_.data(), T, o_.data(), pool, mm_scratch_);
    add_bias(o_.data(), l.bo, T, E);
    for (int64_t t = 0; t < T; ++t) {
      float* y = &o_[t * E];
      const float* x = &x_[t * E];
      for (int64_t i = 0; i < E; ++i) y[i] += x[i];
      layer_norm(y, l.attn_out_norm, l.attn_out_norm_b, &xn_[t * E], E, p.norm_eps);  // xn_ = FFN input
    }
    matmul(l.ffn_up, xn_.data(), T, up_.data(), pool, mm_scratch_);
    add_bias(up_.data(), l.ffn_up_b, T, F);
    gelu(up_.data(), T * F);
    matmul(l.ffn_down, up_.data(), T, o_.data(), pool, mm_scratch_);
    add_bias(o_.data(), l.ffn_down_b, T, E);
    for (int64_t t = 0; t < T; ++t) {
      float* y = &o_[t * E];
      const float* r = &xn_[t * E];
      for (int64_t i = 0; i < E; ++i) y[i] += r[i];
      layer_norm(y, l.layer_out_norm, l.layer_out_norm_b, &x_[t * E], E, p.norm_eps);
    }
  }
  int64_t n = 0;
  for (int64_t t = 0; t < T; ++t)
    if (batch[t].logits) std::memcpy(out + (n++) * E, &x_[t * E], static_cast<size_t>(E) * sizeof(float));
}

}  // namespace agora
