// Logging: the library never prints; hosts receive messages through a callback.
#pragma once

#include <functional>
#include <string_view>

#include "ollm/export.h"

namespace ollm {

enum class LogLevel : int { debug = 0, info = 1, warning = 2, error = 3, off = 4 };

using LogCallback = std::function<void(LogLevel level, std::string_view message)>;

// Installs the process-wide log sink (an empty function drops everything, the default).
// Messages below min_level are not formatted at all. Thread-safe.
OLLM_API void set_log_callback(LogCallback callback, LogLevel min_level = LogLevel::info);

}  // namespace ollm
