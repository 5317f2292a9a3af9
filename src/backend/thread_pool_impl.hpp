// What an ollm::ThreadPool holds: the CPU pool it runs regions on, owned or the library's default.
#pragma once

#include <memory>

#include "cpu/thread_pool.hpp"
#include "ollm/thread_pool.hpp"

namespace ollm {

struct ThreadPool::Impl {
  std::unique_ptr<cpu::ThreadPool> owned;
  cpu::ThreadPool* pool = nullptr;
};

}  // namespace ollm
