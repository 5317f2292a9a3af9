// simdjson DOM parsing with ollm errors. Only simdjson's error-code API is used, so no
// simdjson exception can escape into callers.
#include "format/json.hpp"

#include <unordered_set>

#include "format/mapped_file.hpp"
#include "util/fail.hpp"

namespace ollm {

JsonDocument JsonDocument::parse(std::span<const uint8_t> bytes, std::string_view source) {
  JsonDocument doc;
  doc.source_ = std::string(source);
  doc.parser_ = std::make_unique<simdjson::dom::parser>();
  // realloc_if_needed copies into simdjson's padded buffer: mapped files have no padding.
  const auto error = doc.parser_->parse(bytes.data(), bytes.size(), true).get(doc.root_);
  if (error) fail(ErrorCode::invalid_model_file, "{}: invalid JSON: {}", source, simdjson::error_message(error));
  return doc;
}

JsonDocument JsonDocument::parse(std::string_view text, std::string_view source) {
  return parse(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()), source);
}

JsonDocument JsonDocument::load(const std::filesystem::path& path, std::string_view component) {
  const MappedFile file(path);
  return parse(file.bytes(), fmt::format("[{}] {}", component, path.string()));
}

std::string_view json_type_name(simdjson::dom::element value) noexcept {
  using simdjson::dom::element_type;
  switch (value.type()) {
    case element_type::ARRAY: return "array";
    case element_type::OBJECT: return "object";
    case element_type::INT64:
    case element_type::UINT64: return "integer";
    case element_type::DOUBLE: return "number";
    case element_type::STRING: return "string";
    case element_type::BOOL: return "boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "unknown";
}

namespace {

[[noreturn]] void wrong_type(simdjson::dom::element value, std::string_view what, std::string_view source,
                             std::string_view expected) {
  fail(ErrorCode::invalid_model_file, "{}: '{}' is {}, expected {}", source, what, json_type_name(value), expected);
}

}  // namespace

simdjson::dom::object json_object(simdjson::dom::element value, std::string_view what, std::string_view source) {
  simdjson::dom::object out;
  if (value.get_object().get(out)) wrong_type(value, what, source, "an object");
  return out;
}

simdjson::dom::array json_array(simdjson::dom::element value, std::string_view what, std::string_view source) {
  simdjson::dom::array out;
  if (value.get_array().get(out)) wrong_type(value, what, source, "an array");
  return out;
}

std::string_view json_string(simdjson::dom::element value, std::string_view what, std::string_view source) {
  std::string_view out;
  if (value.get_string().get(out)) wrong_type(value, what, source, "a string");
  return out;
}

bool json_bool(simdjson::dom::element value, std::string_view what, std::string_view source) {
  bool out = false;
  if (value.get_bool().get(out)) wrong_type(value, what, source, "a boolean");
  return out;
}

double json_number(simdjson::dom::element value, std::string_view what, std::string_view source) {
  double out = 0;
  // get_double() converts integers too.
  if (value.get_double().get(out)) wrong_type(value, what, source, "a number");
  return out;
}

int64_t json_int64(simdjson::dom::element value, std::string_view what, std::string_view source) {
  int64_t out = 0;
  if (value.type() == simdjson::dom::element_type::UINT64)
    fail(ErrorCode::invalid_model_file, "{}: '{}' = {} is out of range", source, what, uint64_t(value.get_uint64().value_unsafe()));
  if (value.get_int64().get(out)) wrong_type(value, what, source, "an integer");
  return out;
}

uint64_t json_uint64(simdjson::dom::element value, std::string_view what, std::string_view source) {
  using simdjson::dom::element_type;
  if (value.type() == element_type::INT64) {
    const int64_t v = value.get_int64().value_unsafe();
    if (v < 0) fail(ErrorCode::invalid_model_file, "{}: '{}' is {}, expected a non-negative integer", source, what, v);
    return static_cast<uint64_t>(v);
  }
  if (value.type() == element_type::UINT64) return value.get_uint64().value_unsafe();
  wrong_type(value, what, source, "a non-negative integer");
}

std::optional<simdjson::dom::element> json_find(simdjson::dom::object object, std::string_view key) noexcept {
  simdjson::dom::element out;
  if (object.at_key(key).get(out)) return std::nullopt;
  return out;
}

void json_require_unique_keys(simdjson::dom::object object, std::string_view what, std::string_view source) {
  std::unordered_set<std::string_view> seen;
  seen.reserve(object.size());
  for (const auto field : object)
    if (!seen.insert(field.key).second)
      fail(ErrorCode::invalid_model_file, "{}: duplicate key '{}' in {}", source, field.key, what);
}

}  // namespace ollm
