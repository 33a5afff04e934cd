#include "platform/runs/run_loop.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <set>

#include <nlohmann/json.hpp>

#include "platform/assistants/object_json.h"
#include "platform/runs/run_prompt.h"

namespace agora::platform::runs {

using nlohmann::json;
using storage::Message;
using storage::Owner;
using storage::Run;
using storage::RunError;
using storage::RunStatus;
using storage::RunStep;
using storage::RunStepStatus;

namespace {

constexpr const char* kShutdownMessage = "The server shut down while this run was in progress.";
// Bytes of tool-call arguments per thread.run.step.delta (OpenAI streams them in small pieces).
constexpr size_t kArgumentsFragmentBytes = 16;
// How long a stopping worker waits for a cancelled turn to report before giving up on it.
constexpr auto kStopGrace = std::chrono::seconds(10);

storage::Timestamp now_s() { return static_cast<storage::Timestamp>(std::time(nullptr)); }

struct Totals {
  int64_t prompt = 0, completion = 0;
  json to_json() const {
    return {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
  }
};

Totals totals_of(const std::optional<std::string>& usage) {
  Totals t;
  if (!usage) return t;
  json u = json::parse(*usage, nullptr, false);
  if (u.is_object()) {
    t.prompt = u.value("prompt_tokens", int64_t{0});
    t.completion = u.value("completion_tokens", int64_t{0});
  }
  return t;
}

json text_content(const std::string& text) {
  return json::array({{{"type", "text"}, {"text", {{"value", text}, {"annotations", json::array()}}}}});
}

// Pieces of `s` of at most `n` bytes, cut between UTF-8 characters.
std::vector<std::string> fragments(const std::string& s, size_t n) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t end = std::min(s.size(), i + n);
    while (end < s.size() && end > i + 1 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
    out.push_back(s.substr(i, end - i));
    i = end;
  }
  return out;
}

// The engine side of one turn, handed to the worker thread (callbacks must not block).
struct Bridge {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> deltas;
  std::optional<agent::TurnResult> done;
};

}  // namespace

// ---- one execution of a run (a worker thread) -------------------------------------------------

class RunLoop::Execution {
 public:
  Execution(RunLoop& loop, Owner owner, Run run, std::shared_ptr<Active> active)
      : loop_(loop), store_(loop.store_), owner_(std::move(owner)), run_(std::move(run)), active_(std::move(active)),
        totals_(totals_of(run_.usage)) {}

  void drive();
  void settle_cancelled();

 private:
  void publish_run(const char* name) { loop_.publish(run_.id, name, assistants::dump_json(assistants::run_json(run_))); }
  void publish_step(const char* name, const RunStep& s) {
    loop_.publish(run_.id, name, assistants::dump_json(assistants::run_step_json(s)));
  }
  void publish_message(const char* name, const Message& m) {
    loop_.publish(run_.id, name, assistants::dump_json(assistants::message_json(m)));
  }

  // Writes `next` if the run still has the status we last read. On a conflict the run is
  // re-read: a cancel that came in meanwhile is settled (cancelled); false either way.
  bool update(Run next);
  void fail(const std::string& code, const std::string& message);
  void end_incomplete(const char* reason);
  // The open message_creation step and its message (created at the first text).
  bool open_message();
  void close_message(const std::string& text, bool complete, const Usage* usage);
  void abandon_message(RunStepStatus step_status);
  void pause_for_tools(std::vector<agent::Item> calls);

