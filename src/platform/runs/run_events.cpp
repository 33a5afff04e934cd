#include "platform/runs/run_events.h"

#include <vector>

namespace agora::platform::runs {

bool ends_stream(std::string_view n) {
  return n == "thread.run.completed" || n == "thread.run.failed" || n == "thread.run.cancelled" ||
         n == "thread.run.expired" || n == "thread.run.incomplete" || n == "thread.run.requires_action";
}

std::unique_ptr<RunEventBus::Subscription> RunEventBus::subscribe(const std::string& run_id, Sink sink) {
  std::lock_guard lock(core_->mu);
  const uint64_t id = ++core_->next_id;
  core_->sinks.emplace(run_id, std::make_pair(id, std::move(sink)));
  return std::make_unique<Subscription>(core_, id);
}

void RunEventBus::Core::unsubscribe(uint64_t id) {
  std::lock_guard lock(mu);
  for (auto it = sinks.begin(); it != sinks.end(); ++it) {
    if (it->second.first == id) {
      sinks.erase(it);
      return;
    }
  }
}

void RunEventBus::publish(const std::string& run_id, const RunEvent& event) {
  // Sinks only queue (they never block), so calling them under the lock keeps unsubscribe simple:
  // once unsubscribe() returns, the sink is never called again.
  std::lock_guard lock(core_->mu);
  auto [lo, hi] = core_->sinks.equal_range(run_id);
  for (auto it = lo; it != hi; ++it) it->second.second(event);
}

}  // namespace agora::platform::runs
