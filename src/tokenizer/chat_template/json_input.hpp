// JSON text to template values (objects keep their key order, integers stay integers), as
// Python's json.loads would give them to transformers.
#pragma once

#include <string_view>

#include "tokenizer/chat_template/value.hpp"

namespace ollm::chat_template {

// Throws invalid_argument naming `what` on malformed JSON.
Value json_to_value(std::string_view text, std::string_view what);

}  // namespace ollm::chat_template