  RunLoop& loop_;
  storage::Store& store_;
  Owner owner_;
  Run run_;
  std::shared_ptr<Active> active_;
  Totals totals_;
  std::optional<RunStep> msg_step_;
  std::optional<Message> msg_;
};

bool RunLoop::Execution::update(Run next) {
  // What a client acts on (a terminal state, a request for tool outputs) waits for the disk, and
  // with it every deferred write of this run before it.
  const bool settles = storage::is_terminal(next.status) || next.status == RunStatus::requires_action;
  storage::DurabilityScope durability(settles ? storage::Durability::acknowledged : storage::DurabilityScope::current());
  auto r = store_.update_run(owner_, next, run_.status);
  if (r) {
    run_ = std::move(r.value());
    return true;
  }
  if (r.code() == storage::StoreErrc::conflict) {
    auto now = store_.get_run(owner_, run_.thread_id, run_.id);
    if (now) {
      run_ = std::move(now.value());
      if (run_.status == RunStatus::cancelling) settle_cancelled();
    }
  } else {
    std::fprintf(stderr, "agora runs: run %s: %s\n", run_.id.c_str(), r.status().message().c_str());
  }
  return false;
}

void RunLoop::Execution::abandon_message(RunStepStatus step_status) {
  const storage::Timestamp t = now_s();
  if (msg_) {
    Message m = *msg_;
    m.status = "incomplete";
    m.incomplete_at = t;
    m.incomplete_details = R"({"reason":"run_cancelled"})";
    if (step_status == RunStepStatus::failed) m.incomplete_details = R"({"reason":"run_failed"})";
    if (auto r = store_.update_message(owner_, m)) {
      msg_ = *r;
      publish_message("thread.message.incomplete", *msg_);
    }
  }
  if (msg_step_) {
    RunStep s = *msg_step_;
    s.status = step_status;
    if (step_status == RunStepStatus::cancelled) s.cancelled_at = t;
    else s.failed_at = t;
    if (auto r = store_.update_run_step(owner_, s)) {
      msg_step_ = *r;
      publish_step(step_status == RunStepStatus::cancelled ? "thread.run.step.cancelled" : "thread.run.step.failed",
                   *msg_step_);
    }
  }
  msg_.reset();
  msg_step_.reset();
}

void RunLoop::Execution::settle_cancelled() {
  abandon_message(RunStepStatus::cancelled);
  for (int attempt = 0; attempt < 3 && run_.status == RunStatus::cancelling; ++attempt) {
    Run next = run_;
    next.status = RunStatus::cancelled;
    next.cancelled_at = now_s();
    next.required_action.reset();
    next.expires_at.reset();
    next.usage = totals_.to_json().dump();
    storage::DurabilityScope durability(storage::Durability::acknowledged);
    auto r = store_.update_run(owner_, next, RunStatus::cancelling);
    if (r) {
      run_ = std::move(r.value());
      publish_run("thread.run.cancelled");
      return;
    }
    auto now = store_.get_run(owner_, run_.thread_id, run_.id);
    if (!now) return;
    run_ = std::move(now.value());
  }
}

void RunLoop::Execution::fail(const std::string& code, const std::string& message) {
  abandon_message(RunStepStatus::failed);
  Run next = run_;
  next.status = RunStatus::failed;
  next.failed_at = now_s();
  next.last_error = RunError{code, message};
  next.required_action.reset();
  next.expires_at.reset();
  next.usage = totals_.to_json().dump();
  if (update(next)) publish_run("thread.run.failed");
}

void RunLoop::Execution::end_incomplete(const char* reason) {
  Run next = run_;
  next.status = RunStatus::incomplete;
  next.incomplete_details = json{{"reason", reason}}.dump();
  next.completed_at = std::nullopt;
  next.expires_at.reset();
  next.usage = totals_.to_json().dump();
  if (update(next)) publish_run("thread.run.incomplete");
}

bool RunLoop::Execution::open_message() {
  if (msg_) return true;
  Message m;
  m.thread_id = run_.thread_id;
  m.role = "assistant";
  m.content = "[]";
  m.assistant_id = run_.assistant_id;
  m.run_id = run_.id;
  m.status = "in_progress";
  auto created = store_.create_message(owner_, m);
  if (!created) return false;
  RunStep s;
  s.thread_id = run_.thread_id;
  s.run_id = run_.id;
  s.type = "message_creation";
  s.status = RunStepStatus::in_progress;
  s.step_details = json{{"type", "message_creation"}, {"message_creation", {{"message_id", created->id}}}}.dump();
  auto step = store_.create_run_step(owner_, s);
  if (!step) {
    store_.delete_message(owner_, run_.thread_id, created->id);
    return false;
  }
  msg_step_ = *step;
  msg_ = *created;
  publish_step("thread.run.step.created", *msg_step_);
  publish_step("thread.run.step.in_progress", *msg_step_);
  publish_message("thread.message.created", *msg_);
  publish_message("thread.message.in_progress", *msg_);
  return true;
}

void RunLoop::Execution::close_message(const std::string& text, bool complete, const Usage* usage) {
  if (!msg_ && !open_message()) return;
  const storage::Timestamp t = now_s();
  Message m = *msg_;
  m.content = text_content(text).dump();
  if (complete) {
    m.status = "completed";
    m.completed_at = t;
  } else {
    m.status = "incomplete";
    m.incomplete_at = t;
    m.incomplete_details = R"({"reason":"max_tokens"})";
  }
  if (auto r = store_.update_message(owner_, m)) {
    msg_ = *r;
    publish_message(complete ? "thread.message.completed" : "thread.message.incomplete", *msg_);
  }
  RunStep s = *msg_step_;
  s.status = RunStepStatus::completed;
  s.completed_at = t;
  if (usage) {
    s.usage = json{{"prompt_tokens", usage->prompt_tokens},
                   {"completion_tokens", usage->completion_tokens},
                   {"total_tokens", usage->prompt_tokens + usage->completion_tokens}}
                  .dump();
  }
  if (auto r = store_.update_run_step(owner_, s)) publish_step("thread.run.step.completed", *r);
  msg_.reset();
  msg_step_.reset();
}

void RunLoop::Execution::pause_for_tools(std::vector<agent::Item> calls) {
  json step_calls = json::array(), required = json::array();
  for (const auto& c : calls) {
    step_calls.push_back({{"id", c.call_id},
                          {"type", "function"},
                          {"function", {{"name", c.name}, {"arguments", c.arguments}, {"output", nullptr}}}});
    required.push_back({{"id", c.call_id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
  }
  RunStep s;
  s.thread_id = run_.thread_id;
  s.run_id = run_.id;
  s.type = "tool_calls";
  s.status = RunStepStatus::in_progress;
  s.step_details = json{{"type", "tool_calls"}, {"tool_calls", step_calls}}.dump();
  auto step = store_.create_run_step(owner_, s);
  if (!step) return fail("server_error", "Could not record the tool calls: " + step.status().message());
  // As OpenAI streams it: the step with no calls yet, then each call and its arguments in deltas.
  RunStep announced = *step;
  announced.step_details = R"({"type":"tool_calls","tool_calls":[]})";
  publish_step("thread.run.step.created", announced);
  publish_step("thread.run.step.in_progress", announced);
  for (size_t i = 0; i < calls.size(); ++i) {
    auto delta = [&](json call) {
      call["index"] = static_cast<int>(i);
      json d = {{"id", step->id},
                {"object", "thread.run.step.delta"},
                {"delta", {{"step_details", {{"type", "tool_calls"}, {"tool_calls", json::array({call})}}}}}};
      loop_.publish(run_.id, "thread.run.step.delta", assistants::dump_json(d));
    };
    delta({{"id", calls[i].call_id},
           {"type", "function"},
           {"function", {{"name", calls[i].name}, {"arguments", ""}, {"output", nullptr}}}});
    for (const std::string& piece : fragments(calls[i].arguments, kArgumentsFragmentBytes))
      delta({{"type", "function"}, {"function", {{"arguments", piece}}}});
  }
  Run next = run_;
  next.status = RunStatus::requires_action;
  next.required_action = json{{"type", "submit_tool_outputs"}, {"submit_tool_outputs", {{"tool_calls", required}}}}.dump();
  next.expires_at = now_s() + loop_.options_.requires_action_timeout.count();
  next.usage = totals_.to_json().dump();
  if (update(next)) {
    publish_run("thread.run.requires_action");
    return;
  }
  // Cancelled meanwhile (settled by update): the step dies with the run.
  RunStep dead = *step;
  dead.status = RunStepStatus::cancelled;
  dead.cancelled_at = now_s();
  store_.update_run_step(owner_, dead);
}

void RunLoop::Execution::drive() {
  auto settings = parse_run_settings(run_);
  if (!settings.ok()) return fail("invalid_prompt", settings.error().message);
  if (!settings.value().unavailable_tool.empty()) {
    return fail("server_error", "The " + settings.value().unavailable_tool +
                                    " tool is not available on this server yet; remove it from the run's tools "
                                    "(only function tools are supported).");
  }
  ServedModel* model = loop_.models_.find(run_.model);
  if (!model) return fail("invalid_prompt", "The model '" + run_.model + "' does not exist on this server.");
  auto items = build_items(store_, owner_, run_, settings.value());
  if (!items) return fail("server_error", "Could not read the thread: " + items.status().message());

  const RunSettings& rs = settings.value();
  agent::TurnRequest req;
  req.instructions = run_instructions(run_);
  req.items = std::move(items.value());
  req.tools = rs.functions;
  req.tool_choice = rs.tool_choice;
  req.tool_choice_name = rs.tool_choice_name;
  // A forced tool_choice (required, or one function) binds the run's first turn only: once tool
  // outputs came back the model answers freely, or a forced run would call tools forever.
  const bool after_tools = std::any_of(req.items.begin(), req.items.end(), [](const agent::Item& it) {
    return it.kind == agent::Item::Kind::function_call_output;
  });
  if (after_tools && (req.tool_choice == agent::ToolChoice::function || req.tool_choice == agent::ToolChoice::required))
    req.tool_choice = agent::ToolChoice::automatic;
  req.parallel_tool_calls = run_.parallel_tool_calls;
  req.format = rs.format;
  req.schema_json = rs.schema_json;
  req.schema_strict = rs.schema_strict;
  req.truncate_auto = rs.truncate_auto;
  if (run_.temperature) req.temperature = static_cast<float>(*run_.temperature);
  if (run_.top_p) req.top_p = static_cast<float>(*run_.top_p);
  if (run_.max_completion_tokens) {
    const int64_t left = *run_.max_completion_tokens - totals_.completion;
    if (left <= 0) return end_incomplete("max_completion_tokens");
    req.max_output_tokens = left;
  }
  if (run_.max_prompt_tokens && model->vocab) {
    // A lower bound (the template adds more): a prompt surely over the budget is not sent.
    std::string all = req.instructions;
    for (const auto& it : req.items) all += it.text + it.arguments + it.output;
    const auto n = static_cast<int64_t>(model->vocab->tokenize(all, false, false).size());
    if (totals_.prompt + n > *run_.max_prompt_tokens) return end_incomplete("max_prompt_tokens");
  }

  auto bridge = std::make_shared<Bridge>();
  agent::TurnCallbacks cb;
  cb.on_text = [bridge](const std::string& d) {
    {
      std::lock_guard lock(bridge->mu);
      bridge->deltas.push_back(d);
    }
    bridge->cv.notify_one();
  };
  cb.on_done = [bridge](agent::TurnResult&& r) {
    {
      std::lock_guard lock(bridge->mu);
      bridge->done = std::move(r);
    }
    bridge->cv.notify_one();
  };
  auto turn = agent::start_turn(*model, req, std::move(cb));
  if (!turn.ok()) {
    const ApiError& e = turn.error();
    const char* code = e.kind == ApiErrorKind::rate_limited         ? "rate_limit_exceeded"
                       : e.http_status() == 400                     ? "invalid_prompt"
                                                                    : "server_error";
    return fail(code, e.message);
  }
  {
    std::lock_guard lock(active_->mu);
    active_->turn = turn.value();
    if (active_->cancelled || loop_.stopping_) turn.value()->cancel();
  }

  // Pump: deltas become the message's stream; the result settles the run.
  std::optional<agent::TurnResult> result;
  bool store_failed = false;
  std::optional<std::chrono::steady_clock::time_point> give_up;
  while (!result) {
    std::deque<std::string> deltas;
    {
      std::unique_lock lock(bridge->mu);
      bridge->cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return !bridge->deltas.empty() || bridge->done; });
      deltas.swap(bridge->deltas);
      if (bridge->done && deltas.empty()) result = std::move(bridge->done);
    }
    for (const std::string& d : deltas) {
      if (store_failed) break;
      if (!open_message()) {
        store_failed = true;
        turn.value()->cancel();
        break;
      }
      json ev = {{"id", msg_->id},
                 {"object", "thread.message.delta"},
                 {"delta", {{"content", json::array({{{"index", 0}, {"type", "text"},
                                                      {"text", {{"value", d}, {"annotations", json::array()}}}}})}}}};
      loop_.publish(run_.id, "thread.message.delta", assistants::dump_json(ev));
    }
    if (!result && loop_.stopping_) {
      if (!give_up) give_up = std::chrono::steady_clock::now() + kStopGrace;
      if (std::chrono::steady_clock::now() > *give_up) return fail("server_error", kShutdownMessage);
    }
  }
  {
    std::lock_guard lock(active_->mu);
    active_->turn.reset();
  }
  agent::TurnResult& r = *result;
  totals_.prompt += r.usage.prompt_tokens;
  totals_.completion += r.usage.completion_tokens;

  bool cancelled;
  {
    std::lock_guard lock(active_->mu);
    cancelled = active_->cancelled;
  }
  if (store_failed) return fail("server_error", "Could not store the assistant's message (storage unavailable).");
  if (cancelled || r.reason == FinishReason::cancelled) {
    if (loop_.stopping_ && !cancelled) return fail("server_error", kShutdownMessage);
    // The cancel request moved the run to cancelling; read it back and settle.
    auto now = store_.get_run(owner_, run_.thread_id, run_.id);
    if (now) run_ = std::move(now.value());
    if (run_.status == RunStatus::cancelling) return settle_cancelled();
    return fail("server_error", "The generation was cancelled.");
  }
  if (r.reason == FinishReason::error) return fail("server_error", "The model failed: " + r.error);

  std::string text;
  bool has_text = false;
  std::vector<agent::Item> calls;
  for (auto& it : r.output) {
    if (it.kind == agent::Item::Kind::message) {
      text += it.text;
      has_text = true;
    } else if (it.kind == agent::Item::Kind::function_call) {
      calls.push_back(std::move(it));
    }
  }
  if (!run_.parallel_tool_calls && calls.size() > 1) calls.resize(1);
  if (run_.max_prompt_tokens && totals_.prompt > *run_.max_prompt_tokens) {
    abandon_message(RunStepStatus::cancelled);
    return end_incomplete("max_prompt_tokens");
  }
  const bool hit_completion_cap =
      r.incomplete && run_.max_completion_tokens && totals_.completion >= *run_.max_completion_tokens;
  if ((has_text && (!text.empty() || calls.empty())) || msg_) close_message(text, !r.incomplete, &r.usage);
  if (!calls.empty() && !hit_completion_cap) return pause_for_tools(std::move(calls));
  if (hit_completion_cap) return end_incomplete("max_completion_tokens");
  Run next = run_;
  next.status = RunStatus::completed;
  next.completed_at = now_s();
  next.expires_at.reset();
  next.usage = totals_.to_json().dump();
  if (update(next)) publish_run("thread.run.completed");
}

// ---- the loop -------------------------------------------------------------------------------

RunLoop::RunLoop(storage::Store& store, const ModelRegistry& models, RunLoopOptions options)
    : store_(store), models_(models), options_(options) {}

RunLoop::~RunLoop() { stop(); }

void RunLoop::start() {
  {
    std::lock_guard lock(mu_);
    if (started_) return;
    started_ = true;
  }
  for (int i = 0; i < std::max(1, options_.n_workers); ++i) threads_.emplace_back([this] { worker(); });
  threads_.emplace_back([this] { sweeper(); });
  if (auto queued = store_.find_runs_by_status(RunStatus::queued, 10000))
    for (const auto& ref : *queued) submit(ref);
}

void RunLoop::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_.exchange(true)) return;
    for (auto& [id, a] : active_) {
      std::lock_guard al(a->mu);
      if (a->turn) a->turn->cancel();
    }
  }
  cv_.notify_all();
  sweep_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void RunLoop::publish(const std::string& run_id, const char* name, const std::string& data) {
  bus_.publish(run_id, RunEvent{name, data});
}

