#include "engine/context.h"

#include <unistd.h>

#include <cstdio>
#include <new>
#include <string>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#if !defined(AGORA_PORTABLE) && defined(__AVX2__)
#include <immintrin.h>
#endif

#include "engine/arch/blocks.h"
#include "engine/kernels/matmul.h"
#include "engine/kernels/type_ops.h"
#include "engine/tensor/fp16.h"

namespace agora {

Result<std::unique_ptr<Context>> Context::create(const Model& model, ContextParams cp) {
  const ModelParams& p = model.params();
  if (cp.n_ctx <= 0) cp.n_ctx = std::min<int64_t>(p.n_ctx_train, 4096);
  if (cp.n_ctx > (int64_t(1) << 24)) return Status(ErrorCode::invalid_argument, "n_ctx too large");
  if (cp.n_seq < 1 || cp.n_seq > 4096) return Status(ErrorCode::invalid_argument, "n_seq must be in 1..4096");
  if (cp.n_batch < 1) return Status(ErrorCode::invalid_argument, "n_batch must be positive");
  if (cp.n_threads <= 0) cp.n_threads = ThreadPool::default_threads();
  // An encoder sees a whole sequence in one pass.
  if (!p.generative()) cp.n_batch = std::max(cp.n_batch, cp.n_ctx);
  std::unique_ptr<Context> c(new Context(model, cp));
  if (cp.kv_type == KvType::q8_0 && (p.head_dim_k % 32 != 0 || p.head_dim_v % 32 != 0))
    return Status(ErrorCode::invalid_argument, "a q8_0 KV cache needs head sizes that are multiples of 32 (this model: " +
                                                   std::to_string(p.head_dim_k) + ")");
  if (cp.kv_type == KvType::q8_0 && cp.reference_order)
    return Status(ErrorCode::invalid_argument, "reference_order needs an f16 or f32 KV cache");
  if (cp.block_size < 1 || cp.block_size > 4096) return Status(ErrorCode::invalid_argument, "block_size must be in 1..4096");
  const int64_t blocks_per_seq = (cp.n_ctx + cp.block_size - 1) / cp.block_size;
  if (cp.kv_blocks <= 0) cp.kv_blocks = blocks_per_seq * cp.n_seq;
  if (cp.kv_blocks > (int64_t(1) << 31) / cp.block_size) return Status(ErrorCode::invalid_argument, "KV pool too large");
  c->params_ = cp;
  // The KV pool is allocated and touched up front: refuse one that cannot fit in this machine's
  // memory with the numbers, instead of an allocation failure or the OOM killer later.
  const size_t kv_bytes = KvCache::bytes_for(p, cp.kv_blocks * cp.block_size, cp.kv_type);
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  auto gib = [](double b) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f GiB", b / (1024.0 * 1024 * 1024));
    return std::string(buf);
  };
  const std::string kv_what = "the KV cache for " + std::to_string(cp.kv_blocks * cp.block_size) + " positions (" +
                              std::to_string(cp.n_seq) + " sequences x " + std::to_string(cp.n_ctx) +
                              " context) needs " + gib(static_cast<double>(kv_bytes));
  if (pages > 0 && page > 0 && kv_bytes > static_cast<size_t>(pages) * static_cast<size_t>(page))
    return Status(ErrorCode::out_of_range, kv_what + " but this machine has " +
                                               gib(static_cast<double>(pages) * static_cast<double>(page)) +
                                               " of memory: lower the context size or the number of parallel sequences");
  try {
    c->kv_ = std::make_unique<KvCache>(p, cp.kv_blocks, cp.block_size, cp.kv_type);
  } catch (const std::bad_alloc&) {
    return Status(ErrorCode::out_of_range, kv_what + ", which could not be allocated: lower the context size or the "
                                                     "number of parallel sequences");
  }
  c->tables_.resize(static_cast<size_t>(cp.n_seq));
  c->tiles_.reserve(static_cast<size_t>(cp.n_batch) + 1);
  c->pool_ = std::make_unique<ThreadPool>(cp.n_threads);
  const size_t B = static_cast<size_t>(cp.n_batch);
  const size_t nq = static_cast<size_t>(p.n_embd_q()), nk = static_cast<size_t>(p.n_embd_k_gqa()),
               nv = static_cast<size_t>(p.n_embd_v_gqa()), nvo = static_cast<size_t>(p.head_dim_v * p.n_head);
  c->x_.resize(B * p.n_embd);
  c->xn_.resize(B * p.n_embd);
  c->qkv_.resize(B * (nq + nk + nv));
  c->q_.resize(B * nq);
  c->k_.resize(B * nk);
  c->v_.resize(B * nv);
  c->attn_.resize(B * nvo);
  c->o_.resize(B * p.n_embd);
  c->gate_.resize(B * 2 * p.n_ff);
  c->up_.resize(B * p.n_ff);
  c->out_rows_.resize(B * p.n_embd);
  return c;
}

Result<std::span<const float>> Context::decode(std::span<const BatchEntry> batch) { return run(batch, false); }
Result<std::span<const float>> Context::decode_hidden(std::span<const BatchEntry> batch) { return run(batch, true); }

Status Context::reserve(int seq, int64_t n_pos) {
  if (seq < 0 || seq >= params_.n_seq) return Status(ErrorCode::out_of_range, "sequence id out of range");
  if (n_pos > params_.n_ctx)
    return Status(ErrorCode::out_of_range, "position " + std::to_string(n_pos - 1) + " is outside the context (" +
                                               std::to_string(params_.n_ctx) + ")");
  auto& t = tables_[static_cast<size_t>(seq)];
  const int64_t need = (n_pos + kv_->block_size() - 1) / kv_->block_size();
  const size_t before = t.size();
  while (static_cast<int64_t>(t.size()) < need) {
    int32_t b = kv_->alloc();
    if (b < 0) {
      while (t.size() > before) {  // all or nothing
        kv_->unref(t.back());
        t.pop_back();
      }
      return Status(ErrorCode::resource_exhausted, "KV cache is full");
    }
    t.push_back(b);
  }
  return {};
}

void Context::clear_seq(int seq) {
  auto& t = tables_[static_cast<size_t>(seq)];
  for (int32_t b : t) kv_->unref(b);
  t.clear();
}

void Context::adopt_blocks(int seq, const std::vector<int32_t>& blocks) {
  clear_seq(seq);
  tables_[static_cast<size_t>(seq)] = blocks;
}

