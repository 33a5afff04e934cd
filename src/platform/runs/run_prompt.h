// What a run asks the model: its stored settings parsed into agent::TurnRequest parts, and the
// conversation items rebuilt from the Store (thread messages, then the run's own steps).
//
// Items are rebuilt from durable state on every turn, so a run that resumes after
// submit_tool_outputs (or after a restart) sees exactly what was persisted: the thread's
// messages that are not this run's (oldest first, `truncation_strategy.last_messages` keeps the
// newest N), then in step order this run's assistant messages and its function calls with their
// submitted outputs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "platform/agent/agent_turn.h"
#include "platform/api_error.h"
#include "platform/storage/store.h"

namespace agora::platform::runs {

struct RunSettings {
  std::vector<agent::FunctionTool> functions;
  std::string unavailable_tool;  // the first tool type this server cannot run yet ("file_search", ...)
  agent::ToolChoice tool_choice = agent::ToolChoice::automatic;
  std::string tool_choice_name;
  agent::TextFormat format = agent::TextFormat::text;
  std::string schema_json;
  bool schema_strict = false;
  bool truncate_auto = true;
  std::optional<int64_t> last_messages;
};

// Parses run.tools, tool_choice, response_format and truncation_strategy (validated when the run
// was created; an error here means stored data is unusable).
ApiResult<RunSettings> parse_run_settings(const storage::Run& run);

// The text of a message's content parts (text parts joined by blank lines; others skipped).
std::string message_text(const std::string& content_json);

// Thread messages + the run's own steps, as conversation items (see the header comment).
storage::StoreResult<std::vector<agent::Item>> build_items(storage::Store& store, const storage::Owner& owner,
                                                           const storage::Run& run, const RunSettings& settings);

// The run's instructions followed by its additional_instructions.
std::string run_instructions(const storage::Run& run);

}  // namespace agora::platform::runs
