#include "engine/arch/blocks.h"

#include <cmath>

#include "engine/tensor/fp16.h"

namespace agora {

void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  if (w) {
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] * scale) * w[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale;
  }
}

void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t n, float eps) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  double sum2 = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const float d = x[i] - mean;
    y[i] = d;
    sum2 += static_cast<double>(d * d);
  }
  const float var = static_cast<float>(sum2 / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(var + eps);
  for (int64_t i = 0; i < n; ++i) {
    float v = y[i] * scale;
    if (w) v *= w[i];
    if (b) v += b[i];
    y[i] = v;
  }
}

namespace {

// YaRN ramp between the correction dimensions.
float yarn_ramp(float low, float high, int64_t i0) {
  const float y = (static_cast<float>(i0) / 2 - low) / std::max(0.001f, high - low);
  return 1.0f - std::min(1.0f, std::max(0.0f, y));
}

float yarn_corr_dim(int64_t n_dims, int64_t n_ctx_orig, float n_rot, float base) {
  return static_cast<float>(n_dims) * std::log(static_cast<float>(n_ctx_orig) / (n_rot * 2.0f * static_cast<float>(M_PI))) /
         (2.0f * std::log(base));
}

}  // namespace

// GCC's vectorizer recognises the rotation as a complex multiplication and emits fused
// multiply-add/subtract even under -ffp-contract=off, which changes the last bits (and the
// reference parity of quantized models); the rotation is kept scalar.
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-vectorize")))
#endif
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t pos, const ModelParams& p, const float* freq_factors) {
  const int64_t n_dims = p.n_rot;
  const float theta_scale = std::pow(p.rope_freq_base, -2.0f / static_cast<float>(n_dims));
  float corr_lo = 0, corr_hi = 0;
  if (p.yarn_ext_factor != 0.0f) {
    corr_lo = std::max(0.0f, std::floor(yarn_corr_dim(n_dims, p.rope_n_ctx_orig, p.yarn_beta_fast, p.rope_freq_base)));
    corr_hi = std::min(static_cast<float>(n_dims - 1),
                       std::ceil(yarn_corr_dim(n_dims, p.rope_n_ctx_orig, p.yarn_beta_slow, p.rope_freq_base)));
  }
  // cos/sin per rotated pair, computed once for this position.
  float cache[2 * 4096];
  float theta = static_cast<float>(pos);
  for (int64_t i0 = 0; i0 < n_dims; i0 += 2) {
    const float ff = freq_factors ? freq_factors[i0 / 2] : 1.0f;
    const float theta_extrap = theta / ff;
    const float theta_interp = p.rope_freq_scale * theta_extrap;
    float t = theta_interp;
    float mscale = p.yarn_attn_factor;
    if (p.yarn_ext_factor != 0.0f) {
      const float ramp_mix = yarn_ramp(corr_lo, corr_hi, i0) * p.yarn_ext_factor;
      t = theta_interp * (1 - ramp_mix) + theta_extrap * ramp_mix;
      mscale *= 1.0f + 0.1f * std::log(1.0f / p.rope_freq_scale);
    }
    cache[i0] = std::cos(t) * mscale;
    cache[i0 + 1] = std::sin(t) * mscale;
    theta *= theta_scale;
  }
  for (int64_t h = 0; h < n_heads; ++h) {
    float* v = x + h * head_dim;
    if (p.rope_mode == RopeMode::normal) {
      for (int64_t i0 = 0; i0 < n_dims; i0 += 2) {
        const float c = cache[i0], s = cache[i0 + 1];
        const float x0 = v[i0], x1 = v[i0 + 1];
        v[i0] = x0 * c - x1 * s;
        v[i0 + 1] = x0 * s + x1 * c;
      }
    } else {
      const int64_t half = n_dims / 2;
      for (int64_t i0 = 0; i0 < n_dims; i0 += 2) {
        const float c = cache[i0], s = cache[i0 + 1];
        const float x0 = v[i0 / 2], x1 = v[i0 / 2 + half];
        v[i0 / 2] = x0 * c - x1 * s;
        v[i0 / 2 + half] = x0 * s + x1 * c;
      }
    }
  }
}

void silu_mul(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = (g / (1.0f + std::exp(-g))) * up[i];
  }
}

namespace {

float gelu_tanh(float x) {
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
  constexpr float kCoef = 0.044715f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + kCoef * x * x)));
}

// The reference evaluates GELU through a table indexed by the input's F16 bits, storing F16
// results; reproducing it keeps Gemma's outputs within noise of the reference.
struct GeluTable {
  uint16_t v[65536];
  GeluTable() {
    for (uint32_t i = 0; i < 65536; ++i) v[i] = fp32_to_fp16(gelu_tanh(fp16_to_fp32(static_cast<uint16_t>(i))));
  }
};

}  // namespace

void gelu_mul(float* gate, const float* up, int64_t n) {
  static const GeluTable table;
  for (int64_t i = 0; i < n; ++i) {
    const float x = gate[i];
    float y;
    if (x <= -10.0f) y = 0.0f;
    else if (x >= 10.0f) y = x;
    else y = fp16_to_fp32(table.v[fp32_to_fp16(x)]);
    gate[i] = y * up[i];
  }
}

void gelu(float* x, int64_t n) {
  static const GeluTable table;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    x[i] = v <= -10.0f ? 0.0f : v >= 10.0f ? v : fp16_to_fp32(table.v[fp32_to_fp16(v)]);
  }
}

void softcap(float* x, int64_t n, float cap) {
  const float inv = 1.0f / cap;
  for (int64_t i = 0; i < n; ++i) x[i] = std::tanh(x[i] * inv) * cap;
}

}  // namespace agora