Result<std::span<const float>> Context::run(std::span<const BatchEntry> batch, bool hidden) {
  const ModelParams& p = model_.params();
  if (!p.generative()) {
    if (!hidden) return Status(ErrorCode::invalid_argument, "'" + p.arch_name + "' is an embedding model: it has no logits");
    if (static_cast<int64_t>(batch.size()) > params_.n_batch)
      return Status(ErrorCode::out_of_range, "an encoder batch holds at most " + std::to_string(params_.n_batch) + " tokens");
    size_t n_out = 0;
    for (const auto& e : batch) {
      if (e.token < 0 || e.token >= p.n_vocab)
        return Status(ErrorCode::out_of_range, "token id " + std::to_string(e.token) + " is outside the vocabulary");
      if (e.pos < 0 || e.pos >= std::min(params_.n_ctx, model_.weights().pos_embd.n_out))
        return Status(ErrorCode::out_of_range, "position " + std::to_string(e.pos) + " is outside the context");
      n_out += e.logits;
    }
    logits_.resize(n_out * static_cast<size_t>(p.n_embd));
    forward_encoder(batch, logits_.data());
    return std::span<const float>(logits_.data(), logits_.size());
  }
  size_t n_out = 0;
  std::vector<int64_t> need(static_cast<size_t>(params_.n_seq), 0);
  for (const auto& e : batch) {
    if (e.token < 0 || e.token >= p.n_vocab)
      return Status(ErrorCode::out_of_range, "token id " + std::to_string(e.token) + " is outside the vocabulary");
    if (e.pos < 0 || e.pos >= params_.n_ctx)
      return Status(ErrorCode::out_of_range, "position " + std::to_string(e.pos) + " is outside the context (" +
                                                 std::to_string(params_.n_ctx) + ")");
    if (e.seq < 0 || e.seq >= params_.n_seq) return Status(ErrorCode::out_of_range, "sequence id out of range");
    n_out += e.logits;
    need[static_cast<size_t>(e.seq)] = std::max<int64_t>(need[static_cast<size_t>(e.seq)], e.pos + 1);
  }
  // Blocks for every position written (all or nothing across sequences).
  std::vector<size_t> sizes_before(tables_.size());
  for (size_t s = 0; s < tables_.size(); ++s) sizes_before[s] = tables_[s].size();
  for (int s = 0; s < params_.n_seq; ++s) {
    if (need[static_cast<size_t>(s)] == 0) continue;
    Status st = reserve(s, need[static_cast<size_t>(s)]);
    if (!st.ok()) {
      for (size_t r = 0; r < tables_.size(); ++r)
        while (tables_[r].size() > sizes_before[r]) {
          kv_->unref(tables_[r].back());
          tables_[r].pop_back();
        }
      return st;
    }
  }
  const int64_t width = hidden ? p.n_embd : p.n_vocab;
  logits_.resize(n_out * static_cast<size_t>(width));
  float* out = logits_.data();
  for (size_t b = 0; b < batch.size(); b += static_cast<size_t>(params_.n_batch)) {
    auto chunk = batch.subspan(b, std::min<size_t>(params_.n_batch, batch.size() - b));
    forward_chunk(chunk, out, hidden);
    for (const auto& e : chunk) out += e.logits ? width : 0;
  }
  return std::span<const float>(logits_.data(), logits_.size());
}

namespace {

void add_bias(float* y, const float* b, int64_t n_tok, int64_t n) {
  if (!b) return;
  for (int64_t t = 0; t < n_tok; ++t)
    for (int64_t i = 0; i < n; ++i) y[t * n + i] += b[i];
}

}  // namespace

void Context::forward_chunk(std::span<const BatchEntry> batch, float* logits_out, bool hidden) {
  const ModelParams& p = model_.params();
  const ModelWeights& w = model_.weights();
  const int64_t T = static_cast<int64_t>(batch.size());
  const int64_t E = p.n_embd;
  const int64_t nq = p.n_embd_q(), nk = p.n_embd_k_gqa(), nv = p.n_embd_v_gqa();
  ThreadPool& pool = *pool_;
  // Per-token work outside the matrix products (norms, RoPE, cache writes, activations,
  // residuals) runs on the pool for passes of many tokens; each token's arithmetic is the same
  // on any thread.
  auto per_token = [&](auto&& fn) {
    if (T < 16) {
      for (int64_t t = 0; t < T; ++t) fn(t);
      return;
    }
    pool.parallel_for(T, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) fn(t);
    });
  };

  // Embeddings: dequantize the token rows.
  const TypeOps& emb_ops = type_ops(w.tok_embd.type);
  for (int64_t t = 0; t < T; ++t) {
    const auto* row = static_cast<const uint8_t*>(w.tok_embd.data) + static_cast<size_t>(batch[t].token) * w.tok_embd.row_bytes;
    float* x = &x_[t * E];
    emb_ops.to_float(row, x, E);
    if (p.embd_scale != 1.0f)
      for (int64_t i = 0; i < E; ++i) x[i] *= p.embd_scale;
  }

  for (int64_t il = 0; il < p.n_layer; ++il) {
    const LayerWeights& l = w.layers[static_cast<size_t>(il)];
    per_token([&](int64_t t) { rms_norm(&x_[t * E], l.attn_norm, &xn_[t * E], E, p.rms_eps); });

    if (l.wqkv.data) {
      const int64_t n = nq + nk + nv;
      matmul(l.wqkv, xn_.data(), T, qkv_.data(), pool, mm_scratch_);
      for (int64_t t = 0; t < T; ++t) {
        std::memcpy(&q_[t * nq], &qkv_[t * n], nq * sizeof(float));
        std::memcpy(&k_[t * nk], &qkv_[t * n + nq], nk * sizeof(float));
        std::memcpy(&v_[t * nv], &qkv_[t * n + nq + nk], nv * sizeof(float));
      }
    } else {
      matmul(l.wq, xn_.data(), T, q_.data(), pool, mm_scratch_);
      matmul(l.wk, xn_.data(), T, k_.data(), pool, mm_scratch_);
      matmul(l.wv, xn_.data(), T, v_.data(), pool, mm_scratch_);
      add_bias(q_.data(), l.bq, T, nq);
      add_bias(k_.data(), l.bk, T, nk);
      add_bias(v_.data(), l.bv, T, nv);
    }

    // RoPE, query scaling, and the new keys/values into the cache.
    per_token([&](int64_t t) {
      const BatchEntry& e = batch[t];
      float* q = &q_[t * nq];
      float* k = &k_[t * nk];
      rope(q, p.n_head, p.head_dim_k, e.pos, p, w.rope_freqs);
      rope(k, p.n_head_kv, p.head_dim_k, e.pos, p, w.rope_freqs);
      if (p.q_scale != 0.0f)
        for (int64_t i = 0; i < nq; ++i) q[i] *= p.q_scale;
      // Each KV head's row into its block's run for that head (kv_cache.h).
      const int64_t hdk = p.head_dim_k, hdv = p.head_dim_v;
      for (int64_t h = 0; h < p.n_head_kv; ++h) {
        uint8_t* kd = k_row(il, e.seq, e.pos, h);
        uint8_t* vd = v_row(il, e.seq, e.pos, h);
        const float* ks = k + h * hdk;
        const float* vs = &v_[t * nv + h * hdv];
        if (kv_->type() == KvType::q8_0) {
          const TypeOps& q8 = type_ops(GgmlType::Q8_0);
          q8.from_float(ks, kd, hdk);
          q8.from_float(vs, vd, hdv);
        } else if (kv_->type() == KvType::f16) {
          auto* k16 = reinterpret_cast<uint16_t*>(kd);
          auto* v16 = reinterpret_cast<uint16_t*>(vd);
          for (int64_t i = 0; i < hdk; ++i) k16[i] = fp32_to_fp16(ks[i]);
          for (int64_t i = 0; i < hdv; ++i) v16[i] = fp32_to_fp16(vs[i]);
        } else {
          std::memcpy(kd, ks, static_cast<size_t>(hdk) * sizeof(float));
          std::memcpy(vd, vs, static_cast<size_t>(hdv) * sizeof(float));
        }
      }
    });

    attention(il, batch);
    matmul(l.wo, attn_.data(), T, o_.data(), pool, mm_scratch_);
    add_bias(o_.data(), l.bo, T, E);
    per_token([&](int64_t t) {
      if (l.post_attn_norm) rms_norm(&o_[t * E], l.post_attn_norm, &o_[t * E], E, p.rms_eps);
      for (int64_t i = t * E; i < (t + 1) * E; ++i) x_[i] += o_[i];
      // Feed-forward.
      rms_norm(&x_[t * E], l.ffn_norm, &xn_[t * E], E, p.rms_eps);
    });
    const int64_t F = p.n_ff;
    if (l.ffn_fused_gate_up) {
      matmul(l.ffn_up, xn_.data(), T, gate_.data(), pool, mm_scratch_);  // rows: gate | up
      for (int64_t t = 0; t < T; ++t) {
        std::memcpy(&up_[t * F], &gate_[t * 2 * F + F], F * sizeof(float));
        std::memmove(&gate_[t * F], &gate_[t * 2 * F], F * sizeof(float));
      }
    } else {
      matmul(l.ffn_gate, xn_.data(), T, gate_.data(), pool, mm_scratch_);
      matmul(l.ffn_up, xn_.data(), T, up_.data(), pool, mm_scratch_);
    }
    per_token([&](int64_t t) {
      if (p.ffn_act == FfnAct::gelu) gelu_mul(&gate_[t * F], &up_[t * F], F);
      else silu_mul(&gate_[t * F], &up_[t * F], F);
    });
    matmul(l.ffn_down, gate_.data(), T, o_.data(), pool, mm_scratch_);
    per_token([&](int64_t t) {
      if (l.post_ffn_norm) rms_norm(&o_[t * E], l.post_ffn_norm, &o_[t * E], E, p.rms_eps);
      for (int64_t i = t * E; i < (t + 1) * E; ++i) x_[i] += o_[i];
    });
  }

  // Output head, only for the rows that want logits.
  int64_t n_out = 0;
  for (int64_t t = 0; t < T; ++t) {
    if (!batch[t].logits) continue;
    rms_norm(&x_[t * E], w.output_norm, &out_rows_[n_out * E], E, p.rms_eps);
    ++n_out;
  }
  if (n_out == 0) return;
  if (hidden) {
    std::memcpy(logits_out, out_rows_.data(), static_cast<size_t>(n_out * E) * sizeof(float));
    return;
  }
  matmul(w.output, out_rows_.data(), n_out, logits_out, pool, mm_scratch_);
  if (p.final_softcap > 0.0f) softcap(logits_out, n_out * p.n_vocab, p.final_softcap);
}

