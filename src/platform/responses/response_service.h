// ResponseService: runs responses (foreground and background) on the agent turn, streams their
// semantic events, persists them, and finds the ones still running.
//
// A ResponseJob is one response in flight. Its events (response.created … response.completed,
// each with sequence_number 0, 1, 2, …) are kept in memory while it runs and handed to any
// number of subscribers (the POST stream, GET ?stream=true replays): subscribe() returns the
// events after N so far and registers a queue for the later ones, atomically, so a subscriber
// never misses or repeats one. A background response also persists its events (batched every
// kEventFlushInterval, and with the final state in one transaction), so a replay after it ended —
// or after a restart — reads them from the Store. The final state (status, output, usage) and the
// conversation append are one Store transaction (finish_response); the job leaves the live map
// only after that commit, so a reader that no longer finds it live reads the final state.
//
// Threads: turn callbacks run on the engine thread and only touch the job under its mutex; Store
// writes run on the service's own worker thread, in order. Destroy (or shutdown()) after the
// backends, whose last events finish the jobs still running.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "platform/agent/agent_turn.h"
#include "platform/auth/principal.h"
#include "platform/http/event_queue.h"
#include "platform/platform_context.h"
#include "platform/responses/response_request.h"

namespace agora::platform::responses {

inline constexpr auto kEventFlushInterval = std::chrono::milliseconds(200);
inline constexpr int kMaxPreviousResponseDepth = 256;

struct StreamEvent {
  int64_t seq = -1;
  std::string type;
  std::string data;
  bool end = false;  // the job finished: no more events
};
using StreamQueue = http::EventQueue<StreamEvent>;

class ResponseService;

class ResponseJob : public std::enable_shared_from_this<ResponseJob> {
 public:
  struct Subscription {
    std::vector<StreamEvent> backlog;  // events with seq > after, so far
    bool finished = false;             // no more will come (backlog may still hold some)
  };
  Subscription subscribe(int64_t after, std::shared_ptr<StreamQueue> queue);
  // Requests cancellation (idempotent); the job then finishes `cancelled`.
  void cancel();
  nlohmann::json object() const;  // a snapshot of the Response object
  const std::string& id() const { return id_; }
  const std::string& owner_id() const { return owner_id_; }
  bool background() const { return req_.background; }
  bool stored() const { return req_.store; }
  bool finished() const;

 private:
  friend class ResponseService;
  void emit(const char* type, nlohmann::json payload);  // caller holds mu_
  void on_text(const std::string& delta);
  void on_done(agent::TurnResult&& result);
  void open_message();  // caller holds mu_

  ResponseService* service_ = nullptr;
  std::string id_, owner_id_;
  ResponseRequest req_;
  nlohmann::json object_;  // the Response object, kept current
  mutable std::mutex mu_;
  int64_t next_seq_ = 0;
  std::vector<StreamEvent> events_;
  std::vector<StreamEvent> unpersisted_;
  std::vector<std::weak_ptr<StreamQueue>> subscribers_;
  bool finished_ = false;       // final events emitted
  bool cancel_requested_ = false;
  bool flush_scheduled_ = false;
  std::string message_id_;      // the streaming assistant message, once opened
  std::string text_;
  std::shared_ptr<agent::Turn> turn_;
};

class ResponseService {
 public:
  explicit ResponseService(PlatformContext& ctx);
  ~ResponseService();

  // At start, before serving: responses a crash left queued/in_progress end `failed` (with a
  // terminal response.failed event for replays). Returns how many.
  int recover();

  // Validates the context (previous response, conversation), stores the response (store=true),
  // starts the turn. 4xx/5xx errors come back before anything is stored or started.
  ApiResult<std::shared_ptr<ResponseJob>> start(const auth::Principal& who, ResponseRequest req);
  // The live job `id` of `owner_id`, or null.
  std::shared_ptr<ResponseJob> live(const std::string& owner_id, const std::string& id);

  // Waits for the jobs in flight to be persisted and stops the worker (idempotent).
  void shutdown();

 private:
  friend class ResponseJob;
  void schedule_flush(std::shared_ptr<ResponseJob> job);
  void finish(std::shared_ptr<ResponseJob> job, agent::TurnResult result);
  ApiResult<std::vector<agent::Item>> context_items(const storage::Owner& owner, const ResponseRequest& req);

  PlatformContext& ctx_;
  boost::asio::io_context worker_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::thread thread_;
  std::mutex live_mu_;
  std::map<std::string, std::shared_ptr<ResponseJob>> live_;  // by response id
};

// The Response object's usage from the engine's counts.
nlohmann::json usage_json(const Usage& u);

}  // namespace agora::platform::responses
