// Internal side of logging: cheap level check first, formatting only when someone listens.
#pragma once

#include <fmt/format.h>

#include <string_view>
#include <utility>

#include "ollm/log.hpp"

namespace ollm::detail {

bool log_enabled(LogLevel level) noexcept;
void log_message(LogLevel level, std::string_view message) noexcept;

template <class... Args>
void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  if (log_enabled(level)) log_message(level, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace ollm::detail
