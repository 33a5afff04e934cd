// FakeBackend: a Backend for platform tests. One worker thread; every `tick` it admits queued
// requests into free slots (n_parallel) and emits one token per running request, the token ids
// cycling through `script`. It honours max_tokens (finish "length"), stop after `n_words` tokens
// (finish "stop"), cancel (finish "cancelled" at the next tick), the queue cap
// (resource_exhausted), the context check (out_of_range) and begin_shutdown (unavailable). It
// counts tokens emitted after a cancel so disconnect tests can check the bound.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/backend.h"

namespace agora::test {

class FakeBackend final : public Backend {
 public:
  struct Options {
    int n_parallel = 4;
    int max_queue = 8;
    int64_t n_ctx = 256;
    int64_t n_embd = 8;
    std::chrono::milliseconds tick{2};
    int n_words = 1 << 30;           // natural end after this many tokens
    std::vector<int32_t> script = {100, 101, 102};
    std::vector<std::string> texts = {"Hello", " world", "!"};
  };
  explicit FakeBackend(Options o) : o_(std::move(o)) { thread_ = std::thread([this] { loop(); }); }
  ~FakeBackend() override {
    {
      std::lock_guard l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  struct Req : RequestHandle {
    uint64_t id_ = 0;
    GenerateParams params;
    EventSink sink;
    std::atomic<bool> cancelled{false};
    std::atomic<bool> finished{false};
    int emitted = 0;
    int emitted_after_cancel = 0;
    std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
    void cancel() override { cancelled = true; }
    uint64_t id() const override { return id_; }
  };

  Result<std::shared_ptr<RequestHandle>> generate(GenerateParams params, EventSink sink) override {
    std::lock_guard l(mu_);
    if (shutting_down_) return Status(ErrorCode::unavailable, "shutting down");
    if (static_cast<int64_t>(params.prompt.size()) >= o_.n_ctx)
      return Status(ErrorCode::out_of_range, "prompt too long");
    // Free slots count as queue room until the next tick admits into them.
    if (queue_.size() + running_.size() >= static_cast<size_t>(o_.max_queue + o_.n_parallel))
      return Status(ErrorCode::resource_exhausted, "queue full");
    auto r = std::make_shared<Req>();
    r->id_ = ++next_id_;
    r->params = std::move(params);
    r->sink = std::move(sink);
    queue_.push_back(r);
    all_.push_back(r);
    cv_.notify_all();
    return std::shared_ptr<RequestHandle>(r);
  }

  Result<std::shared_ptr<RequestHandle>> embed(EmbedParams params, EmbedSink sink) override {
    EmbedResult res;
    res.n_tokens = static_cast<int32_t>(params.tokens.size());
    res.embedding.assign(o_.n_embd, 0.0f);
    for (size_t i = 0; i < params.tokens.size(); ++i) res.embedding[i % o_.n_embd] += 1.0f;
    sink(std::move(res));
    auto r = std::make_shared<Req>();
    return std::shared_ptr<RequestHandle>(r);
  }

  BackendStats stats() const override {
    std::lock_guard l(mu_);
    BackendStats s;
    s.n_running = static_cast<int>(running_.size());
    s.n_queued = static_cast<int>(queue_.size());
    return s;
  }
  int64_t n_ctx() const override { return o_.n_ctx; }
  int64_t n_embd() const override { return o_.n_embd; }
  void begin_shutdown() override {
    std::lock_guard l(mu_);
    shutting_down_ = true;
  }

  // Every request ever submitted (for assertions).
  std::vector<std::shared_ptr<Req>> requests() const {
    std::lock_guard l(mu_);
    return all_;
  }
  int max_running_seen = 0;
  int max_queued_seen = 0;

 private:
  void loop() {
    std::unique_lock l(mu_);
    while (!stop_) {
      cv_.wait_for(l, o_.tick, [this] { return stop_; });
      if (stop_) break;
      // Cancelled queued requests leave without running.
      for (auto it = queue_.begin(); it != queue_.end();) {
        if ((*it)->cancelled) {
          finish(**it, FinishReason::cancelled);
          it = queue_.erase(it);
        } else {
          ++it;
        }
      }
      while (static_cast<int>(running_.size()) < o_.n_parallel && !queue_.empty()) {
        running_.push_back(queue_.front());
        queue_.pop_front();
      }
      max_running_seen = std::max<int>(max_running_seen, static_cast<int>(running_.size()));
      max_queued_seen = std::max<int>(max_queued_seen, static_cast<int>(queue_.size()));
      for (auto it = running_.begin(); it != running_.end();) {
        Req& r = **it;
        if (r.cancelled) {
          finish(r, FinishReason::cancelled);
          it = running_.erase(it);
          continue;
        }
        const size_t k = r.emitted % o_.script.size();
        Event e;
        e.kind = Event::Kind::token;
        e.token = o_.script[k];
        e.text = o_.texts[k];
        e.logprob = -0.5f;
        if (r.params.top_logprobs > 0)
          for (int j = 0; j < r.params.top_logprobs; ++j) e.top_logprobs.push_back({o_.script[(k + j) % o_.script.size()], o_.texts[(k + j) % o_.texts.size()], -0.5f - j});
        ++r.emitted;
        r.sink(std::move(e));
        if ((r.params.max_tokens >= 0 && r.emitted >= r.params.max_tokens) || r.emitted >= o_.n_words) {
          finish(r, r.emitted >= o_.n_words ? FinishReason::stop : FinishReason::length);
          it = running_.erase(it);
          continue;
        }
        ++it;
      }
    }
    for (auto& r : queue_) finish(*r, FinishReason::cancelled);
    for (auto& r : running_) finish(*r, FinishReason::cancelled);
  }
  void finish(Req& r, FinishReason reason) {
    Event e;
    e.kind = Event::Kind::finish;
    e.finish_reason = reason;
    e.usage.prompt_tokens = static_cast<int32_t>(r.params.prompt.size());
    e.usage.completion_tokens = r.emitted;
    r.finished = true;
    r.sink(std::move(e));
  }

  Options o_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Req>> queue_;
  std::vector<std::shared_ptr<Req>> running_;
  std::vector<std::shared_ptr<Req>> all_;
  uint64_t next_id_ = 0;
  bool stop_ = false;
  bool shutting_down_ = false;
  std::thread thread_;
};

}  // namespace agora::test
