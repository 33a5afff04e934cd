#include "platform/local_backend.h"

#if defined(AGORA_HAS_SCHEDULER)
#include "engine/scheduler.h"

#endif

namespace agora::platform {

Result<std::unique_ptr<Backend>> create_local_backend(const Model& model, const Vocab& vocab,
                                                      const LocalBackendOptions& o) {
#ifdef AGORA_HAS_SCHEDULER
  SchedulerParams p;
  p.n_parallel = o.n_parallel;
  p.n_ctx = o.n_ctx;
  p.n_threads = o.n_threads;
  p.max_queue = o.max_queue;
  auto s = Scheduler::create(model, vocab, p);
  if (!s.ok()) return s.status();
  return std::unique_ptr<Backend>(std::move(s.value()));
#else
  (void)model, (void)vocab, (void)o;
  return Status(ErrorCode::unavailable, "this build has no local scheduler (src/engine/scheduler.h)");
#endif
}

}  // namespace agora::platform