void RunLoop::enqueue(Job job) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void RunLoop::submit(const storage::RunRef& ref) { enqueue(Job{ref, false}); }

std::shared_ptr<RunLoop::Active> RunLoop::register_active(const std::string& run_id) {
  std::lock_guard lock(mu_);
  auto& a = active_[run_id];
  if (!a) a = std::make_shared<Active>();
  return a;
}

void RunLoop::unregister_active(const std::string& run_id) {
  std::lock_guard lock(mu_);
  active_.erase(run_id);
}

void RunLoop::worker() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;  // queued runs stay queued in the Store; the next start settles them
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    ++n_executing_;
    execute(job);
    --n_executing_;
  }
}

void RunLoop::execute(const Job& job) {
  // A run's progress (claimed, message and step records, deltas) commits without waiting for the
  // disk; Execution::update makes the states a client acts on durable (store.h, Durability).
  storage::DurabilityScope durability(storage::Durability::deferred);
  const Owner owner(job.ref.owner_id);
  auto active = register_active(job.ref.run_id);
  struct Unregister {
    RunLoop& loop;
    const std::string& id;
    ~Unregister() { loop.unregister_active(id); }
  } unregister{*this, job.ref.run_id};
  auto cur = store_.get_run(owner, job.ref.thread_id, job.ref.run_id);
  if (!cur) return;
  Run run = cur.value();
  if (!job.claimed) {
    if (run.status != RunStatus::queued) return;  // cancelled, or claimed by another worker
    Run next = run;
    next.status = RunStatus::in_progress;
    next.started_at = now_s();
    auto claimed = store_.update_run(owner, next, RunStatus::queued);
    if (!claimed) return;
    run = claimed.value();
  } else if (run.status == RunStatus::cancelling) {
    // Cancelled between submit_tool_outputs and this worker.
    Execution(*this, owner, run, active).settle_cancelled();
    return;
  } else if (run.status != RunStatus::in_progress) {
    return;
  }
  publish(run.id, "thread.run.in_progress", assistants::dump_json(assistants::run_json(run)));
  Execution(*this, owner, run, active).drive();
}

