#include "platform/assistants/object_json.h"

namespace agora::platform::assistants {

using nlohmann::json;

namespace {
template <typename T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}
json opt_json(const std::optional<std::string>& text) { return text ? stored_json(*text) : json(nullptr); }
json error_json(const std::optional<storage::RunError>& e) {
  return e ? json{{"code", e->code}, {"message", e->message}} : json(nullptr);
}
}  // namespace

json stored_json(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json(nullptr) : j;
}

std::string dump_json(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json file_json(const storage::FileObject& f) {
  return {{"id", f.id},           {"object", "file"},       {"bytes", f.bytes},    {"created_at", f.created_at},
          {"filename", f.filename}, {"purpose", f.purpose}, {"status", "processed"}, {"status_details", nullptr}};
}

json assistant_json(const storage::Assistant& a) {
  return {{"id", a.id},
          {"object", "assistant"},
          {"created_at", a.created_at},
          {"name", opt(a.name)},
          {"description", opt(a.description)},
          {"model", a.model},
          {"instructions", opt(a.instructions)},
          {"tools", stored_json(a.tools)},
          {"tool_resources", stored_json(a.tool_resources)},
          {"metadata", stored_json(a.metadata)},
          {"temperature", opt(a.temperature)},
          {"top_p", opt(a.top_p)},
          {"response_format", stored_json(a.response_format)}};
}

json thread_json(const storage::Thread& t) {
  return {{"id", t.id},
          {"object", "thread"},
          {"created_at", t.created_at},
          {"metadata", stored_json(t.metadata)},
          {"tool_resources", stored_json(t.tool_resources)}};
}

json message_json(const storage::Message& m) {
  return {{"id", m.id},
          {"object", "thread.message"},
          {"created_at", m.created_at},
          {"thread_id", m.thread_id},
          {"status", m.status},
          {"incomplete_details", opt_json(m.incomplete_details)},
          {"completed_at", opt(m.completed_at)},
          {"incomplete_at", opt(m.incomplete_at)},
          {"role", m.role},
          {"content", stored_json(m.content)},
          {"assistant_id", opt(m.assistant_id)},
          {"run_id", opt(m.run_id)},
          {"attachments", stored_json(m.attachments)},
          {"metadata", stored_json(m.metadata)}};
}

json run_json(const storage::Run& r) {
  return {{"id", r.id},
          {"object", "thread.run"},
          {"created_at", r.created_at},
          {"thread_id", r.thread_id},
          {"assistant_id", r.assistant_id},
          {"status", storage::to_string(r.status)},
          {"required_action", opt_json(r.required_action)},
          {"last_error", error_json(r.last_error)},
          {"expires_at", opt(r.expires_at)},
          {"started_at", opt(r.started_at)},
          {"cancelled_at", opt(r.cancelled_at)},
          {"failed_at", opt(r.failed_at)},
          {"completed_at", opt(r.completed_at)},
          {"incomplete_details", opt_json(r.incomplete_details)},
          {"model", r.model},
          {"instructions", r.instructions},
          {"tools", stored_json(r.tools)},
          {"metadata", stored_json(r.metadata)},
          {"usage", opt_json(r.usage)},
          {"temperature", opt(r.temperature)},
          {"top_p", opt(r.top_p)},
          {"max_prompt_tokens", opt(r.max_prompt_tokens)},
          {"max_completion_tokens", opt(r.max_completion_tokens)},
          {"truncation_strategy", stored_json(r.truncation_strategy)},
          {"response_format", stored_json(r.response_format)},
          {"tool_choice", stored_json(r.tool_choice)},
          {"parallel_tool_calls", r.parallel_tool_calls}};
}

json run_step_json(const storage::RunStep& s) {
  return {{"id", s.id},
          {"object", "thread.run.step"},
          {"created_at", s.created_at},
          {"run_id", s.run_id},
          {"assistant_id", s.assistant_id},
          {"thread_id", s.thread_id},
          {"type", s.type},
          {"status", storage::to_string(s.status)},
          {"cancelled_at", opt(s.cancelled_at)},
          {"completed_at", opt(s.completed_at)},
          {"expired_at", opt(s.expired_at)},
          {"failed_at", opt(s.failed_at)},
          {"last_error", error_json(s.last_error)},
          {"step_details", stored_json(s.step_details)},
          {"usage", opt_json(s.usage)},
          {"metadata", json::object()}};
}

json deleted_json(const std::string& id, const char* object) {
  return {{"id", id}, {"object", object}, {"deleted", true}};
}

}  // namespace agora::platform::assistants
