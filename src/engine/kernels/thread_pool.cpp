#include "engine/kernels/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <string>

namespace agora {

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
  for (int i = 1; i < n_threads_; ++i) threads_.emplace_back([this, i] { worker(i); });
}

namespace {

// How long an idle worker keeps spinning before it sleeps: covers the gap between the jobs of one
// forward pass (and between decode steps) without burning a core when the engine is idle.
constexpr auto kSpin = std::chrono::microseconds(2000);

// One spin step: a pause, and every 16th step a yield, so that spinning threads give the core
// away when other work (another pool, the I/O threads, another process) is runnable.
inline void cpu_relax(uint32_t& i) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
  if ((++i & 15) == 0) std::this_thread::yield();
}

}  // namespace

ThreadPool::~ThreadPool() {
  stop_.store(true);
  {
    std::lock_guard<std::mutex> lock(mu_);
  }
  cv_start_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::work_chunks() {
  for (;;) {
    int64_t b = next_.fetch_add(job_chunk_, std::memory_order_relaxed);
    if (b >= job_n_) break;
    job_fn_(job_ctx_, b, std::min(job_n_, b + job_chunk_));
  }
}

void ThreadPool::run(int64_t n, int64_t min_chunk, Trampoline fn, void* ctx) {
  if (n <= 0) return;
  // Chunks: about 4 per thread so uneven rows balance, never smaller than min_chunk.
  int64_t chunk = std::max<int64_t>(min_chunk, (n + 4 * n_threads_ - 1) / (4 * n_threads_));
  if (n_threads_ == 1 || n <= chunk) {
    fn(ctx, 0, n);
    return;
  }
  // Every worker finished the previous job (pending_ == 0), so the job fields are free to set;
  // publishing the new generation (seq_cst) makes them visible to the workers.
  job_fn_ = fn;
  job_ctx_ = ctx;
  job_n_ = n;
  job_chunk_ = chunk;
  next_.store(0, std::memory_order_relaxed);
  pending_.store(n_threads_ - 1);
  generation_.fetch_add(1);
  if (sleeping_.load() > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    cv_start_.notify_all();
  }
  work_chunks();
  uint32_t i = 0;
  while (pending_.load(std::memory_order_acquire) != 0) cpu_relax(i);
}

void ThreadPool::worker(int) {
  // Generation 0 is "no job yet": a worker may start after the first job was published.
  uint64_t seen = 0;
  for (;;) {
    // Spin for the next job, then sleep.
    const auto spin_until = std::chrono::steady_clock::now() + kSpin;
    uint32_t iter = 0;
    while (generation_.load(std::memory_order_acquire) == seen && !stop_.load(std::memory_order_relaxed)) {
      cpu_relax(iter);
      if ((iter & 255) == 0 && std::chrono::steady_clock::now() > spin_until) {
        std::unique_lock<std::mutex> lock(mu_);
        sleeping_.fetch_add(1);  // seq_cst: run() sees it, or this thread sees the new generation
        cv_start_.wait(lock, [&] { return stop_.load() || generation_.load() != seen; });
        sleeping_.fetch_sub(1);
        break;
      }
    }
    if (stop_.load()) return;
    seen = generation_.load(std::memory_order_acquire);
    work_chunks();
    pending_.fetch_sub(1, std::memory_order_release);
  }
}

int ThreadPool::default_threads() {
  // Count distinct (physical id, core id) pairs; fall back to hardware_concurrency.
  std::ifstream in("/proc/cpuinfo");
  std::set<std::pair<std::string, std::string>> cores;
  std::string line, phys = "0";
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    std::string val = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "physical id") phys = val;
    if (key == "core id") cores.insert({phys, val});
  }
  int n = static_cast<int>(cores.size());
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, n);
}

}  // namespace agora
