// Registries of the built-in filters, tests, global functions and the methods of str, dict and
// list values that templates may call.
#pragma once

#include <string_view>

#include "tokenizer/chat_template/value.hpp"

namespace ollm::chat_template {

using FilterFn = Value (*)(Evaluator& ev, const Value& input, const CallArgs& args);
using TestFn = bool (*)(Evaluator& ev, const Value& input, const CallArgs& args);

struct FilterEntry {
  std::string_view name;
  FilterFn fn;
};
struct TestEntry {
  std::string_view name;
  TestFn fn;
};

// nullptr when the name is unknown. `jinja_has_*` tells whether jinja2 knows it (then the
// parser reports "unsupported" instead of "no filter named").
const FilterEntry* find_filter(std::string_view name);
const TestEntry* find_test(std::string_view name);
bool jinja_has_filter(std::string_view name);
bool jinja_has_test(std::string_view name);

// A global function or object (range, namespace, dict, raise_exception, strftime_now, cycler,
// joiner); undefined when absent.
Value find_global(std::string_view name);

// obj.name for str, dict and list values: a bound method, or undefined when there is none.
Value find_method(const Value& receiver, std::string_view name, SourcePos pos);

}  // namespace ollm::chat_template