namespace {

// Attention arithmetic in the reference engine's summation orders. Greedy parity on quantized
// models depends on it: activations are re-quantized after attention, so a different rounding
// of a sum can flip an int8 value and grow into visible logit differences.
//  * Decode (one token per pass): a dot product of n values runs in 4 accumulators x 8 lanes
//    over blocks of 32 (lane = index % 32), folded a0+a2, a1+a3, then the two, then lane k with
//    k + 4, then pairwise; the tail past the last full block is added in double.
//  * Prefill (several tokens per pass): 8 lanes (lane = index % 8) accumulated in order, then
//    folded lane k with k + 4, then (0+2) + (1+3).
// Index i of a dot over positions is the cache position, so masked positions are exact zeros.
struct LaneSum {
  float acc[32];
  bool gemm;  // prefill order
  void clear() { std::fill(acc, acc + 32, 0.0f); }
  void fma_at(int64_t i, float a, float b) {
    const int64_t lane = gemm ? (i & 7) : (i & 31);
    acc[lane] = std::fma(a, b, acc[lane]);
  }
  float fold() const {
    if (gemm) {
      float u[4];
      for (int k = 0; k < 4; ++k) u[k] = acc[k + 4] + acc[k];
      return (u[0] + u[2]) + (u[1] + u[3]);
    }
    float s[8];
    for (int k = 0; k < 8; ++k) s[k] = (acc[k] + acc[16 + k]) + (acc[8 + k] + acc[24 + k]);
    float t[4];
    for (int k = 0; k < 4; ++k) t[k] = s[k] + s[k + 4];
    return (t[0] + t[1]) + (t[2] + t[3]);
  }
};

// Dot of n f16 values in the reference order (see LaneSum).
float dot_f16_ref(int64_t n, const uint16_t* x, const uint16_t* y, bool gemm) {
  LaneSum ls;
  ls.gemm = gemm;
  ls.clear();
  const int64_t np = gemm ? n : (n & ~int64_t(31));
  for (int64_t i = 0; i < np; ++i) ls.fma_at(i, fp16_to_fp32(x[i]), fp16_to_fp32(y[i]));
  double sum = ls.fold();
  for (int64_t i = np; i < n; ++i) sum += static_cast<double>(fp16_to_fp32(x[i]) * fp16_to_fp32(y[i]));
  return static_cast<float>(sum);
}

float dot_f32_ref(int64_t n, const float* x, const float* y, bool gemm) {
  LaneSum ls;
  ls.gemm = gemm;
  ls.clear();
  const int64_t np = gemm ? n : (n & ~int64_t(31));
  for (int64_t i = 0; i < np; ++i) ls.fma_at(i, x[i], y[i]);
  float sum = ls.fold();
  for (int64_t i = np; i < n; ++i) sum += x[i] * y[i];
  return sum;
}


// ---- vectorised decode-order kernels (bit-identical to dot_*_ref(..., gemm=false) above) ----

#if !defined(AGORA_PORTABLE) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define AGORA_ATTN_AVX2 1
inline __m256 load8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline float fold4x8(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  const __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a2), _mm256_add_ps(a1, a3));
  const __m128 t = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  alignas(16) float tt[4];
  _mm_store_ps(tt, t);
  return (tt[0] + tt[1]) + (tt[2] + tt[3]);
}
#endif

template <typename T>
float dot_lanes(int64_t n, const T* x, const T* y) {
#ifdef AGORA_ATTN_AVX2
  const int64_t np = n & ~int64_t(31);
  if (np > 0) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t i = 0; i < np; i += 32) {
      a0 = _mm256_fmadd_ps(load8(x + i), load8(y + i), a0);
      a1 = _mm256_fmadd_ps(load8(x + i + 8), load8(y + i + 8), a1);
      a2 = _mm256_fmadd_ps(load8(x + i + 16), load8(y + i + 16), a2);
      a3 = _mm256_fmadd_ps(load8(x + i + 24), load8(y + i + 24), a3);
    }
    const float f = fold4x8(a0, a1, a2, a3);
    if constexpr (std::is_same_v<T, uint16_t>) {
      double sum = f;
      for (int64_t i = np; i < n; ++i) sum += static_cast<double>(fp16_to_fp32(x[i]) * fp16_to_fp32(y[i]));
      return static_cast<float>(sum);
    } else {
      float sum = f;
      for (int64_t i = np; i < n; ++i) sum += x[i] * y[i];
      return sum;
    }
  }
#endif
  if constexpr (std::is_same_v<T, uint16_t>) return dot_f16_ref(n, x, y, false);
  else return dot_f32_ref(n, x, y, false);
}

