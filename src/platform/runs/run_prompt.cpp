#include "platform/runs/run_prompt.h"

#include <nlohmann/json.hpp>

namespace agora::platform::runs {

using nlohmann::json;

namespace {
// How many thread messages a prompt may hold (a guard; the context decides long before).
constexpr size_t kMaxPromptMessages = 10000;

json parse(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json(nullptr) : j;
}
}  // namespace

ApiResult<RunSettings> parse_run_settings(const storage::Run& run) {
  RunSettings s;
  const json tools = parse(run.tools);
  if (!tools.is_array()) return ApiError::invalid("tools", "The run's tools are not an array.");
  for (const json& t : tools) {
    const std::string type = t.value("type", "");
    if (type == "function" && t.contains("function") && t["function"].is_object()) {
      const json& f = t["function"];
      agent::FunctionTool ft;
      ft.name = f.value("name", "");
      ft.description = f.value("description", "");
      if (f.contains("parameters") && f["parameters"].is_object()) ft.parameters_json = f["parameters"].dump();
      ft.strict = f.value("strict", false);
      s.functions.push_back(std::move(ft));
    } else if (s.unavailable_tool.empty()) {
      s.unavailable_tool = type;
    }
  }
  const json choice = parse(run.tool_choice);
  if (choice.is_string()) {
    const std::string c = choice.get<std::string>();
    s.tool_choice = c == "none"       ? agent::ToolChoice::none
                    : c == "required" ? agent::ToolChoice::required
                                      : agent::ToolChoice::automatic;
  } else if (choice.is_object()) {
    const std::string type = choice.value("type", "");
    if (type == "function" && choice.contains("function") && choice["function"].is_object()) {
      s.tool_choice = agent::ToolChoice::function;
      s.tool_choice_name = choice["function"].value("name", "");
    } else if (s.unavailable_tool.empty()) {
      s.unavailable_tool = type;
    }
  }
  if (s.functions.empty() && s.tool_choice != agent::ToolChoice::none) s.tool_choice = agent::ToolChoice::automatic;
  const json format = parse(run.response_format);
  if (format.is_object()) {
    const std::string type = format.value("type", "text");
    if (type == "json_object") {
      s.format = agent::TextFormat::json_object;
    } else if (type == "json_schema" && format.contains("json_schema") && format["json_schema"].is_object()) {
      const json& js = format["json_schema"];
      s.format = agent::TextFormat::json_schema;
      s.schema_json = js.contains("schema") ? js["schema"].dump() : "{}";
      s.schema_strict = js.value("strict", false);
    }
  }
  const json trunc = parse(run.truncation_strategy);
  if (trunc.is_object() && trunc.value("type", "auto") == "last_messages") {
    s.truncate_auto = false;
    if (trunc.contains("last_messages") && trunc["last_messages"].is_number_integer())
      s.last_messages = trunc["last_messages"].get<int64_t>();
  }
  return s;
}

std::string message_text(const std::string& content_json) {
  const json content = parse(content_json);
  std::string out;
  if (!content.is_array()) return out;
  for (const json& part : content) {
    if (!part.is_object() || part.value("type", "") != "text") continue;
    std::string value;
    if (part.contains("text") && part["text"].is_object()) value = part["text"].value("value", "");
    else if (part.contains("text") && part["text"].is_string()) value = part["text"].get<std::string>();
    if (!out.empty()) out += "\n\n";
    out += value;
  }
  return out;
}

std::string run_instructions(const storage::Run& run) {
  std::string s = run.instructions;
  if (run.additional_instructions && !run.additional_instructions->empty()) {
    if (!s.empty()) s += "\n\n";
    s += *run.additional_instructions;
  }
  return s;
}

storage::StoreResult<std::vector<agent::Item>> build_items(storage::Store& store, const storage::Owner& owner,
                                                           const storage::Run& run, const RunSettings& settings) {
  std::vector<agent::Item> items;
  // The thread's messages that this run did not write, oldest first.
  storage::PageRequest page{.limit = storage::kMaxPageLimit, .order = storage::SortOrder::asc};
  for (;;) {
    auto p = store.list_messages(owner, run.thread_id, page, "");
    if (!p) return p.status();
    for (const auto& m : p->items) {
      if (m.run_id && *m.run_id == run.id) continue;
      items.push_back({.kind = agent::Item::Kind::message, .role = m.role, .text = message_text(m.content)});
    }
    if (!p->has_more || items.size() >= kMaxPromptMessages) break;
    page.after = p->last_id();
  }
  if (settings.last_messages && static_cast<int64_t>(items.size()) > *settings.last_messages)
    items.erase(items.begin(), items.end() - std::max<int64_t>(0, *settings.last_messages));
  // This run's own output so far, in step order.
  storage::PageRequest steps_page{.limit = storage::kMaxPageLimit, .order = storage::SortOrder::asc};
  for (;;) {
    auto steps = store.list_run_steps(owner, run.thread_id, run.id, steps_page);
    if (!steps) return steps.status();
    for (const auto& st : steps->items) {
      const json d = parse(st.step_details);
      if (!d.is_object()) continue;
      if (st.type == "message_creation") {
        if (st.status != storage::RunStepStatus::completed) continue;
        const std::string id = d.contains("message_creation") ? d["message_creation"].value("message_id", "") : "";
        auto m = store.get_message(owner, run.thread_id, id);
        if (m) items.push_back({.kind = agent::Item::Kind::message, .role = "assistant", .text = message_text(m->content)});
      } else if (d.contains("tool_calls") && d["tool_calls"].is_array()) {
        std::vector<agent::Item> outputs;
        for (const json& c : d["tool_calls"]) {
          if (c.value("type", "") != "function" || !c.contains("function")) continue;
          const json& f = c["function"];
          const std::string call_id = c.value("id", "");
          items.push_back({.kind = agent::Item::Kind::function_call, .call_id = call_id, .name = f.value("name", ""),
                           .arguments = f.value("arguments", "")});
          if (f.contains("output") && f["output"].is_string())
            outputs.push_back({.kind = agent::Item::Kind::function_call_output, .call_id = call_id,
                               .output = f["output"].get<std::string>()});
        }
        items.insert(items.end(), outputs.begin(), outputs.end());
      }
    }
    if (!steps->has_more) break;
    steps_page.after = steps->last_id();
  }
  return items;
}

}  // namespace agora::platform::runs
