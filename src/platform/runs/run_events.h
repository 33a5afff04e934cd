// RunEventBus: the run loop publishes each run's stream events (OpenAI Assistants names and
// shapes: thread.run.in_progress, thread.message.delta, ...), and a streaming HTTP handler
// subscribes to one run for as long as it streams.
//
//   auto sub = bus.subscribe(run.id, [q](RunEvent e) { q->push(std::move(e)); });  // before the
//   loop.submit(ref);                                   // run is handed over, so nothing is missed
//   ...                                                 // `sub` unsubscribes when destroyed
//
// Thread safety: publish() and subscribe() from any thread. Sinks run on the publishing thread
// (a run loop worker) and must not block.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace agora::platform::runs {

struct RunEvent {
  std::string name;  // "thread.run.completed", "thread.message.delta", ...
  std::string data;  // the JSON object
};

// True for the events after which a run's stream ends: the run settled or paused for tools.
bool ends_stream(std::string_view event_name);

class RunEventBus {
 public:
  using Sink = std::function<void(const RunEvent&)>;

 private:
  struct Core {
    std::mutex mu;
    uint64_t next_id = 0;
    std::multimap<std::string, std::pair<uint64_t, Sink>> sinks;  // run id → (subscription, sink)
    void unsubscribe(uint64_t id);
  };

 public:
  // Unsubscribes when destroyed. It shares the bus's state (shared_ptr on purpose): a streaming
  // handler's coroutine frame, and so its Subscription, can outlive the RunLoop when the HTTP
  // server destroys suspended frames at shutdown.
  class Subscription {
   public:
    Subscription(std::shared_ptr<Core> core, uint64_t id) : core_(std::move(core)), id_(id) {}
    ~Subscription() { core_->unsubscribe(id_); }
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

   private:
    std::shared_ptr<Core> core_;
    uint64_t id_;
  };

  std::unique_ptr<Subscription> subscribe(const std::string& run_id, Sink sink);
  void publish(const std::string& run_id, const RunEvent& event);

 private:
  std::shared_ptr<Core> core_ = std::make_shared<Core>();
};

}  // namespace agora::platform::runs
