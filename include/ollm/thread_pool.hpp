// Compute threads a host hands to the library. Engines and the public ops run their parallel
// regions on a pool; a pool runs one region at a time (a second caller waits for the first), so
// engines that share one never ask the machine for more threads than the pool has.
// Thread-safety: a ThreadPool may be shared by any number of engines on any threads.
#pragma once

#include <memory>

#include "ollm/export.h"

namespace ollm {

class OLLM_API ThreadPool {
 public:
  // threads: 1..255, the calling thread included (a region runs on the caller plus threads - 1
  // workers). Throws Error(invalid_argument) outside that range.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const noexcept;

  // The library's own pool, one thread per hardware thread, created on first use: what an engine
  // without a pool of its own and the public ops in ollm/ops.hpp run on.
  static std::shared_ptr<ThreadPool> shared();

  struct Impl;
  Impl& impl() const noexcept { return *impl_; }  // for the library's backends

 private:
  struct SharedTag {};
  explicit ThreadPool(SharedTag);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ollm