// acc[lane][d] = fma(v[d], p, acc[lane][d]) for d < n (lane chosen by the caller).
template <typename T>
void axpy_lane(float* acc, float p, const T* v, int64_t n) {
  int64_t d = 0;
#ifdef AGORA_ATTN_AVX2
  const __m256 pv = _mm256_set1_ps(p);
  for (; d + 8 <= n; d += 8) _mm256_storeu_ps(acc + d, _mm256_fmadd_ps(load8(v + d), pv, _mm256_loadu_ps(acc + d)));
#endif
  for (; d < n; ++d) {
    float x;
    if constexpr (std::is_same_v<T, uint16_t>) x = fp16_to_fp32(v[d]);
    else x = v[d];
    acc[d] = std::fma(x, p, acc[d]);
  }
}

// out[d] = the decode-order fold of acc[0..31][d].
void fold_lanes(const float* acc, int64_t n, float* out) {
  int64_t d = 0;
#ifdef AGORA_ATTN_AVX2
  for (; d + 8 <= n; d += 8) {
    __m256 s[8];
    for (int k = 0; k < 8; ++k)
      s[k] = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(acc + k * n + d), _mm256_loadu_ps(acc + (16 + k) * n + d)),
                           _mm256_add_ps(_mm256_loadu_ps(acc + (8 + k) * n + d), _mm256_loadu_ps(acc + (24 + k) * n + d)));
    __m256 t[4];
    for (int k = 0; k < 4; ++k) t[k] = _mm256_add_ps(s[k], s[k + 4]);
    _mm256_storeu_ps(out + d, _mm256_add_ps(_mm256_add_ps(t[0], t[1]), _mm256_add_ps(t[2], t[3])));
  }
#endif
  for (; d < n; ++d) {
    float s[8];
    for (int k = 0; k < 8; ++k) s[k] = (acc[k * n + d] + acc[(16 + k) * n + d]) + (acc[(8 + k) * n + d] + acc[(24 + k) * n + d]);
    float t[4];
    for (int k = 0; k < 4; ++k) t[k] = s[k] + s[k + 4];
    out[d] = (t[0] + t[1]) + (t[2] + t[3]);
  }
}

// The first key position `pos` attends in layer `il`: 0, or the start of its sliding window on
// the layers that have one.
int64_t first_key(const ModelParams& p, int64_t il, int64_t pos) {
  const bool windowed = p.n_swa > 0 && (!p.swa_even_layers_only || il % 2 == 0);
  return windowed ? std::max<int64_t>(0, pos - p.n_swa + 1) : 0;
}

// The factor on the scores (1 where the model scales the queries instead).
float kq_scale_of(const ModelParams& p) {
  return p.q_scale != 0.0f ? 1.0f : 1.0f / std::sqrt(static_cast<float>(p.head_dim_k));
}

// The softmax numerators of the scores of keys [lo, hi), in place (s[0] is key lo): optional
// soft cap, then scale, max, exp; returns 1 / their sum. The sum runs in position-aligned groups
// of 8 (lanes outside [lo, hi) are 0), each folded (k with k + 4, then pairwise) and added in
// double: one order for every path, whatever the batch.
float softmax_exp(float* s, int64_t lo, int64_t hi, float kq_scale, float cap) {
  const int64_t n = hi - lo;
  if (cap > 0.0f) softcap(s, n, cap);
  float mx = -INFINITY;
  int64_t i0 = 0;
#ifdef AGORA_ATTN_AVX2
  // max(s, mx) keeps mx where s is NaN, as std::max(mx, s) does; the max is exact in any order.
  if (n >= 8) {
    const __m256 sc = _mm256_set1_ps(kq_scale);
    __m256 m = _mm256_set1_ps(-INFINITY);
    for (; i0 + 8 <= n; i0 += 8) {
      const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(s + i0), sc);
      _mm256_storeu_ps(s + i0, v);
      m = _mm256_max_ps(v, m);
    }
    alignas(32) float mm[8];
    _mm256_store_ps(mm, m);
    for (float x : mm) mx = std::max(mx, x);
  }
#endif
  for (int64_t i = i0; i < n; ++i) {
    s[i] *= kq_scale;
    mx = std::max(mx, s[i]);
  }
  double sum = 0.0;
#ifdef AGORA_ATTN_AVX2
  for (int64_t i = 0; i < n; ++i) s[i] = std::exp(s[i] - mx);
  // Groups of 8 positions, [g, g + 8) aligned; the partial first and last ones through a zeroed copy.
  for (int64_t g = lo & ~int64_t(7); g < hi; g += 8) {
    __m256 v;
    if (g >= lo && g + 8 <= hi) {
      v = _mm256_loadu_ps(s + (g - lo));
    } else {
      alignas(32) float tmp[8] = {};
      for (int k = 0; k < 8; ++k)
        if (g + k >= lo && g + k < hi) tmp[k] = s[g + k - lo];
      v = _mm256_load_ps(tmp);
    }
    const __m128 a = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));  // a[k] = v[k+4] + v[k]
    const __m128 b = _mm_add_ps(a, _mm_movehl_ps(a, a));                                   // b0 = a0+a2, b1 = a1+a3
    sum += static_cast<double>(_mm_cvtss_f32(_mm_add_ss(b, _mm_shuffle_ps(b, b, 1))));
  }
  return static_cast<float>(1.0 / sum);
#endif
  for (int64_t g = lo & ~int64_t(7); g < hi; g += 8) {
    float v[8];
    for (int k = 0; k < 8; ++k) {
      const int64_t j = g + k;
      v[k] = (j >= lo && j < hi) ? std::exp(s[j - lo] - mx) : 0.0f;
      if (j >= lo && j < hi) s[j - lo] = v[k];
    }
    float a[4];
    for (int k = 0; k < 4; ++k) a[k] = v[k + 4] + v[k];
    const float b0 = a[0] + a[2], b1 = a[1] + a[3];
    sum += static_cast<double>(b0 + b1);
  }
  return static_cast<float>(1.0 / sum);
}

#ifdef AGORA_ATTN_AVX2
// ---- tiled decode-order attention (positions in lanes) ----
// The same floats as dot_lanes / axpy_lane / fold_lanes, computed for 8 key positions at once.
// K is transposed to f32 once per (KV head, query tile, position chunk), in blocks of 8
// positions: blk[8 d + p] is dimension d of the block's position p (lane p of a vector).

