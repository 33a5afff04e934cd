// The run state machine (OpenAI Assistants v2), enforced by the Store on every status change.
//
//   queued → in_progress → (requires_action ⇄ in_progress)* → completed | failed | cancelled |
//   expired | incomplete;  any non-terminal state → cancelling → cancelled | failed | completed.
// A run is "active" while queued, in_progress, requires_action or cancelling: a thread has at
// most one active run (a unique index in the SQLite schema).
#pragma once

#include <optional>
#include <string_view>

namespace agora::storage {

enum class RunStatus {
  queued,
  in_progress,
  requires_action,
  cancelling,
  cancelled,
  failed,
  completed,
  incomplete,
  expired,
};

const char* to_string(RunStatus s);
std::optional<RunStatus> parse_run_status(std::string_view s);

bool is_terminal(RunStatus s);  // cancelled, failed, completed, incomplete, expired
inline bool is_active(RunStatus s) { return !is_terminal(s); }
// True when a run may move from `from` to `to` (from == to is allowed for a non-terminal run:
// an update that changes other fields, such as usage or metadata).
bool can_transition(RunStatus from, RunStatus to);

// Run step states (message_creation and tool_calls steps).
enum class RunStepStatus { in_progress, cancelled, failed, completed, expired };
const char* to_string(RunStepStatus s);
std::optional<RunStepStatus> parse_run_step_status(std::string_view s);

}  // namespace agora::storage
