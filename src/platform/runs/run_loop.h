// RunLoop: executes Assistants runs. Worker threads take runs handed over by the routes
// (submit), claim each with a compare-and-set queued → in_progress in the Store, and drive it:
//
//   queued → in_progress → (requires_action ⇄ in_progress)* → completed | failed | cancelled |
//   expired | incomplete
//
// One execution is one model turn (agent::start_turn) over the prompt rebuilt from the Store
// (run_prompt.h). Text output becomes a message_creation step and an assistant message (streamed
// as thread.message.delta); function calls become a tool_calls step and the run pauses in
// requires_action (expires_at = now + requires_action_timeout) until the client submits the
// outputs, which resumes it. Every state change is persisted before it is published on the
// event bus (run_events.h), with OpenAI's event names and object shapes.
//
// Cancellation: cancel() moves a queued or requires_action run straight to cancelled, an
// in_progress one to cancelling and stops its turn; the worker then settles it as cancelled.
// A sweeper thread expires runs whose requires_action has timed out. stop() ends every turn and
// fails the runs it interrupted ("the server shut down"), so none is left in_progress; a crash is
// settled at the next start by Store::recover_after_crash.
//
// Thread safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "platform/agent/agent_turn.h"
#include "platform/api_error.h"
#include "platform/openai/model_registry.h"
#include "platform/runs/run_events.h"
#include "platform/storage/store.h"

namespace agora::platform::runs {

struct RunLoopOptions {
  int n_workers = 8;                                     // runs generating at once
  std::chrono::seconds requires_action_timeout{600};     // OpenAI: 10 minutes
  std::chrono::milliseconds sweep_interval{1000};        // expiry checks
};

struct ToolOutput {
  std::string tool_call_id;
  std::string output;
};

class RunLoop {
 public:
  RunLoop(storage::Store& store, const ModelRegistry& models, RunLoopOptions options = {});
  ~RunLoop();
  RunLoop(const RunLoop&) = delete;
  RunLoop& operator=(const RunLoop&) = delete;

  // Starts the workers and the sweeper, and takes over the runs the Store holds as queued
  // (re-queued by crash recovery).
  void start();
  // Stops the turns in flight (their runs fail), then the threads. Idempotent.
  void stop();

  // Hands a queued run to a worker.
  void submit(const storage::RunRef& ref);

  // requires_action → in_progress with the outputs recorded on the tool_calls step, then resumed.
  // 400 when the run does not wait for outputs or the outputs do not match its calls.
  ApiResult<storage::Run> submit_tool_outputs(const storage::Owner& owner, const std::string& thread_id,
                                              const std::string& run_id, const std::vector<ToolOutput>& outputs);
  // The run after the cancel request (cancelled, or cancelling while its turn stops). 400 when
  // the run has already ended.
  ApiResult<storage::Run> cancel(const storage::Owner& owner, const std::string& thread_id, const std::string& run_id);

  // Expires the runs whose requires_action timed out by `now`; returns how many (tests call it).
  int sweep_expired(storage::Timestamp now);

  RunEventBus& events() { return bus_; }
  int n_executing() const { return n_executing_.load(); }

 private:
  struct Job {
    storage::RunRef ref;
    bool claimed = false;  // already in_progress (resumed by submit_tool_outputs)
  };
  // A run being executed: its turn, for cancel().
  struct Active {
    std::mutex mu;
    std::shared_ptr<agent::Turn> turn;
    bool cancelled = false;
  };
  class Execution;
  friend class Execution;

  void enqueue(Job job);
  void worker();
  void sweeper();
  void execute(const Job& job);
  std::shared_ptr<Active> register_active(const std::string& run_id);
  void unregister_active(const std::string& run_id);
  void publish(const std::string& run_id, const char* name, const std::string& data);

  storage::Store& store_;
  const ModelRegistry& models_;
  RunLoopOptions options_;
  RunEventBus bus_;

  std::mutex mu_;  // guards queue_, active_, stopping_ transitions with cv_
  // Workers wait on cv_ for jobs; the sweeper waits on its own sweep_cv_. (With one shared
  // variable, enqueue's notify_one could wake the sweeper, which goes back to sleep, and the job
  // stayed queued until the next enqueue.)
  std::condition_variable cv_;
  std::condition_variable sweep_cv_;
  std::deque<Job> queue_;
  std::map<std::string, std::shared_ptr<Active>> active_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  std::vector<std::thread> threads_;
  std::atomic<int> n_executing_{0};
};

}  // namespace agora::platform::runs
