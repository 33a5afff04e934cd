#include "platform/storage/run_status.h"

namespace agora::storage {

const char* to_string(RunStatus s) {
  switch (s) {
    case RunStatus::queued: return "queued";
    case RunStatus::in_progress: return "in_progress";
    case RunStatus::requires_action: return "requires_action";
    case RunStatus::cancelling: return "cancelling";
    case RunStatus::cancelled: return "cancelled";
    case RunStatus::failed: return "failed";
    case RunStatus::completed: return "completed";
    case RunStatus::incomplete: return "incomplete";
    case RunStatus::expired: return "expired";
  }
  return "failed";
}

std::optional<RunStatus> parse_run_status(std::string_view s) {
  for (RunStatus r : {RunStatus::queued, RunStatus::in_progress, RunStatus::requires_action,
                      RunStatus::cancelling, RunStatus::cancelled, RunStatus::failed,
                      RunStatus::completed, RunStatus::incomplete, RunStatus::expired}) {
    if (s == to_string(r)) return r;
  }
  return std::nullopt;
}

bool is_terminal(RunStatus s) {
  switch (s) {
    case RunStatus::queued:
    case RunStatus::in_progress:
    case RunStatus::requires_action:
    case RunStatus::cancelling: return false;
    default: return true;
  }
}

bool can_transition(RunStatus from, RunStatus to) {
  using S = RunStatus;
  if (is_terminal(from)) return false;  // terminal states are final
  if (from == to) return true;
  switch (from) {
    case S::queued:
      return to == S::in_progress || to == S::cancelling || to == S::cancelled || to == S::failed ||
             to == S::expired;
    case S::in_progress:
      // in_progress → queued is the crash-recovery re-queue of an interrupted run.
      return to != S::in_progress;
    case S::requires_action:
      return to == S::in_progress || to == S::cancelling || to == S::cancelled ||
             to == S::failed || to == S::expired;
    case S::cancelling:
      return to == S::cancelled || to == S::failed || to == S::completed || to == S::expired;
    default: return false;
  }
}

const char* to_string(RunStepStatus s) {
  switch (s) {
    case RunStepStatus::in_progress: return "in_progress";
    case RunStepStatus::cancelled: return "cancelled";
    case RunStepStatus::failed: return "failed";
    case RunStepStatus::completed: return "completed";
    case RunStepStatus::expired: return "expired";
  }
  return "failed";
}

std::optional<RunStepStatus> parse_run_step_status(std::string_view s) {
  for (RunStepStatus r : {RunStepStatus::in_progress, RunStepStatus::cancelled,
                          RunStepStatus::failed, RunStepStatus::completed, RunStepStatus::expired}) {
    if (s == to_string(r)) return r;
  }
  return std::nullopt;
}

}  // namespace agora::storage