int RunLoop::sweep_expired(storage::Timestamp now) {
  auto refs = store_.find_expired_runs(now, 1000);
  if (!refs) return 0;
  int n = 0;
  for (const auto& ref : *refs) {
    const Owner owner(ref.owner_id);
    auto run = store_.get_run(owner, ref.thread_id, ref.run_id);
    if (!run || run->status != RunStatus::requires_action) continue;
    Run next = run.value();
    next.status = RunStatus::expired;
    next.required_action.reset();
    auto done = store_.update_run(owner, next, RunStatus::requires_action);
    if (!done) continue;
    ++n;
    storage::PageRequest page{.limit = storage::kMaxPageLimit, .order = storage::SortOrder::asc};
    if (auto steps = store_.list_run_steps(owner, ref.thread_id, ref.run_id, page)) {
      for (RunStep s : steps->items) {
        if (s.status != RunStepStatus::in_progress) continue;
        s.status = RunStepStatus::expired;
        s.expired_at = now;
        if (auto u = store_.update_run_step(owner, s))
          publish(ref.run_id, "thread.run.step.expired", assistants::dump_json(assistants::run_step_json(*u)));
      }
    }
    publish(ref.run_id, "thread.run.expired", assistants::dump_json(assistants::run_json(*done)));
  }
  return n;
}

