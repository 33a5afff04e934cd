// Building blocks shared by the architectures: normalisation, RoPE, activations, soft-capping.
//
// Each follows the reference engine's arithmetic (accumulation precision, operation order)
// closely enough that greedy outputs match token for token: e.g. RMSNorm sums squares in
// double, RoPE advances theta by repeated multiplication in float.
#pragma once

#include <cstdint>

#include "engine/model_params.h"

namespace agora {

// y = (x - mean) / sqrt(var + eps) * w + b   (LayerNorm; w, b may be null). In place allowed.
void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t n, float eps);

// y = gelu_tanh(x) in place (F16 table semantics, as gelu_mul without the product).
void gelu(float* x, int64_t n);

// y = x / rms(x) * w   (w may be null: no weight). In place allowed (y == x).
void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps);

// Rotates one token's heads in place: `x` holds n_heads rows of `head_dim`, the first n_rot
// dims of each are rotated for position `pos`. `freq_factors` (n_rot/2, may be null) divides theta.
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t pos, const ModelParams& p, const float* freq_factors);

// In-place activations.
void silu_mul(float* gate, const float* up, int64_t n);      // gate = silu(gate) * up
void gelu_mul(float* gate, const float* up, int64_t n);      // gate = gelu_tanh(gate) * up (F16 table semantics)
void softcap(float* x, int64_t n, float cap);                // x = cap * tanh(x / cap)

}  // namespace agora
