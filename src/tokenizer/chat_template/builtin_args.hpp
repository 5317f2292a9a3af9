// Argument helpers shared by the filters, tests, globals and methods: Python-style positional or
// keyword lookup with defaults and type checks that fail with the template position.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string>

#include "tokenizer/chat_template/evaluator.hpp"
#include "tokenizer/chat_template/template_error.hpp"
#include "tokenizer/chat_template/text.hpp"
#include "tokenizer/chat_template/value.hpp"

namespace ollm::chat_template {

inline int64_t int_arg(Evaluator& ev, const CallArgs& a, size_t i, std::string_view name, int64_t dflt) {
  const Value* v = a.get(i, name);
  if (!v || v->is_none()) return dflt;
  if (v->is_undefined()) ev.fail_undefined(*v, a.pos);
  if (v->kind() == Kind::floating) return static_cast<int64_t>(v->as_float());
  if (v->kind() != Kind::integer && v->kind() != Kind::boolean)
    ev.fail(a.pos, fmt::format("argument '{}' must be an integer, not '{}'", name, type_name(*v)));
  return v->integer_value();
}

inline bool bool_arg(const CallArgs& a, size_t i, std::string_view name, bool dflt) {
  const Value* v = a.get(i, name);
  return v ? v->truthy() : dflt;
}

inline std::optional<std::string> str_arg(const CallArgs& a, size_t i, std::string_view name) {
  const Value* v = a.get(i, name);
  if (!v || v->is_none()) return std::nullopt;
  return py_str(*v);
}

// A string argument that Python would refuse when it is not a str.
inline std::optional<std::string> strict_str_arg(Evaluator& ev, const CallArgs& a, size_t i, std::string_view name) {
  const Value* v = a.get(i, name);
  if (!v || v->is_none()) return std::nullopt;
  if (v->is_undefined()) ev.fail_undefined(*v, a.pos);
  if (!v->is_string()) ev.fail(a.pos, fmt::format("argument '{}' must be str, not {}", name, type_name(*v)));
  return v->as_string();
}

inline Value arg_or(const CallArgs& a, size_t i, std::string_view name, Value dflt) {
  const Value* v = a.get(i, name);
  return v ? *v : std::move(dflt);
}

// The size str.replace would produce, checked against the output limit before building it.
inline void check_replace_size(Evaluator& ev, std::string_view s, std::string_view old_text, std::string_view new_text,
                               int64_t count, std::string_view what, SourcePos pos) {
  uint64_t n = py_count(s, old_text);
  if (count >= 0) n = std::min<uint64_t>(n, static_cast<uint64_t>(count));
  if (new_text.size() > old_text.size()) {
    ev.check_size(n, new_text.size() - old_text.size(), what, pos);
    ev.check_size(s.size() + n * (new_text.size() - old_text.size()), pos);
  }
  ev.charge_bytes(s.size() + n * new_text.size(), pos);
}

[[noreturn]] inline void unsupported(SourcePos pos, const std::string& what) {
  template_fail(ErrorCode::unsupported, pos, "{} is not supported", what);
}

}  // namespace ollm::chat_template
