#include "platform/metrics.h"

#include <cstdio>

namespace agora::platform {

namespace {
std::string fmt(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}
std::string label_value(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}
}  // namespace

void Histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cum = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    out += name + "_bucket{le=\"" + fmt(bounds_[i]) + "\"} " + std::to_string(cum) + "\n";
  }
  cum += counts_.back();
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cum) + "\n";
  out += name + "_sum " + fmt(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : request_seconds_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}),
      ttft_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}),
      itl_({0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}) {}

void Metrics::count_request(const std::string& route, unsigned status, double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{route, status}];
  request_seconds_.observe(seconds);
}

void Metrics::count_tokens(int64_t prompt, int64_t completion) {
  std::lock_guard lock(mu_);
  prompt_tokens_ += prompt;
  completion_tokens_ += completion;
}

void Metrics::observe_ttft(double s) {
  std::lock_guard lock(mu_);
  ttft_.observe(s);
}

void Metrics::observe_itl(double s) {
  std::lock_guard lock(mu_);
  itl_.observe(s);
}

std::string Metrics::render(const std::vector<std::pair<std::string, const Backend*>>& backends) const {
  std::string out;
  {
    std::lock_guard lock(mu_);
    out += "# HELP agora_requests_total HTTP requests by route and status.\n# TYPE agora_requests_total counter\n";
    for (const auto& [k, n] : requests_)
      out += "agora_requests_total{route=\"" + label_value(k.first) + "\",status=\"" + std::to_string(k.second) +
             "\"} " + std::to_string(n) + "\n";
    out += "# HELP agora_prompt_tokens_total Prompt tokens processed.\n# TYPE agora_prompt_tokens_total counter\n";
    out += "agora_prompt_tokens_total " + std::to_string(prompt_tokens_) + "\n";
    out += "# HELP agora_completion_tokens_total Completion tokens generated.\n# TYPE agora_completion_tokens_total counter\n";
    out += "agora_completion_tokens_total " + std::to_string(completion_tokens_) + "\n";
    request_seconds_.render(out, "agora_request_duration_seconds", "Time from request read to response end.");
    ttft_.render(out, "agora_time_to_first_token_seconds", "Time from submission to the first token.");
    itl_.render(out, "agora_inter_token_latency_seconds", "Time between consecutive tokens of one choice.");
  }
  auto gauge = [&](const char* name, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n";
  };
  std::vector<BackendStats> stats;
  for (const auto& [id, b] : backends) stats.push_back(b->stats());
  auto each = [&](const char* name, auto value) {
    for (size_t i = 0; i < backends.size(); ++i)
      out += std::string(name) + "{model=\"" + label_value(backends[i].first) + "\"} " + fmt(value(stats[i])) + "\n";
  };
  gauge("agora_requests_running", "Sequences being generated.");
  each("agora_requests_running", [](const BackendStats& s) { return double(s.n_running); });
  gauge("agora_queue_depth", "Requests waiting for a slot.");
  each("agora_queue_depth", [](const BackendStats& s) { return double(s.n_queued); });
  gauge("agora_kv_blocks_used", "KV cache blocks in use.");
  each("agora_kv_blocks_used", [](const BackendStats& s) { return double(s.kv_blocks_used); });
  gauge("agora_kv_blocks_total", "KV cache blocks available.");
  each("agora_kv_blocks_total", [](const BackendStats& s) { return double(s.kv_blocks_total); });
  gauge("agora_kv_usage_ratio", "Fraction of KV cache blocks in use.");
  each("agora_kv_usage_ratio", [](const BackendStats& s) {
    return s.kv_blocks_total > 0 ? double(s.kv_blocks_used) / double(s.kv_blocks_total) : 0.0;
  });
  gauge("agora_prefix_cache_hit_ratio", "Prompt tokens served from the prefix cache / prompt tokens looked up.");
  each("agora_prefix_cache_hit_ratio", [](const BackendStats& s) {
    return s.prefix_cache_lookups > 0 ? double(s.prefix_cache_hits) / double(s.prefix_cache_lookups) : 0.0;
  });
  return out;
}

}  // namespace agora::platform
