// RealServer: the OpenAI routes over the REAL engine (platform::load_models → Scheduler) on a
// loopback port, in-process, so tests can look inside the scheduler (KV blocks, queue) while
// clients misbehave. Each model's Scheduler is wrapped in a ProbeBackend that records, per
// request, when cancel() was called and how many tokens the engine still delivered afterwards.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/scheduler.h"
#include "platform/http/http_server.h"
#include "platform/metrics.h"
#include "platform/openai/routes.h"
#include "platform/serve.h"
#include "support/testdata.h"

namespace agora::test {

// What one request went through, as seen at the Backend boundary.
struct ProbeRecord {
  using clock = std::chrono::steady_clock;
  std::atomic<int> tokens{0};               // token events delivered
  std::atomic<int> tokens_after_cancel{0};  // delivered after cancel() was called
  std::atomic<bool> cancelled{false};
  std::atomic<bool> finished{false};
  clock::time_point submitted = clock::now();
  clock::time_point cancel_at{}, finish_at{};
  std::mutex mu;  // guards the time points written from two threads
};

class ProbeBackend final : public Backend {
 public:
  explicit ProbeBackend(std::unique_ptr<Backend> inner) : inner_(std::move(inner)) {}
  Scheduler& scheduler() { return *dynamic_cast<Scheduler*>(inner_.get()); }

  Result<std::shared_ptr<RequestHandle>> generate(GenerateParams params, EventSink sink) override {
    auto rec = std::make_shared<ProbeRecord>();
    auto h = inner_->generate(std::move(params), [rec, sink = std::move(sink)](Event&& e) {
      if (e.kind == Event::Kind::token) {
        ++rec->tokens;
        if (rec->cancelled) ++rec->tokens_after_cancel;
      } else {
        std::lock_guard l(rec->mu);
        rec->finish_at = ProbeRecord::clock::now();
        rec->finished = true;
      }
      sink(std::move(e));
    });
    if (!h.ok()) return h.status();
    {
      std::lock_guard l(mu_);
      records_.push_back(rec);
    }
    return std::shared_ptr<RequestHandle>(std::make_shared<Handle>(std::move(h.value()), rec));
  }
  Result<std::shared_ptr<RequestHandle>> embed(EmbedParams p, EmbedSink s) override {
    return inner_->embed(std::move(p), std::move(s));
  }
  BackendStats stats() const override { return inner_->stats(); }
  int64_t n_ctx() const override { return inner_->n_ctx(); }
  int64_t n_embd() const override { return inner_->n_embd(); }
  void begin_shutdown() override { inner_->begin_shutdown(); }

  std::vector<std::shared_ptr<ProbeRecord>> records() {
    std::lock_guard l(mu_);
    return records_;
  }
  void clear_records() {
    std::lock_guard l(mu_);
    records_.clear();
  }

 private:
  struct Handle : RequestHandle {
    Handle(std::shared_ptr<RequestHandle> h, std::shared_ptr<ProbeRecord> r)
        : inner(std::move(h)), rec(std::move(r)) {}
    void cancel() override {
      {
        std::lock_guard l(rec->mu);
        if (!rec->cancelled) rec->cancel_at = ProbeRecord::clock::now();
      }
      rec->cancelled = true;
      inner->cancel();
    }
    uint64_t id() const override { return inner->id(); }
    std::shared_ptr<RequestHandle> inner;
    std::shared_ptr<ProbeRecord> rec;
  };
  std::unique_ptr<Backend> inner_;
  std::mutex mu_;
  std::vector<std::shared_ptr<ProbeRecord>> records_;
};

class RealServer {
 public:
  // One model (by test-data name, e.g. "models/stories260K.gguf") served as id "m".
  RealServer(const std::string& model, platform::LocalBackendOptions bo,
             platform::ServerLimits limits = {})
      : registry_(load(model, bo)), ctx_{*registry_, metrics_, limits} {
    if (registry_->all().empty()) return;
    probe_ = dynamic_cast<ProbeBackend*>(registry_->all()[0]->backend.get());
    platform::http::Router router;
    platform::register_openai_routes(router, ctx_);
    platform::http::HttpServerOptions ho;
    ho.limits = limits;
    server_ = std::make_unique<platform::http::HttpServer>(std::move(ho), std::move(router));
    EXPECT_TRUE(server_->listen("127.0.0.1", 0).ok());
    thread_ = std::thread([this] { server_->run(); });
  }
  ~RealServer() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    for (const auto& m : registry_->all()) m->backend.reset();
  }
  uint16_t port() const { return server_->port(); }
  ProbeBackend& probe() { return *probe_; }
  Scheduler& scheduler() { return probe_->scheduler(); }

 private:
  static std::unique_ptr<platform::ModelRegistry> load(const std::string& model,
                                                       platform::LocalBackendOptions bo) {
    platform::ServeOptions so;
    so.models = {testdata_path(model)};
    so.aliases = {"m"};
    so.backend = bo;
    auto reg = platform::load_models(so);
    if (!reg.ok()) {
      ADD_FAILURE() << reg.status().message();
      return std::make_unique<platform::ModelRegistry>();
    }
    auto& sm = *reg.value()->all()[0];
    sm.backend = std::make_unique<ProbeBackend>(std::move(sm.backend));
    return std::move(reg.value());
  }
  std::unique_ptr<platform::ModelRegistry> registry_;
  platform::Metrics metrics_;
  platform::OpenAiContext ctx_;
  ProbeBackend* probe_ = nullptr;
  std::unique_ptr<platform::http::HttpServer> server_;
  std::thread thread_;
};

}  // namespace agora::test