// Scores of NG consecutive 8-position blocks (the first at blk, the next ones `stride` floats
// apart) against q (hdk values, nb = hdk / 32 blocks of 32): for each position, accumulator
// (m, l) sums dims 32i + 8m + l over blocks i in order (an fma chain from 0, as dot_lanes' four
// 8-lane accumulators), then the fold of fold4x8: s_l = (a0l + a2l) + (a1l + a3l),
// t_k = s_k + s_k+4, (t0 + t1) + (t2 + t3).
template <int NG>
inline void qk_groups(const float* blk, int64_t stride, const float* q, int64_t nb, float* out) {
  __m256 t[NG][4];
  for (int k = 0; k < 4; ++k) {
    __m256 s[2][NG];
    for (int half = 0; half < 2; ++half) {
      const int64_t l = k + 4 * half;
      __m256 a[NG][4];
      for (int n = 0; n < NG; ++n)
        for (int m = 0; m < 4; ++m) a[n][m] = _mm256_setzero_ps();
      for (int64_t i = 0; i < nb; ++i)
        for (int m = 0; m < 4; ++m) {
          const int64_t d = 32 * i + 8 * m + l;
          const __m256 qd = _mm256_broadcast_ss(q + d);
          for (int n = 0; n < NG; ++n)
            a[n][m] = _mm256_fmadd_ps(_mm256_loadu_ps(blk + n * stride + 8 * d), qd, a[n][m]);
        }
      for (int n = 0; n < NG; ++n)
        s[half][n] = _mm256_add_ps(_mm256_add_ps(a[n][0], a[n][2]), _mm256_add_ps(a[n][1], a[n][3]));
    }
    for (int n = 0; n < NG; ++n) t[n][k] = _mm256_add_ps(s[0][n], s[1][n]);
  }
  for (int n = 0; n < NG; ++n)
    _mm256_storeu_ps(out + 8 * n, _mm256_add_ps(_mm256_add_ps(t[n][0], t[n][1]), _mm256_add_ps(t[n][2], t[n][3])));
}

// One lane slot's share of the value sum over 8 * NV dims, for n positions of that slot (32
// apart): acc = fma(v_k, p[32 k], acc) in order, v_k = rows + k * ldv; acc is read from and
// written back to `lane`.
template <int NV>
inline void pv_lane(float* lane, const float* rows, int64_t ldv, const float* p, int64_t n) {
  __m256 acc[NV];
  for (int v = 0; v < NV; ++v) acc[v] = _mm256_loadu_ps(lane + 8 * v);
  for (int64_t k = 0; k < n; ++k) {
    const __m256 pj = _mm256_broadcast_ss(p + 32 * k);
    const float* row = rows + k * ldv;
    for (int v = 0; v < NV; ++v) acc[v] = _mm256_fmadd_ps(_mm256_loadu_ps(row + 8 * v), pj, acc[v]);
  }
  for (int v = 0; v < NV; ++v) _mm256_storeu_ps(lane + 8 * v, acc[v]);
}

// dst[r * ld + c] = src[c * lds + r] for an 8 x 8 block (src: 8 rows of 8 floats).
inline void transpose8(const float* src, int64_t lds, float* dst, int64_t ld) {
  __m256 r[8], u[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * lds);
  for (int i = 0; i < 8; i += 2) {
    u[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    u[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4)
    for (int k = 0; k < 2; ++k) {
      r[i + k] = _mm256_shuffle_ps(u[i + k], u[i + 2 + k], 0x44);
      r[i + 2 + k] = _mm256_shuffle_ps(u[i + k], u[i + 2 + k], 0xEE);
    }
  // r[0]: cols 0,4 of rows 0..3; r[2]: cols 1,5; r[1]: cols 2,6; r[3]: cols 3,7 (and r[4..7] rows 4..7).
  const int order[4] = {0, 2, 1, 3};
  for (int k = 0; k < 4; ++k) {
    const __m256 a = r[order[k]], b = r[4 + order[k]];
    _mm256_storeu_ps(dst + k * ld, _mm256_permute2f128_ps(a, b, 0x20));
    _mm256_storeu_ps(dst + (k + 4) * ld, _mm256_permute2f128_ps(a, b, 0x31));
  }
}

// Scores of 8 positions (rows kb + p * hdk, f32) against q (NB blocks of 32), for one query of a
// decode step: per position dot_lanes' four accumulators (fma chains over the blocks from 0) and
// s = (a0 + a2) + (a1 + a3); the eight s vectors are then transposed so that the rest of
// fold4x8 (lane k + lane k+4, then pairwise) runs across positions.
template <int NB>
inline void qk_rows8(const float* kb, int64_t hdk, const float* q, float* out) {
  __m256 qv[4 * NB];
  for (int k = 0; k < 4 * NB; ++k) qv[k] = _mm256_loadu_ps(q + 8 * k);
  alignas(32) float sv[8][8];
  for (int p = 0; p < 8; ++p) {
    const float* kr = kb + p * hdk;
    __m256 a[4];
    for (int m = 0; m < 4; ++m) a[m] = _mm256_fmadd_ps(_mm256_loadu_ps(kr + 8 * m), qv[m], _mm256_setzero_ps());
    for (int i = 1; i < NB; ++i)
      for (int m = 0; m < 4; ++m) a[m] = _mm256_fmadd_ps(_mm256_loadu_ps(kr + 32 * i + 8 * m), qv[4 * i + m], a[m]);
    _mm256_store_ps(sv[p], _mm256_add_ps(_mm256_add_ps(a[0], a[2]), _mm256_add_ps(a[1], a[3])));
  }
  alignas(32) float tv[8][8];
  transpose8(&sv[0][0], 8, &tv[0][0], 8);  // tv[l][p] = lane l of position p
  __m256 t[4];
  for (int k = 0; k < 4; ++k) t[k] = _mm256_add_ps(_mm256_load_ps(tv[k]), _mm256_load_ps(tv[k + 4]));
  _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(t[0], t[1]), _mm256_add_ps(t[2], t[3])));
}

// The KV cache's rows are read one position after another, but a head's run of positions ends
// with each block (kv_cache.h) and the next block lies elsewhere: rows are requested kKvAhead
// positions ahead of use, since the hardware prefetchers stop at those jumps.
constexpr int64_t kKvAhead = 16;
inline void prefetch_row(const uint8_t* p, size_t bytes) {
  for (size_t off = 0; off < bytes; off += 64) _mm_prefetch(reinterpret_cast<const char*>(p + off), _MM_HINT_T0);
}

// A K or V head row (n values; n a multiple of 8) of a cache of type kvt as f32 into dst.
inline void kv_row_f32(KvType kvt, ToFloatFn q8_to_float, const uint8_t* row, int64_t n, float* dst) {
  if (kvt == KvType::f16) {
    const auto* h = reinterpret_cast<const uint16_t*>(row);
    for (int64_t d = 0; d < n; d += 8) _mm256_storeu_ps(dst + d, load8(h + d));
  } else if (kvt == KvType::q8_0) {
    q8_to_float(row, dst, n);
  } else {
    std::memcpy(dst, row, static_cast<size_t>(n) * sizeof(float));
  }
}

// The attention weights of keys [lo, hi) from their scores, in place (s[0] is key lo): the
// softmax numerators times 1 / their sum, rounded through f16 for f16 caches (as the f16 value
// products see them).
inline void softmax_probs(float* s, int64_t lo, int64_t hi, float kq_scale, float cap, bool f16) {
  const float inv = softmax_exp(s, lo, hi, kq_scale, cap);
  const __m256 iv = _mm256_set1_ps(inv);
  int64_t i = 0;
  for (; i + 8 <= hi - lo; i += 8) {
    __m256 x = _mm256_mul_ps(_mm256_loadu_ps(s + i), iv);
    if (f16) x = _mm256_cvtph_ps(_mm256_cvtps_ph(x, 0));
    _mm256_storeu_ps(s + i, x);
  }
  for (; i < hi - lo; ++i) s[i] = f16 ? round_fp16(s[i] * inv) : s[i] * inv;
}

