// Throwing helpers: one line per failure site, message formatted with fmt.
#pragma once

#include <fmt/format.h>

#include <utility>

#include "ollm/error.hpp"

namespace ollm {

template <class... Args>
[[noreturn]] void fail(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(code, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace ollm
