// Store rows → the OpenAI Assistants v2 objects (file, assistant, thread, thread.message,
// thread.run, thread.run.step), list envelopes and deletion objects. The only place that knows
// these shapes; the run loop uses it for stream events, the routes for responses.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "platform/storage/page.h"
#include "platform/storage/records.h"

namespace agora::platform::assistants {

// A stored free-form JSON text, parsed (null when it is not valid JSON, which the Store forbids).
nlohmann::json stored_json(const std::string& text);
std::string dump_json(const nlohmann::json& j);

nlohmann::json file_json(const storage::FileObject& f);
nlohmann::json assistant_json(const storage::Assistant& a);
nlohmann::json thread_json(const storage::Thread& t);
nlohmann::json message_json(const storage::Message& m);
nlohmann::json run_json(const storage::Run& r);
nlohmann::json run_step_json(const storage::RunStep& s);
nlohmann::json deleted_json(const std::string& id, const char* object);

template <typename T, typename ToJson>
nlohmann::json list_json(const storage::Page<T>& page, ToJson to_json) {
  nlohmann::json data = nlohmann::json::array();
  for (const auto& item : page.items) data.push_back(to_json(item));
  return {{"object", "list"},
          {"data", std::move(data)},
          {"first_id", page.items.empty() ? nlohmann::json(nullptr) : nlohmann::json(page.first_id())},
          {"last_id", page.items.empty() ? nlohmann::json(nullptr) : nlohmann::json(page.last_id())},
          {"has_more", page.has_more}};
}

}  // namespace agora::platform::assistants
