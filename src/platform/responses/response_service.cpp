#include "platform/responses/response_service.h"

#include <cstdio>

#include <boost/asio/post.hpp>

#include "platform/openai/generation.h"
#include "platform/responses/response_items.h"

namespace agora::platform::responses {

namespace net = boost::asio;
using nlohmann::json;

json usage_json(const Usage& u) {
  return {{"input_tokens", u.prompt_tokens},
          {"input_tokens_details", {{"cached_tokens", u.cached_tokens}}},
          {"output_tokens", u.completion_tokens},
          {"output_tokens_details", {{"reasoning_tokens", 0}}},
          {"total_tokens", u.prompt_tokens + u.completion_tokens}};
}

namespace {

json message_item(const std::string& id, const std::string& text, const char* status) {
  return {{"id", id},
          {"type", "message"},
          {"status", status},
          {"role", "assistant"},
          {"content", json::array({{{"type", "output_text"}, {"text", text}, {"annotations", json::array()}, {"logprobs", json::array()}}})}};
}

json base_object(const std::string& id, int64_t created_at, const ResponseRequest& r, const char* status) {
  return {{"id", id},
          {"object", "response"},
          {"created_at", created_at},
          {"status", status},
          {"background", r.background},
          {"error", nullptr},
          {"incomplete_details", nullptr},
          {"instructions", r.instructions ? json(*r.instructions) : json(nullptr)},
          {"max_output_tokens", r.max_output_tokens ? json(*r.max_output_tokens) : json(nullptr)},
          {"max_tool_calls", nullptr},
          {"model", r.model},
          {"output", json::array()},
          {"parallel_tool_calls", r.parallel_tool_calls},
          {"previous_response_id", r.previous_response_id ? json(*r.previous_response_id) : json(nullptr)},
          {"conversation", r.conversation_id ? json{{"id", *r.conversation_id}} : json(nullptr)},
          {"reasoning", {{"effort", nullptr}, {"summary", nullptr}}},
          {"service_tier", "default"},
          {"store", r.store},
          {"temperature", r.temperature.value_or(1.0)},
          {"text", r.text},
          {"tool_choice", r.tool_choice},
          {"tools", r.tools},
          {"top_logprobs", 0},
          {"top_p", r.top_p.value_or(1.0)},
          {"truncation", r.truncation_auto ? "auto" : "disabled"},
          {"usage", nullptr},
          {"user", r.user ? json(*r.user) : json(nullptr)},
          {"metadata", r.metadata}};
}

const char* terminal_event(const std::string& status) {
  if (status == "completed") return "response.completed";
  if (status == "incomplete") return "response.incomplete";
  if (status == "failed") return "response.failed";
  return nullptr;  // cancelled: the streams just end
}

}  // namespace

// ---- ResponseJob ------------------------------------------------------------------------------

ResponseJob::Subscription ResponseJob::subscribe(int64_t after, std::shared_ptr<StreamQueue> queue) {
  std::lock_guard lock(mu_);
  Subscription s;
  for (const auto& e : events_)
    if (e.seq > after) s.backlog.push_back(e);
  s.finished = finished_ && !service_;  // service_ cleared once persisted (see ResponseService::finish)
  if (!s.finished) subscribers_.push_back(queue);
  return s;
}

bool ResponseJob::finished() const {
  std::lock_guard lock(mu_);
  return finished_;
}

json ResponseJob::object() const {
  std::lock_guard lock(mu_);
  return object_;
}

void ResponseJob::cancel() {
  std::shared_ptr<agent::Turn> t;
  {
    std::lock_guard lock(mu_);
    if (finished_) return;
    cancel_requested_ = true;
    t = turn_;
  }
  if (t) t->cancel();
}

void ResponseJob::emit(const char* type, json payload) {
  payload["type"] = type;
  payload["sequence_number"] = next_seq_;
  StreamEvent e{next_seq_++, type, dump(payload)};
  for (auto it = subscribers_.begin(); it != subscribers_.end();) {
    if (auto q = it->lock()) {
      q->push(e);
      ++it;
    } else {
      it = subscribers_.erase(it);
    }
  }
  if (req_.background && req_.store) unpersisted_.push_back(e);
  events_.push_back(std::move(e));
}

void ResponseJob::open_message() {
  message_id_ = make_id("msg_");
  const int idx = static_cast<int>(object_["output"].size());
  json item = {{"id", message_id_}, {"type", "message"}, {"status", "in_progress"}, {"role", "assistant"}, {"content", json::array()}};
  object_["output"].push_back(message_item(message_id_, "", "in_progress"));
  emit("response.output_item.added", {{"output_index", idx}, {"item", item}});
  emit("response.content_part.added", {{"item_id", message_id_}, {"output_index", idx}, {"content_index", 0},
                                       {"part", {{"type", "output_text"}, {"text", ""}, {"annotations", json::array()}}}});
}

void ResponseJob::on_text(const std::string& delta) {
  bool flush = false;
  {
    std::lock_guard lock(mu_);
    if (finished_) return;
    if (message_id_.empty()) open_message();
    text_ += delta;
    emit("response.output_text.delta", {{"item_id", message_id_}, {"output_index", 0}, {"content_index", 0},
                                        {"delta", delta}, {"logprobs", json::array()}});
    if (!unpersisted_.empty() && !flush_scheduled_) flush = flush_scheduled_ = true;
  }
  if (flush) service_->schedule_flush(shared_from_this());
}

void ResponseJob::on_done(agent::TurnResult&& r) {
  std::shared_ptr<ResponseJob> self = shared_from_this();
  ResponseService* service = service_;
  service->finish(self, std::move(r));
}

// ---- ResponseService --------------------------------------------------------------------------

ResponseService::ResponseService(PlatformContext& ctx) : ctx_(ctx) {
  guard_.emplace(worker_.get_executor());
  thread_ = std::thread([this] { worker_.run(); });
}

ResponseService::~ResponseService() { shutdown(); }

void ResponseService::shutdown() {
  if (!thread_.joinable()) return;
  {
    // Jobs still running (e.g. the service dies before the backends): stop them.
    std::lock_guard lock(live_mu_);
    for (auto& [id, job] : live_) job->cancel();
  }
  guard_.reset();
  thread_.join();
}

void ResponseService::schedule_flush(std::shared_ptr<ResponseJob> job) {
  auto timer = std::make_shared<net::steady_timer>(worker_, kEventFlushInterval);
  timer->async_wait([this, timer, job](const boost::system::error_code&) {
    std::vector<StreamEvent> batch;
    {
      std::lock_guard lock(job->mu_);
      batch.swap(job->unpersisted_);
      job->flush_scheduled_ = false;
    }
    if (batch.empty()) return;
    std::vector<storage::ResponseEvent> rows;
    for (auto& e : batch) rows.push_back({e.seq, e.type, std::move(e.data)});
    if (auto st = ctx_.store.append_response_events(storage::Owner(job->owner_id_), job->id_, rows); !st.ok())
      std::fprintf(stderr, "agora serve: response %s: cannot store events: %s\n", job->id_.c_str(), st.message().c_str());
  });
}

// Engine thread: the final events and state under the job's lock; the Store commit on the worker.
void ResponseService::finish(std::shared_ptr<ResponseJob> job, agent::TurnResult r) {
  std::vector<StreamEvent> to_persist;
  storage::ResponseRecord rec;
  std::vector<storage::ConversationItem> append;
  {
    std::lock_guard lock(job->mu_);
    if (job->finished_) return;
    std::string status = "completed";
    if (r.reason == FinishReason::cancelled) status = job->cancel_requested_ ? "cancelled" : "failed";
    else if (r.reason == FinishReason::error) status = "failed";
    else if (r.incomplete) status = "incomplete";
    const bool partial = status != "completed";
    json& output = job->object_["output"];
    bool message_done = false;
    auto close_message = [&](const std::string& final_text) {
      if (final_text.size() > job->text_.size() && final_text.starts_with(job->text_)) {
        job->emit("response.output_text.delta", {{"item_id", job->message_id_}, {"output_index", 0}, {"content_index", 0},
                                                 {"delta", final_text.substr(job->text_.size())}, {"logprobs", json::array()}});
        job->text_ = final_text;
      }
      const json item = message_item(job->message_id_, job->text_, partial ? "incomplete" : "completed");
      output[0] = item;
      message_done = true;
      if (status == "cancelled") return;
      job->emit("response.output_text.done", {{"item_id", job->message_id_}, {"output_index", 0}, {"content_index", 0},
                                              {"text", job->text_}, {"logprobs", json::array()}});
      job->emit("response.content_part.done", {{"item_id", job->message_id_}, {"output_index", 0}, {"content_index", 0},
                                               {"part", item["content"][0]}});
      job->emit("response.output_item.done", {{"output_index", 0}, {"item", item}});
    };
    if (status == "completed" || status == "incomplete") {
      for (const agent::Item& it : r.output) {
        if (it.kind == agent::Item::Kind::message) {
          if (message_done) continue;
          if (job->message_id_.empty()) job->open_message();
          close_message(it.text);
        } else if (it.kind == agent::Item::Kind::function_call) {
          const int idx = static_cast<int>(output.size());
          const std::string id = make_id("fc_");
          json item = {{"id", id}, {"type", "function_call"}, {"status", "in_progress"}, {"call_id", it.call_id},
                       {"name", it.name}, {"arguments", ""}};
          output.push_back(item);
          job->emit("response.output_item.added", {{"output_index", idx}, {"item", item}});
          job->emit("response.function_call_arguments.delta", {{"item_id", id}, {"output_index", idx}, {"delta", it.arguments}});
          job->emit("response.function_call_arguments.done",
                    {{"item_id", id}, {"output_index", idx}, {"name", it.name}, {"arguments", it.arguments}});
          item["status"] = "completed";
          item["arguments"] = it.arguments;
          output[idx] = item;
          job->emit("response.output_item.done", {{"output_index", idx}, {"item", item}});
        }
      }
    }
    if (!job->message_id_.empty() && !message_done) close_message(job->text_);
    job->object_["status"] = status;
    job->object_["usage"] = usage_json(r.usage);
    if (status == "incomplete") job->object_["incomplete_details"] = {{"reason", "max_output_tokens"}};
    if (status == "failed") {
      job->object_["error"] = {{"code", "server_error"},
                               {"message", r.reason == FinishReason::error ? "Generation failed: " + r.error
                                                                           : std::string("The server shut down while the response was running.")}};
    }
    if (const char* t = terminal_event(status)) job->emit(t, {{"response", job->object_}});
    job->finished_ = true;
    job->turn_.reset();  // breaks job → turn → callbacks → job
    to_persist.swap(job->unpersisted_);
    rec.id = job->id_;
    rec.status = status;
    rec.object = dump(job->object_);
    rec.conversation_id = job->req_.conversation_id;
    if (status != "failed" && job->req_.conversation_id) {
      for (const auto& it : job->req_.input) append.push_back(to_stored_item(it));
      for (const auto& it : output) append.push_back(to_stored_item(it));
    }
  }
  net::post(worker_, [this, job, rec = std::move(rec), to_persist = std::move(to_persist), append = std::move(append)] {
    if (job->req_.store) {
      std::vector<storage::ResponseEvent> rows;
      for (const auto& e : to_persist) rows.push_back({e.seq, e.type, e.data});
      if (auto st = ctx_.store.finish_response(storage::Owner(job->owner_id_), rec, rows, append); !st.ok() &&
          st.code() != storage::StoreErrc::not_found)  // not_found: deleted while it ran
        std::fprintf(stderr, "agora serve: response %s: cannot store its end: %s\n", job->id_.c_str(), st.message().c_str());
    }
    std::vector<std::weak_ptr<StreamQueue>> subs;
    {
      std::lock_guard lock(job->mu_);
      job->service_ = nullptr;  // persisted: subscribe() now reports finished
      subs.swap(job->subscribers_);
    }
    for (auto& w : subs)
      if (auto q = w.lock()) q->push(StreamEvent{-1, "", "", true});
    std::lock_guard lock(live_mu_);
    live_.erase(job->id_);
  });
}

std::shared_ptr<ResponseJob> ResponseService::live(const std::string& owner_id, const std::string& id) {
  std::lock_guard lock(live_mu_);
  auto it = live_.find(id);
  if (it == live_.end() || it->second->owner_id_ != owner_id) return nullptr;
  return it->second;
}

ApiResult<std::vector<agent::Item>> ResponseService::context_items(const storage::Owner& owner, const ResponseRequest& req) {
  json items = json::array();
  if (req.previous_response_id) {
    std::vector<storage::ResponseRecord> chain;
    std::optional<std::string> id = req.previous_response_id;
    while (id && static_cast<int>(chain.size()) < kMaxPreviousResponseDepth) {
      auto rec = ctx_.store.get_response(owner, *id);
      if (!rec) {
        if (chain.empty()) {
          if (rec.code() == storage::StoreErrc::not_found)
            return ApiError{ApiErrorKind::not_found, "Previous response with id '" + *id + "' not found.", "previous_response_id"};
          return api_error(rec.status());
        }
        break;  // an earlier link was deleted: the chain starts after it
      }
      id = rec->previous_response_id;
      chain.push_back(std::move(*rec));
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      for (auto& i : parse_stored(it->input_items)) items.push_back(i);
      const json obj = parse_stored(it->object);
      if (obj.is_object() && obj.contains("output"))
        for (auto& o : obj["output"]) items.push_back(o);
    }
  }
  if (req.conversation_id) {
    auto all = ctx_.store.all_conversation_items(owner, *req.conversation_id);
    if (!all) {
      if (all.code() == storage::StoreErrc::not_found)
        return ApiError{ApiErrorKind::not_found, "Conversation with id '" + *req.conversation_id + "' not found.", "conversation"};
      return api_error(all.status());
    }
    for (const auto& it : *all) items.push_back(parse_stored(it.item));
  }
  for (const auto& i : req.input) items.push_back(i);
  std::vector<agent::Item> out;
  for (const auto& i : items) {
    agent::Item a;
    if (i.is_object() && to_agent_item(i, a)) out.push_back(std::move(a));
  }
  return out;
}

ApiResult<std::shared_ptr<ResponseJob>> ResponseService::start(const auth::Principal& who, ResponseRequest req) {
  const ServedModel* m = nullptr;
  if (req.model.empty()) {
    if (!ctx_.models.all().empty()) m = ctx_.models.all().front().get();
  } else {
    m = ctx_.models.find(req.model);
  }
  if (!m) return ApiError{ApiErrorKind::model_not_found, "The model '" + req.model + "' does not exist.", "model"};
  req.model = m->id;
  const storage::Owner owner = who.owner();
  auto items = context_items(owner, req);
  if (!items.ok()) return items.error();

  agent::TurnRequest tr;
  tr.instructions = req.instructions.value_or("");
  tr.items = std::move(items.value());
  tr.tools = req.function_tools;
  tr.tool_choice = req.choice;
  tr.tool_choice_name = req.choice_name;
  tr.parallel_tool_calls = req.parallel_tool_calls;
  tr.format = req.format;
  tr.schema_json = req.schema_json;
  tr.schema_strict = req.schema_strict;
  if (req.temperature) tr.temperature = static_cast<float>(*req.temperature);
  if (req.top_p) tr.top_p = static_cast<float>(*req.top_p);
  tr.max_output_tokens = req.max_output_tokens;
  tr.truncate_auto = req.truncation_auto;

  auto job = std::make_shared<ResponseJob>();
  job->service_ = this;
  job->id_ = make_id("resp_");
  job->owner_id_ = owner.id;
  job->req_ = std::move(req);
  const int64_t created_at = unix_now();
  job->object_ = base_object(job->id_, created_at, job->req_, job->req_.background ? "queued" : "in_progress");
  if (job->req_.store) {
    storage::ResponseRecord rec;
    rec.id = job->id_;
    rec.created_at = created_at;
    rec.status = job->req_.background ? "queued" : "in_progress";
    rec.background = job->req_.background;
    rec.model = job->req_.model;
    rec.previous_response_id = job->req_.previous_response_id;
    rec.conversation_id = job->req_.conversation_id;
    rec.object = dump(job->object_);
    rec.input_items = dump(job->req_.input);
    if (auto created = ctx_.store.create_response(owner, rec); !created) return api_error(created.status());
  }
  {
    std::lock_guard lock(job->mu_);
    job->emit("response.created", {{"response", job->object_}});
    job->object_["status"] = "in_progress";
    job->emit("response.in_progress", {{"response", job->object_}});
  }
  {
    std::lock_guard lock(live_mu_);
    live_[job->id_] = job;
  }
  std::weak_ptr<ResponseJob> weak = job;
  agent::TurnCallbacks cb;
  cb.on_text = [job](const std::string& d) { job->on_text(d); };
  cb.on_done = [job](agent::TurnResult&& r) { job->on_done(std::move(r)); };
  auto turn = agent::start_turn(*m, tr, std::move(cb));
  if (!turn.ok()) {
    {
      std::lock_guard lock(live_mu_);
      live_.erase(job->id_);
    }
    if (job->req_.store) ctx_.store.delete_response(owner, job->id_);
    return turn.error();
  }
  bool cancel_now = false;
  {
    std::lock_guard lock(job->mu_);
    if (!job->finished_) job->turn_ = turn.value();
    cancel_now = job->cancel_requested_;
  }
  if (cancel_now) turn.value()->cancel();
  if (job->req_.background && job->req_.store) {
    // The in_progress status is durable before the request returns (GET sees it).
    ctx_.store.update_response(owner, {job->id_, owner.id, created_at, "in_progress", true, job->req_.model,
                                       job->req_.previous_response_id, job->req_.conversation_id, dump(job->object()), "[]"});
  }
  return job;
}

int ResponseService::recover() {
  auto unfinished = ctx_.store.unfinished_responses();
  if (!unfinished) {
    std::fprintf(stderr, "agora serve: cannot list unfinished responses: %s\n", unfinished.status().message().c_str());
    return 0;
  }
  int n = 0;
  for (auto& rec : *unfinished) {
    const storage::Owner owner(rec.owner_id);
    json obj = parse_stored(rec.object);
    if (!obj.is_object()) obj = json::object();
    obj["status"] = "failed";
    obj["error"] = {{"code", "server_error"}, {"message", "The server restarted while this response was running."}};
    rec.status = "failed";
    rec.object = dump(obj);
    std::vector<storage::ResponseEvent> events;
    if (rec.background) {
      int64_t last = -1;
      if (auto ev = ctx_.store.list_response_events(owner, rec.id, -1); ev && !ev->empty()) last = ev->back().sequence_number;
      json e = {{"type", "response.failed"}, {"sequence_number", last + 1}, {"response", obj}};
      events.push_back({last + 1, "response.failed", dump(e)});
    }
    if (auto st = ctx_.store.finish_response(owner, rec, events, {}); st.ok()) ++n;
  }
  return n;
}

}  // namespace agora::platform::responses