using PvLaneFn = void (*)(float*, const float*, int64_t, const float*, int64_t);
constexpr PvLaneFn kPvLane[9] = {nullptr, pv_lane<1>, pv_lane<2>, pv_lane<3>, pv_lane<4>,
                                 pv_lane<5>, pv_lane<6>, pv_lane<7>, pv_lane<8>};
#endif

}  // namespace

// Tiles of fewer tokens go through attend_one: a decode step's few queries do not pay back the
// transposition of K.
constexpr int64_t kMinTileTokens = 2;

void Context::attention(int64_t il, std::span<const BatchEntry> batch) {
  const ModelParams& p = model_.params();
  const int64_t T = static_cast<int64_t>(batch.size());
  const int64_t group = p.n_head / p.n_head_kv;
  const bool gemm = params_.reference_order && T >= 2;  // the reference's prefill order (see LaneSum)
#ifdef AGORA_ATTN_AVX2
  if (!gemm && p.head_dim_k % 32 == 0 && p.head_dim_k <= 256 && p.head_dim_v % 8 == 0) {
    // Tiles: runs of consecutive entries of one sequence, each at most tile_tokens long, sized
    // so that the tile's scores (queries x keys) stay within a few MiB.
    int64_t max_hi = 0;
    for (const BatchEntry& e : batch) max_hi = std::max<int64_t>(max_hi, e.pos + 1);
    const int64_t tile_tokens =
        std::max<int64_t>(1, std::min<int64_t>(std::max<int64_t>(1, 64 / group), (int64_t(1) << 20) / (group * (max_hi + 16))));
    tiles_.clear();
    for (int64_t t = 0; t < T; ++t)
      if (t == 0 || batch[t].seq != batch[t - 1].seq || t - tiles_.back() >= tile_tokens) tiles_.push_back(t);
    tiles_.push_back(T);
    const int64_t n_tiles = static_cast<int64_t>(tiles_.size()) - 1;
    // KV-head-major items: one thread's consecutive items read the same K/V head slice.
    pool_->parallel_for(p.n_head_kv * n_tiles, [&](int64_t begin, int64_t end) {
      for (int64_t idx = begin; idx < end; ++idx) {
        const int64_t kvh = idx / n_tiles, ti = idx % n_tiles;
        const int64_t t0 = tiles_[static_cast<size_t>(ti)], t1 = tiles_[static_cast<size_t>(ti + 1)];
        if (t1 - t0 >= kMinTileTokens) {
          attend_tile(il, batch, kvh, t0, t1);
          continue;
        }
        for (int64_t t = t0; t < t1; ++t) attend_token(il, batch, t, kvh);
      }
    });
    return;
  }
#endif
  // Items run KV-head-major (kvh, token, head in its group): one thread's consecutive items
  // read the same K/V head slice, which then stays in its L2 instead of cycling every head
  // of the layer through it (8x faster long prompts; each item's arithmetic is unchanged).
  pool_->parallel_for(T * p.n_head, [&](int64_t begin, int64_t end) {
    for (int64_t idx = begin; idx < end; ++idx) {
      const int64_t kvh = idx / (T * group), t = (idx / group) % T, h = kvh * group + idx % group;
      attend_one(il, batch[t], t, h, gemm);
    }
  });
}

// One query: token t of the batch (entry e), head h.
void Context::attend_one(int64_t il, const BatchEntry& e, int64_t t, int64_t h, bool gemm) {
  const ModelParams& p = model_.params();
  const int64_t H = p.n_head, hdk = p.head_dim_k, hdv = p.head_dim_v;
  const int64_t kvh = h / (p.n_head / p.n_head_kv);
  const int64_t nq = p.n_embd_q();
  const bool f16 = kv_->type() == KvType::f16;
  const bool q8 = kv_->type() == KvType::q8_0;  // rows dequantized to f32 as they are read
  const ToFloatFn q8_to_float = type_ops(GgmlType::Q8_0).to_float;
  const float kq_scale = kq_scale_of(p);

  // Per-thread buffers, grown once to the context size.
  thread_local std::vector<float> scores;
  thread_local std::vector<uint16_t> q16;
  thread_local std::vector<LaneSum> acc;
  thread_local std::vector<float> lanes;
  thread_local std::vector<float> row;  // a dequantized q8_0 head row
  if (row.size() < static_cast<size_t>(std::max(hdk, hdv))) row.resize(std::max(hdk, hdv));
  if (q16.size() < static_cast<size_t>(hdk)) q16.resize(hdk);
  if (acc.size() < static_cast<size_t>(hdv)) acc.resize(hdv);

  const float* q = &q_[t * nq + h * hdk];
  const int64_t lo = first_key(p, il, e.pos), hi = e.pos + 1;  // keys [lo, hi)
  if (scores.size() < static_cast<size_t>(hi)) scores.resize(hi);
  if (f16)
    for (int64_t d = 0; d < hdk; ++d) q16[d] = fp32_to_fp16(q[d]);
  for (int64_t j = lo; j < hi; ++j) {
    const uint8_t* kr = k_row(il, e.seq, j, kvh);
    if (q8) {
      q8_to_float(kr, row.data(), hdk);
      scores[j] = dot_lanes(hdk, row.data(), q);
    } else if (gemm)
      scores[j] = f16 ? dot_f16_ref(hdk, reinterpret_cast<const uint16_t*>(kr), q16.data(), true)
                      : dot_f32_ref(hdk, reinterpret_cast<const float*>(kr), q, true);
    else
      scores[j] = f16 ? dot_lanes(hdk, reinterpret_cast<const uint16_t*>(kr), q16.data())
                      : dot_lanes(hdk, reinterpret_cast<const float*>(kr), q);
  }
  const float inv = softmax_exp(scores.data() + lo, lo, hi, kq_scale, p.attn_softcap);
  float* out = &attn_[t * H * hdv + h * hdv];
  if (!gemm) {
    // Decode order, vectorised over the value dimension: lanes by position % 32.
    if (lanes.size() < static_cast<size_t>(32 * hdv)) lanes.resize(32 * hdv);
    std::fill(lanes.begin(), lanes.begin() + 32 * hdv, 0.0f);
    for (int64_t j = lo; j < hi; ++j) {
      const uint8_t* vrow = v_row(il, e.seq, j, kvh);
      float* lane = lanes.data() + (j & 31) * hdv;
      const float pj = scores[j] * inv;
      if (q8) {
        q8_to_float(vrow, row.data(), hdv);
        axpy_lane(lane, pj, row.data(), hdv);
      } else if (f16) axpy_lane(lane, round_fp16(pj), reinterpret_cast<const uint16_t*>(vrow), hdv);
      else axpy_lane(lane, pj, reinterpret_cast<const float*>(vrow), hdv);
    }
    fold_lanes(lanes.data(), hdv, out);
    return;
  }
  for (int64_t d = 0; d < hdv; ++d) {
    acc[d].gemm = gemm;
    acc[d].clear();
  }
  for (int64_t j = lo; j < hi; ++j) {
    const uint8_t* vrow = v_row(il, e.seq, j, kvh);
    float pj = scores[j] * inv;
    if (f16) {
      pj = round_fp16(pj);
      const auto* vr = reinterpret_cast<const uint16_t*>(vrow);
      for (int64_t d = 0; d < hdv; ++d) acc[d].fma_at(j, fp16_to_fp32(vr[d]), pj);
    } else {
      const auto* vr = reinterpret_cast<const float*>(vrow);
      for (int64_t d = 0; d < hdv; ++d) acc[d].fma_at(j, vr[d], pj);
    }
  }
  for (int64_t d = 0; d < hdv; ++d) out[d] = acc[d].fold();
}