void RunLoop::sweeper() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    sweep_cv_.wait_for(lock, options_.sweep_interval, [&] { return stopping_.load(); });
    if (stopping_) return;
    lock.unlock();
    sweep_expired(now_s());
    lock.lock();
  }
}

ApiResult<Run> RunLoop::cancel(const Owner& owner, const std::string& thread_id, const std::string& run_id) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto cur = store_.get_run(owner, thread_id, run_id);
    if (!cur) {
      return cur.code() == storage::StoreErrc::not_found
                 ? ApiError{ApiErrorKind::not_found, "No run found with id '" + run_id + "'.", ""}
                 : ApiError{ApiErrorKind::unavailable, cur.status().message(), ""};
    }
    Run run = cur.value();
    const RunStatus was = run.status;
    if (storage::is_terminal(was) || was == RunStatus::cancelling) {
      if (was == RunStatus::cancelling) return run;
      return ApiError::invalid("", std::string("Cannot cancel run with status '") + storage::to_string(was) + "'.");
    }
    Run next = run;
    if (was == RunStatus::in_progress) {
      next.status = RunStatus::cancelling;
    } else {
      next.status = RunStatus::cancelled;
      next.cancelled_at = now_s();
      next.required_action.reset();
      next.expires_at.reset();
    }
    auto done = store_.update_run(owner, next, was);
    if (!done) {
      if (done.code() == storage::StoreErrc::conflict) continue;  // it moved meanwhile: decide again
      return ApiError{ApiErrorKind::unavailable, done.status().message(), ""};
    }
    if (was == RunStatus::in_progress) {
      publish(run_id, "thread.run.cancelling", assistants::dump_json(assistants::run_json(*done)));
      std::shared_ptr<Active> a;
      {
        std::lock_guard lock(mu_);
        if (auto it = active_.find(run_id); it != active_.end()) a = it->second;
      }
      if (a) {
        std::lock_guard al(a->mu);
        a->cancelled = true;
        if (a->turn) a->turn->cancel();
      }
    } else {
      if (was == RunStatus::requires_action) {
        storage::PageRequest page{.limit = storage::kMaxPageLimit, .order = storage::SortOrder::asc};
        if (auto steps = store_.list_run_steps(owner, thread_id, run_id, page)) {
          for (RunStep s : steps->items) {
            if (s.status != RunStepStatus::in_progress) continue;
            s.status = RunStepStatus::cancelled;
            s.cancelled_at = now_s();
            store_.update_run_step(owner, s);
          }
        }
      }
      publish(run_id, "thread.run.cancelled", assistants::dump_json(assistants::run_json(*done)));
    }
    return done.value();
  }
  return ApiError{ApiErrorKind::unavailable, "The run kept changing; retry the cancel.", ""};
}

