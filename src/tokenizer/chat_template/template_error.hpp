// One way to fail inside the template engine: an ollm::Error whose message names the
// template position ("[chat-template] line 3:17: ...").
#pragma once

#include <fmt/format.h>

#include <string>
#include <utility>

#include "ollm/error.hpp"
#include "tokenizer/chat_template/value.hpp"

namespace ollm::chat_template {

template <class... Args>
[[noreturn]] void template_fail(ErrorCode code, SourcePos pos, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(code, fmt::format("[chat-template] line {}:{}: {}", pos.line, pos.column,
                                fmt::format(format, std::forward<Args>(args)...)));
}

}  // namespace ollm::chat_template
