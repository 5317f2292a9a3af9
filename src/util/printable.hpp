// Quoting text that comes from files in messages: an embedded NUL would cut the message short
// (what() is a C string) and control bytes would garble a terminal.
#pragma once

#include <string>
#include <string_view>

namespace ollm {

// `text` with control characters, DEL, backslash and bytes that are not valid UTF-8 written as C
// escapes ("\n", "\t", "\\", "\x00"); valid UTF-8 beyond ASCII is kept as is.
std::string printable(std::string_view text);

}  // namespace ollm