ApiResult<Run> RunLoop::submit_tool_outputs(const Owner& owner, const std::string& thread_id, const std::string& run_id,
                                            const std::vector<ToolOutput>& outputs) {
  auto cur = store_.get_run(owner, thread_id, run_id);
  if (!cur) {
    return cur.code() == storage::StoreErrc::not_found
               ? ApiError{ApiErrorKind::not_found, "No run found with id '" + run_id + "'.", ""}
               : ApiError{ApiErrorKind::unavailable, cur.status().message(), ""};
  }
  Run run = cur.value();
  if (run.status != RunStatus::requires_action) {
    return ApiError::invalid("", std::string("Runs in status \"") + storage::to_string(run.status) +
                                     "\" do not accept tool outputs.");
  }
  // The pending tool_calls step: the last in_progress one.
  storage::PageRequest page{.limit = storage::kMaxPageLimit, .order = storage::SortOrder::desc};
  auto steps = store_.list_run_steps(owner, thread_id, run_id, page);
  if (!steps) return ApiError{ApiErrorKind::unavailable, steps.status().message(), ""};
  std::optional<RunStep> step;
  for (const auto& s : steps->items)
    if (s.type == "tool_calls" && s.status == RunStepStatus::in_progress) {
      step = s;
      break;
    }
  if (!step) return ApiError{ApiErrorKind::internal, "The run waits for tool outputs but has no pending tool call.", ""};
  json details = assistants::stored_json(step->step_details);
  if (!details.is_object() || !details.contains("tool_calls") || !details["tool_calls"].is_array())
    return ApiError{ApiErrorKind::internal, "The pending tool calls are unreadable.", ""};
  std::set<std::string> given;
  for (const auto& o : outputs) {
    if (!given.insert(o.tool_call_id).second)
      return ApiError::invalid("tool_outputs", "Duplicate tool_call_id '" + o.tool_call_id + "'.");
    bool known = false;
    for (const json& c : details["tool_calls"]) known |= c.value("id", "") == o.tool_call_id;
    if (!known) return ApiError::invalid("tool_outputs", "No tool call with id '" + o.tool_call_id + "' is pending.");
  }
  for (json& c : details["tool_calls"]) {
    const std::string id = c.value("id", "");
    if (!given.count(id))
      return ApiError::invalid("tool_outputs", "Expected tool outputs for call_ids " + id + " (every pending call).");
    for (const auto& o : outputs)
      if (o.tool_call_id == id) c["function"]["output"] = o.output;
  }
  // The run first (the compare-and-set decides between concurrent submits), then the step.
  Run next = run;
  next.status = RunStatus::in_progress;
  next.required_action.reset();
  next.expires_at.reset();
  auto moved = store_.update_run(owner, next, RunStatus::requires_action);
  if (!moved) {
    if (moved.code() == storage::StoreErrc::conflict)
      return ApiError::invalid("", "The run no longer waits for tool outputs (" + moved.status().message() + ").");
    return ApiError{ApiErrorKind::unavailable, moved.status().message(), ""};
  }
  RunStep s = *step;
  s.step_details = details.dump();
  s.status = RunStepStatus::completed;
  s.completed_at = now_s();
  auto saved = store_.update_run_step(owner, s);
  if (!saved) {
    // The run is in_progress without its outputs: fail it rather than run on a wrong prompt.
    Run failed = moved.value();
    failed.status = RunStatus::failed;
    failed.failed_at = now_s();
    failed.last_error = RunError{"server_error", "Could not store the tool outputs: " + saved.status().message()};
    store_.update_run(owner, failed, RunStatus::in_progress);
    return ApiError{ApiErrorKind::unavailable, saved.status().message(), ""};
  }
  publish(run_id, "thread.run.step.completed", assistants::dump_json(assistants::run_step_json(*saved)));
  enqueue(Job{{owner.id, thread_id, run_id}, true});
  return moved.value();
}

}  // namespace agora::platform::runs
