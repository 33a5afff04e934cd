// The sampler chain: logits of one step → one token id.
//
// Stages, in this fixed order: repetition penalties → logit bias → constraint mask (grammar)
// → top-k → top-p → min-p → temperature → draw. Temperature <= 0 is greedy (argmax, ties to
// the lowest id). Each Sampler owns its RNG, seeded per request, so a seed reproduces a
// completion whatever else runs in the same process. Scratch is allocated at construction.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "engine/sample/rng.h"

namespace agora {

struct SamplingParams {
  float temperature = 0.8f;
  int32_t top_k = 40;        // <= 0: off
  float top_p = 0.95f;       // >= 1: off
  float min_p = 0.05f;       // <= 0: off
  float repeat_penalty = 1.0f;     // > 1 discourages tokens seen in the last repeat_last_n
  int32_t repeat_last_n = 64;
  float presence_penalty = 0.0f;   // OpenAI semantics: subtract once per seen token
  float frequency_penalty = 0.0f;  // subtract count × penalty
  uint64_t seed = 0;
  std::vector<std::pair<int32_t, float>> logit_bias;  // (token, bias); -inf bans

  static SamplingParams greedy() {
    SamplingParams p;
    p.temperature = 0.0f;
    return p;
  }
};

class Sampler {
 public:
  Sampler(const SamplingParams& params, int64_t n_vocab);

  // Chooses a token. `allowed` (optional, n_vocab bytes) masks tokens a constraint forbids;
  // the result is always allowed when at least one token is. `logits` is not modified.
  int32_t sample(const float* logits, const uint8_t* allowed = nullptr);
  // Records an emitted token (for penalties).
  void accept(int32_t token);
  const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  int64_t n_vocab_;
  Rng rng_;
  std::vector<float> work_;
  std::vector<std::pair<float, int32_t>> cand_;
  std::vector<double> probs_;
  std::vector<int32_t> history_;
  std::vector<int32_t> counts_;
};

// Argmax with ties to the lowest id (the reference's greedy rule).
int32_t argmax(const float* logits, int64_t n);

}  // namespace agora
