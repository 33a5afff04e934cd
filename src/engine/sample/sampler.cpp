#include "engine/sample/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace agora {

int32_t argmax(const float* logits, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (logits[i] > logits[best]) best = i;
  return static_cast<int32_t>(best);
}

Sampler::Sampler(const SamplingParams& params, int64_t n_vocab)
    : params_(params), n_vocab_(n_vocab), rng_(params.seed) {
  work_.resize(static_cast<size_t>(n_vocab));
  cand_.reserve(static_cast<size_t>(n_vocab));
  probs_.reserve(static_cast<size_t>(n_vocab));
  counts_.assign(static_cast<size_t>(n_vocab), 0);
}

void Sampler::accept(int32_t token) {
  if (token < 0 || token >= n_vocab_) return;
  history_.push_back(token);
  counts_[static_cast<size_t>(token)]++;
}

int32_t Sampler::sample(const float* logits, const uint8_t* allowed) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  float* l = work_.data();
  std::copy(logits, logits + n_vocab_, l);

  // 1. Penalties over the recent history.
  if (params_.repeat_penalty != 1.0f && params_.repeat_last_n != 0) {
    size_t n = params_.repeat_last_n < 0 ? history_.size() : std::min<size_t>(history_.size(), params_.repeat_last_n);
    for (size_t i = history_.size() - n; i < history_.size(); ++i) {
      float& x = l[history_[i]];
      // Apply once per distinct token: mark by checking counts in the window.
      bool first = std::find(history_.begin() + static_cast<ptrdiff_t>(history_.size() - n),
                             history_.begin() + static_cast<ptrdiff_t>(i), history_[i]) ==
                   history_.begin() + static_cast<ptrdiff_t>(i);
      if (first) x = x > 0 ? x / params_.repeat_penalty : x * params_.repeat_penalty;
    }
  }
  if (params_.presence_penalty != 0.0f || params_.frequency_penalty != 0.0f) {
    for (int64_t t = 0; t < n_vocab_; ++t)
      if (counts_[t] > 0) l[t] -= params_.presence_penalty + params_.frequency_penalty * static_cast<float>(counts_[t]);
  }
  // 2. Bias.
  for (const auto& [tok, bias] : params_.logit_bias)
    if (tok >= 0 && tok < n_vocab_) l[tok] += bias;
  // 3. Constraint mask.
  if (allowed) {
    bool any = false;
    for (int64_t t = 0; t < n_vocab_; ++t) {
      if (!allowed[t]) l[t] = kNegInf;
      else any = true;
    }
    if (!any) return argmax(logits, n_vocab_);
  }
  if (params_.temperature <= 0.0f) {
    int32_t best = argmax(l, n_vocab_);
    if (allowed && !allowed[best]) {  // everything allowed is -inf: first allowed token
      for (int64_t t = 0; t < n_vocab_; ++t)
        if (allowed[t]) return static_cast<int32_t>(t);
    }
    return best;
  }

  // 4. Candidates sorted by logit (ties: lower id first), cut to top-k.
  cand_.clear();
  for (int64_t t = 0; t < n_vocab_; ++t)
    if (l[t] != kNegInf) cand_.emplace_back(l[t], static_cast<int32_t>(t));
  if (cand_.empty()) return argmax(logits, n_vocab_);
  auto cmp = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  size_t k = cand_.size();
  if (params_.top_k > 0) k = std::min<size_t>(k, static_cast<size_t>(params_.top_k));
  std::partial_sort(cand_.begin(), cand_.begin() + static_cast<ptrdiff_t>(k), cand_.end(), cmp);
  cand_.resize(k);

  // Probabilities at temperature 1 for the nucleus and min-p cuts.
  auto softmax = [this](float temp) -> const std::vector<double>& {
    const float mx = cand_[0].first;
    double sum = 0;
    probs_.resize(cand_.size());
    for (size_t i = 0; i < cand_.size(); ++i) sum += probs_[i] = std::exp((cand_[i].first - mx) / temp);
    for (auto& x : probs_) x /= sum;
    return probs_;
  };
  // 5. top-p
  if (params_.top_p < 1.0f) {
    const auto& ps = softmax(1.0f);
    double cum = 0;
    size_t keep = ps.size();
    for (size_t i = 0; i < ps.size(); ++i) {
      cum += ps[i];
      if (cum >= params_.top_p) { keep = i + 1; break; }
    }
    cand_.resize(std::max<size_t>(1, keep));
  }
  // 6. min-p (relative to the most likely token)
  if (params_.min_p > 0.0f) {
    const float cut = cand_[0].first + std::log(params_.min_p);
    size_t keep = 1;
    while (keep < cand_.size() && cand_[keep].first >= cut) ++keep;
    cand_.resize(keep);
  }
  // 7. temperature and 8. draw.
  const auto& ps = softmax(params_.temperature);
  double r = rng_.uniform();
  for (size_t i = 0; i < ps.size(); ++i) {
    r -= ps[i];
    if (r < 0) return cand_[i].second;
  }
  return cand_.back().second;
}

}  // namespace agora
