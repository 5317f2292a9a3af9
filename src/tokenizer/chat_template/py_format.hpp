// Python string formatting for templates: `fmt % args` (printf-style, also the `format`
// filter) and `str.format(...)` with the format-spec mini-language.
#pragma once

#include <string>

#include "tokenizer/chat_template/evaluator.hpp"
#include "tokenizer/chat_template/value.hpp"

namespace ollm::chat_template {

std::string py_percent_format(Evaluator& ev, const std::string& format, const Value& args, SourcePos pos);
// `format % args` for a str or a Markup format: Markup.__mod__ HTML-escapes the arguments and
// gives a Markup.
Value percent_format(Evaluator& ev, const Value& format, const Value& args, SourcePos pos);
std::string py_str_format(Evaluator& ev, const std::string& format, const CallArgs& args);

}  // namespace ollm::chat_template