#ifdef AGORA_ATTN_AVX2
namespace {
constexpr int64_t kAttnChunk = 256;  // key positions per transposed chunk (a multiple of 32)
}

// One KV head, the queries of the tile's tokens [t0, t1) (all of one sequence) for the heads of
// its group: K transposed once per chunk of positions and shared by every query of the tile
// (qk_groups), V converted once per chunk and summed per lane slot (pv_lane). The same floats as
// attend_one.
void Context::attend_tile(int64_t il, std::span<const BatchEntry> batch, int64_t kvh, int64_t t0, int64_t t1) {
  const ModelParams& p = model_.params();
  const int64_t H = p.n_head, hdk = p.head_dim_k, hdv = p.head_dim_v;
  const int64_t group = p.n_head / p.n_head_kv, nq = p.n_embd_q();
  const KvType kvt = kv_->type();
  const ToFloatFn q8_to_float = type_ops(GgmlType::Q8_0).to_float;
  const float kq_scale = kq_scale_of(p);
  const int seq = batch[t0].seq;
  const int64_t nqt = (t1 - t0) * group;
  auto key_lo = [&](int64_t t) { return first_key(p, il, batch[t].pos); };
  int64_t plo = INT64_MAX, phi = 0;
  for (int64_t t = t0; t < t1; ++t) {
    plo = std::min(plo, key_lo(t));
    phi = std::max<int64_t>(phi, batch[t].pos + 1);
  }
  const int64_t origin = plo & ~int64_t(7);
  const int64_t rowlen = (phi - origin + 7) & ~int64_t(7);

  thread_local std::vector<float> kt, vf, rows8, sc, qf, lanes;
  thread_local std::vector<int64_t> qlo, qhi;  // each query's keys [qlo, qhi)
  auto grow = [](std::vector<float>& v, int64_t n) {
    if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
  };
  grow(kt, hdk * kAttnChunk);
  grow(vf, kAttnChunk * hdv);
  grow(rows8, 8 * hdk);
  grow(sc, nqt * rowlen);
  grow(qf, nqt * hdk);
  grow(lanes, nqt * 32 * hdv);
  if (qlo.size() < static_cast<size_t>(nqt)) {
    qlo.resize(static_cast<size_t>(nqt));
    qhi.resize(static_cast<size_t>(nqt));
  }
  for (int64_t qi = 0; qi < nqt; ++qi) {
    qlo[static_cast<size_t>(qi)] = key_lo(t0 + qi / group);
    qhi[static_cast<size_t>(qi)] = batch[t0 + qi / group].pos + 1;
  }

  auto row_f32 = [&](const uint8_t* row, int64_t n, float* dst) { kv_row_f32(kvt, q8_to_float, row, n, dst); };
  const size_t k_bytes = kv_->row_bytes(hdk), v_bytes = kv_->row_bytes(hdv);

  // Queries as the dot products see them (f16 caches: rounded through f16).
  for (int64_t qi = 0; qi < nqt; ++qi) {
    const int64_t t = t0 + qi / group, h = kvh * group + qi % group;
    const float* q = &q_[t * nq + h * hdk];
    float* dst = &qf[static_cast<size_t>(qi * hdk)];
    for (int64_t d = 0; d < hdk; ++d) dst[d] = kvt == KvType::f16 ? round_fp16(q[d]) : q[d];
  }

  // Scores, chunk by chunk of positions.
  const int64_t nb = hdk / 32;
  for (int64_t c0 = origin; c0 < phi; c0 += kAttnChunk) {
    const int64_t c1 = std::min(phi, c0 + kAttnChunk), width = (c1 - c0 + 7) & ~int64_t(7);
    for (int64_t c = 0; c < width; c += 8) {
      for (int r = 0; r < 8; ++r) {
        const int64_t j = c0 + c + r;
        float* dst = &rows8[static_cast<size_t>(r * hdk)];
        if (j + kKvAhead < phi && j + kKvAhead >= plo) prefetch_row(k_row(il, seq, j + kKvAhead, kvh), k_bytes);
        if (j < plo || j >= phi) std::fill(dst, dst + hdk, 0.0f);
        else row_f32(k_row(il, seq, j, kvh), hdk, dst);
      }
      float* blk = kt.data() + c * hdk;
      for (int64_t d = 0; d < hdk; d += 8) transpose8(rows8.data() + d, hdk, blk + 8 * d, 8);
    }
    // Blocks outer, queries inner: two blocks (16 positions) stay in L1 while every query of
    // the tile reads them.
    for (int64_t g = 0; g < width; g += 16) {
      const bool two = g + 16 <= width;
      for (int64_t qi = 0; qi < nqt; ++qi) {
        const int64_t a = std::max(qlo[static_cast<size_t>(qi)], c0) - c0, e = std::min(qhi[static_cast<size_t>(qi)], c1) - c0;
        const bool need0 = g < e && g + 8 > a, need1 = two && g + 8 < e && g + 16 > a;
        if (!need0 && !need1) continue;
        const float* q = &qf[static_cast<size_t>(qi * hdk)];
        float* srow = &sc[static_cast<size_t>(qi * rowlen + (c0 - origin))];
        if (need0 && need1) qk_groups<2>(kt.data() + g * hdk, 8 * hdk, q, nb, srow + g);
        else if (need0) qk_groups<1>(kt.data() + g * hdk, 8 * hdk, q, nb, srow + g);
        else qk_groups<1>(kt.data() + (g + 8) * hdk, 8 * hdk, q, nb, srow + g + 8);
      }
    }
  }

  // Probabilities (f16 caches: rounded as the f16 value products see them).
  for (int64_t qi = 0; qi < nqt; ++qi) {
    const int64_t lo = qlo[static_cast<size_t>(qi)], hi = qhi[static_cast<size_t>(qi)];
    softmax_probs(&sc[static_cast<size_t>(qi * rowlen + (lo - origin))], lo, hi, kq_scale, p.attn_softcap,
                  kvt == KvType::f16);
  }

  // Value sums per lane slot (position % 32), chunk by chunk. Chunks start at multiples of 32
  // and hold V lane-major: row k of slot L (position c0 + 32 k + L) at vf[(L * kPerLane + k) * hdv],
  // so that one slot's positions are one sequential stream.
  constexpr int64_t kPerLane = kAttnChunk / 32;
  std::fill(lanes.begin(), lanes.begin() + nqt * 32 * hdv, 0.0f);
  for (int64_t c0 = plo & ~int64_t(31); c0 < phi; c0 += kAttnChunk) {
    const int64_t c1 = std::min(phi, c0 + kAttnChunk);
    for (int64_t j = std::max(c0, plo); j < c1; ++j) {
      const int64_t r = j - c0;
      if (j + kKvAhead < phi) prefetch_row(v_row(il, seq, j + kKvAhead, kvh), v_bytes);
      row_f32(v_row(il, seq, j, kvh), hdv, &vf[static_cast<size_t>(((r & 31) * kPerLane + (r >> 5)) * hdv)]);
    }
    for (int64_t L = 0; L < 32; ++L) {
      for (int64_t qi = 0; qi < nqt; ++qi) {
        const int64_t jl = std::max(qlo[static_cast<size_t>(qi)], c0), jh = std::min(qhi[static_cast<size_t>(qi)], c1);
        const int64_t j0 = jl + ((L - jl) & 31);  // the slot's first position in [jl, jh)
        if (j0 >= jh) continue;
        const int64_t n = (jh - j0 + 31) / 32;
        const float* rows = &vf[static_cast<size_t>((L * kPerLane + ((j0 - c0) >> 5)) * hdv)];
        const float* pj = &sc[static_cast<size_t>(qi * rowlen + (j0 - origin))];
        float* lane = &lanes[static_cast<size_t>((qi * 32 + L) * hdv)];
        for (int64_t d0 = 0; d0 < hdv; d0 += 64) {
          const int nv = static_cast<int>(std::min<int64_t>(8, (hdv - d0) / 8));
          kPvLane[nv](lane + d0, rows + d0, hdv, pj, n);
        }
      }
    }
  }
  for (int64_t qi = 0; qi < nqt; ++qi) {
    const int64_t t = t0 + qi / group, h = kvh * group + qi % group;
    fold_lanes(&lanes[static_cast<size_t>(qi * 32 * hdv)], hdv, &attn_[t * H * hdv + h * hdv]);
  }
}

