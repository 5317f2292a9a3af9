// The one threading runtime of the CPU backend: a persistent pool whose workers spin briefly and
// then sleep on a futex (std::atomic::wait), so a transformer step's hundreds of small parallel
// regions cost microseconds each instead of thread creation or condition-variable handoffs.
//
// Thread-safety: one region at a time per pool. run() from two threads at once is serialised by
// an internal mutex (engines that want parallel independence use separate pools).
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ollm::cpu {

class ThreadPool {
 public:
  // n_threads: total threads a region may use, the calling thread included (>= 1).
  explicit ThreadPool(int n_threads);  // at most 255
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const noexcept { return n_threads_; }

  // Runs task(thread_index, n_used) on n_used = clamp(n, 1, size()) threads, the caller being
  // thread 0, and returns when every one has finished. An exception thrown by any task is
  // rethrown here (the first one; the others are dropped) after all have finished.
  void run(int n, const std::function<void(int thread_index, int n_used)>& task);

  // Splits [0, count) into n_used contiguous chunks whose starts are multiples of `grain`
  // and runs body(begin, end, thread_index) on each non-empty chunk.
  void parallel_for(int64_t count, int n, int64_t grain,
                    const std::function<void(int64_t begin, int64_t end, int thread_index)>& body);

 private:
  void worker_loop(int index);
  void run_task(int index, int n_used) noexcept;

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex run_mutex_;
  // Published before generation_ is bumped; read by workers after they see the new generation.
  const std::function<void(int, int)>* task_ = nullptr;
  // Region counter in the high 24 bits, that region's thread count in the low 8: a worker reads
  // both in one load, so a slow worker can never pair one region's count with another's task.
  std::atomic<uint32_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

// A pool for callers without one of their own (ops called directly through the public API),
// sized to the hardware's thread count, created on first use.
ThreadPool& default_thread_pool();

}  // namespace ollm::cpu
