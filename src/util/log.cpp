// Process-wide log sink behind a mutex; the level is an atomic so disabled logging costs one load.
#include <atomic>
#include <mutex>

#include "util/log_internal.hpp"

namespace ollm {
namespace {
std::mutex sink_mutex;
LogCallback sink;
std::atomic<int> min_level{static_cast<int>(LogLevel::off)};
}  // namespace

void set_log_callback(LogCallback callback, LogLevel level) {
  std::lock_guard lock(sink_mutex);
  sink = std::move(callback);
  min_level.store(sink ? static_cast<int>(level) : static_cast<int>(LogLevel::off));
}

namespace detail {

bool log_enabled(LogLevel level) noexcept {
  return static_cast<int>(level) >= min_level.load(std::memory_order_relaxed);
}

void log_message(LogLevel level, std::string_view message) noexcept {
  std::lock_guard lock(sink_mutex);
  if (!sink) return;
  try {
    sink(level, message);
  } catch (...) {
    // A throwing host callback must not unwind through library code that logs from noexcept paths.
  }
}

}  // namespace detail
}  // namespace ollm