// One token's queries for the heads of KV head kvh (a decode step): each K and V row converted
// once for all of them; scores eight positions at a time (qk_rows8), value sums per lane slot in
// registers (pv_lane). The same floats as attend_one.
void Context::attend_token(int64_t il, std::span<const BatchEntry> batch, int64_t t, int64_t kvh) {
  const ModelParams& p = model_.params();
  const int64_t H = p.n_head, hdk = p.head_dim_k, hdv = p.head_dim_v;
  const int64_t group = p.n_head / p.n_head_kv, nq = p.n_embd_q();
  const KvType kvt = kv_->type();
  const ToFloatFn q8_to_float = type_ops(GgmlType::Q8_0).to_float;
  const float kq_scale = kq_scale_of(p);
  const BatchEntry& e = batch[t];
  const int64_t lo = first_key(p, il, e.pos), hi = e.pos + 1, n = hi - lo;

  thread_local std::vector<float> kb, vf, sc, qf, lanes;
  auto grow = [](std::vector<float>& v, int64_t k) {
    if (v.size() < static_cast<size_t>(k)) v.resize(static_cast<size_t>(k));
  };
  grow(kb, 8 * hdk);
  grow(vf, kAttnChunk * hdv);
  grow(sc, group * ((n + 7) & ~int64_t(7)));
  grow(qf, group * hdk);
  grow(lanes, group * 32 * hdv);
  const int64_t ld = (n + 7) & ~int64_t(7);  // scores row length per head

  auto row_f32 = [&](const uint8_t* row, int64_t cnt, float* dst) { kv_row_f32(kvt, q8_to_float, row, cnt, dst); };
  for (int64_t hh = 0; hh < group; ++hh) {
    const float* q = &q_[t * nq + (kvh * group + hh) * hdk];
    float* dst = &qf[static_cast<size_t>(hh * hdk)];
    int64_t d = 0;
    if (kvt == KvType::f16)
      for (; d < hdk; d += 8) _mm256_storeu_ps(dst + d, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(q + d), 0)));
    for (; d < hdk; ++d) dst[d] = q[d];
  }

  const size_t k_bytes = kv_->row_bytes(hdk), v_bytes = kv_->row_bytes(hdv);

  // Scores: eight positions at a time; zero rows past the end (their scores are not used).
  const int64_t nb = hdk / 32;
  for (int64_t j = lo; j < hi; j += 8) {
    for (int r = 0; r < 8; ++r) {
      float* dst = &kb[static_cast<size_t>(r * hdk)];
      if (j + r + kKvAhead < hi) prefetch_row(k_row(il, e.seq, j + r + kKvAhead, kvh), k_bytes);
      if (j + r < hi) row_f32(k_row(il, e.seq, j + r, kvh), hdk, dst);
      else std::fill(dst, dst + hdk, 0.0f);
    }
    for (int64_t hh = 0; hh < group; ++hh) {
      const float* q = &qf[static_cast<size_t>(hh * hdk)];
      float* out = &sc[static_cast<size_t>(hh * ld + (j - lo))];
      switch (nb) {
        case 1: qk_rows8<1>(kb.data(), hdk, q, out); break;
        case 2: qk_rows8<2>(kb.data(), hdk, q, out); break;
        case 3: qk_rows8<3>(kb.data(), hdk, q, out); break;
        case 4: qk_rows8<4>(kb.data(), hdk, q, out); break;
        case 5: qk_rows8<5>(kb.data(), hdk, q, out); break;
        case 6: qk_rows8<6>(kb.data(), hdk, q, out); break;
        case 7: qk_rows8<7>(kb.data(), hdk, q, out); break;
        default: qk_rows8<8>(kb.data(), hdk, q, out); break;
      }
    }
  }
  for (int64_t hh = 0; hh < group; ++hh)
    softmax_probs(&sc[static_cast<size_t>(hh * ld)], lo, hi, kq_scale, p.attn_softcap, kvt == KvType::f16);

  // Value sums per lane slot, chunk by chunk of positions (rows in position order; one slot's
  // rows are 32 apart).
  std::fill(lanes.begin(), lanes.begin() + group * 32 * hdv, 0.0f);
  for (int64_t c0 = lo; c0 < hi; c0 += kAttnChunk) {
    const int64_t c1 = std::min(hi, c0 + kAttnChunk);
    for (int64_t j = c0; j < c1; ++j) {
      if (j + kKvAhead < hi) prefetch_row(v_row(il, e.seq, j + kKvAhead, kvh), v_bytes);
      row_f32(v_row(il, e.seq, j, kvh), hdv, &vf[static_cast<size_t>((j - c0) * hdv)]);
    }
    for (int64_t hh = 0; hh < group; ++hh) {
      for (int64_t L = 0; L < 32; ++L) {
        const int64_t j0 = c0 + ((L - c0) & 31);
        if (j0 >= c1) continue;
        const int64_t cnt = (c1 - j0 + 31) / 32;
        const float* rows = &vf[static_cast<size_t>((j0 - c0) * hdv)];
        const float* pj = &sc[static_cast<size_t>(hh * ld + (j0 - lo))];
        float* lane = &lanes[static_cast<size_t>((hh * 32 + L) * hdv)];
        for (int64_t d0 = 0; d0 < hdv; d0 += 64) {
          const int nv = static_cast<int>(std::min<int64_t>(8, (hdv - d0) / 8));
          kPvLane[nv](lane + d0, rows + d0, 32 * hdv, pj, cnt);
        }
      }
    }
  }
  for (int64_t hh = 0; hh < group; ++hh)
    fold_lanes(&lanes[static_cast<size_t>(hh * 32 * hdv)], hdv, &attn_[t * H * hdv + (kvh * group + hh) * hdv]);
}
#endif

}  // namespace agora
