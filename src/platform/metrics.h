// Metrics: the server's counters and histograms, rendered as Prometheus text for GET /metrics.
// Thread-safe (one mutex; updates are a few per request or per token batch). Backend gauges
// (queue depth, KV use, prefix-cache hit rate) are read from Backend::stats() at render time.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/backend.h"

namespace agora::platform {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}
  void observe(double v);
  void render(std::string& out, const std::string& name, const std::string& help) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative); last = +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  Metrics();
  void count_request(const std::string& route, unsigned status, double seconds);
  void count_tokens(int64_t prompt, int64_t completion);
  void observe_ttft(double seconds);
  void observe_itl(double seconds);
  // `backends`: (model id, backend) pairs to sample gauges from.
  std::string render(const std::vector<std::pair<std::string, const Backend*>>& backends) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, unsigned>, uint64_t> requests_;
  int64_t prompt_tokens_ = 0, completion_tokens_ = 0;
  Histogram request_seconds_, ttft_, itl_;
};

}  // namespace agora::platform
