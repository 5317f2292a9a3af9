// Python's json.dumps over template values: transformers' `tojson` filter (ensure_ascii,
// indent, separators, sort_keys), byte for byte.
#pragma once

#include <optional>
#include <string>

#include "tokenizer/chat_template/evaluator.hpp"
#include "tokenizer/chat_template/value.hpp"

namespace ollm::chat_template {

struct JsonDumpOptions {
  bool ensure_ascii = false;
  std::optional<std::string> indent;  // unset: one line; set: this string per nesting level
  std::optional<std::string> item_separator, key_separator;
  bool sort_keys = false;
};

std::string json_dumps(Evaluator& ev, const Value& v, const JsonDumpOptions& options, SourcePos pos);

}  // namespace ollm::chat_template
