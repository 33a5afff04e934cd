// One persistent pool of worker threads; the caller's thread takes part in every job.
//
// parallel_for(n, fn) splits [0, n) into contiguous chunks, runs fn(begin, end) on the pool
// and returns when all chunks are done. Not reentrant: one job at a time per pool (the engine
// owns one pool and calls it from its single compute thread). No allocation per job.
//
// Hand-off is by spinning: a decode step runs ~100 short jobs (one per matrix product), and a
// condition-variable wake-up costs tens to hundreds of microseconds each on a VM. Workers spin on
// the job counter for a while after each job (kSpin) and only then sleep; the caller spins for
// the workers to finish.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace agora {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);  // n_threads >= 1, including the caller
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int n_threads() const { return n_threads_; }

  template <typename Fn>
  void parallel_for(int64_t n, Fn&& fn, int64_t min_chunk = 1) {
    run(n, min_chunk, [](void* ctx, int64_t b, int64_t e) { (*static_cast<Fn*>(ctx))(b, e); }, &fn);
  }

  // Physical cores of this machine (logical CPUs / SMT width), at least 1.
  static int default_threads();

 private:
  using Trampoline = void (*)(void*, int64_t, int64_t);
  void run(int64_t n, int64_t min_chunk, Trampoline fn, void* ctx);
  void worker(int index);
  void work_chunks();

  int n_threads_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_start_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> sleeping_{0};
  std::atomic<bool> stop_{false};
  // current job
  Trampoline job_fn_ = nullptr;
  void* job_ctx_ = nullptr;
  int64_t job_n_ = 0, job_chunk_ = 1;
  std::atomic<int64_t> next_{0};
};

}  // namespace agora
