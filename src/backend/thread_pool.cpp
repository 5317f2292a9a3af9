// ollm::ThreadPool: the public handle over the CPU backend's thread pool (kernels/cpu/thread_pool.hpp).
#include "ollm/thread_pool.hpp"

#include "backend/thread_pool_impl.hpp"
#include "util/fail.hpp"

namespace ollm {

ThreadPool::ThreadPool(int threads) {
  if (threads < 1 || threads > 255)
    fail(ErrorCode::invalid_argument, "[threads] a thread pool takes 1..255 threads, not {}", threads);
  impl_ = std::make_unique<Impl>();
  impl_->owned = std::make_unique<cpu::ThreadPool>(threads);
  impl_->pool = impl_->owned.get();
}

ThreadPool::ThreadPool(SharedTag) : impl_(std::make_unique<Impl>()) { impl_->pool = &cpu::default_thread_pool(); }

ThreadPool::~ThreadPool() = default;

int ThreadPool::size() const noexcept { return impl_->pool->size(); }

std::shared_ptr<ThreadPool> ThreadPool::shared() {
  // The handle never owns the default pool: it outlives every engine holding the handle.
  static const std::shared_ptr<ThreadPool> pool(new ThreadPool(SharedTag{}));
  return pool;
}

}  // namespace ollm
