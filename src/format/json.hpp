// Thin layer over simdjson's DOM parser for the JSON files models ship with (config.json,
// safetensors headers, tokenizer.json): parse failures and wrong value types become ollm::Error.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ollm {

// A parsed document. Elements borrowed from root() stay valid while the document lives
// (moving the document keeps them valid: the parser that owns the tape sits behind a pointer).
class JsonDocument {
 public:
  // `source` prefixes every message, e.g. "[hf] /models/x/config.json".
  // Throws invalid_model_file "{source}: invalid JSON: {simdjson's reason}".
  static JsonDocument parse(std::span<const uint8_t> bytes, std::string_view source);
  static JsonDocument parse(std::string_view text, std::string_view source);
  // Maps and parses a file; the source is "[{component}] {path}". A missing file is io.
  static JsonDocument load(const std::filesystem::path& path, std::string_view component);

  simdjson::dom::element root() const noexcept { return root_; }
  const std::string& source() const noexcept { return source_; }

 private:
  JsonDocument() = default;
  std::unique_ptr<simdjson::dom::parser> parser_;
  simdjson::dom::element root_;
  std::string source_;
};

// "object", "array", "string", "integer", "number", "boolean" or "null".
std::string_view json_type_name(simdjson::dom::element value) noexcept;

// Checked conversions. On a type mismatch they throw invalid_model_file
// "{source}: '{what}' is {type}, expected {kind}"; `what` is usually the key.
simdjson::dom::object json_object(simdjson::dom::element value, std::string_view what, std::string_view source);
simdjson::dom::array json_array(simdjson::dom::element value, std::string_view what, std::string_view source);
std::string_view json_string(simdjson::dom::element value, std::string_view what, std::string_view source);
bool json_bool(simdjson::dom::element value, std::string_view what, std::string_view source);
double json_number(simdjson::dom::element value, std::string_view what, std::string_view source);
int64_t json_int64(simdjson::dom::element value, std::string_view what, std::string_view source);
// A non-negative integer; a negative one reads "'{what}' is -3, expected a non-negative integer".
uint64_t json_uint64(simdjson::dom::element value, std::string_view what, std::string_view source);

// The value of the first `key` in `object`, or nullopt.
std::optional<simdjson::dom::element> json_find(simdjson::dom::object object, std::string_view key) noexcept;

// simdjson keeps repeated keys instead of rejecting them; this throws invalid_model_file
// "{source}: duplicate key '{key}' in {what}" for the first repeat.
void json_require_unique_keys(simdjson::dom::object object, std::string_view what, std::string_view source);

}  // namespace ollm
