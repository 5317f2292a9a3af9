// GGUF metadata values and the ordered key/value table.
#include <limits>

#include "ollm/gguf.hpp"
#include "util/fail.hpp"
#include "util/printable.hpp"

namespace ollm {

std::string_view gguf_value_type_name(GgufValueType type) noexcept {
  switch (type) {
    case GgufValueType::uint8: return "uint8";
    case GgufValueType::int8: return "int8";
    case GgufValueType::uint16: return "uint16";
    case GgufValueType::int16: return "int16";
    case GgufValueType::uint32: return "uint32";
    case GgufValueType::int32: return "int32";
    case GgufValueType::float32: return "float32";
    case GgufValueType::boolean: return "bool";
    case GgufValueType::string: return "string";
    case GgufValueType::array: return "array";
    case GgufValueType::uint64: return "uint64";
    case GgufValueType::int64: return "int64";
    case GgufValueType::float64: return "float64";
  }
  return "unknown";
}

size_t GgufArray::size() const noexcept {
  return std::visit([](const auto& v) { return v.size(); }, items);
}

bool GgufValue::is_integer() const noexcept {
  switch (type()) {
    case GgufValueType::uint8: case GgufValueType::int8: case GgufValueType::uint16:
    case GgufValueType::int16: case GgufValueType::uint32: case GgufValueType::int32:
    case GgufValueType::uint64: case GgufValueType::int64:
      return true;
    default:
      return false;
  }
}

namespace {
[[noreturn]] void wrong_type(std::string_view what, GgufValueType actual, std::string_view wanted) {
  fail(ErrorCode::invalid_model_file, "[gguf] '{}' is {}, expected {}", printable(what), gguf_value_type_name(actual), wanted);
}
}  // namespace

int64_t GgufValue::to_int64(std::string_view what) const {
  if (!is_integer()) wrong_type(what, type(), "an integer");
  if (const auto* u = std::get_if<uint64_t>(&storage_)) {
    if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail(ErrorCode::invalid_model_file, "[gguf] '{}' = {} does not fit in int64", printable(what), *u);
    return static_cast<int64_t>(*u);
  }
  return std::visit(
      [](const auto& v) -> int64_t {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_integral_v<T>) return static_cast<int64_t>(v);
        return 0;  // unreachable: is_integer() checked above
      },
      storage_);
}

uint64_t GgufValue::to_uint64(std::string_view what) const {
  if (const auto* u = std::get_if<uint64_t>(&storage_)) return *u;
  const int64_t v = to_int64(what);
  if (v < 0) fail(ErrorCode::invalid_model_file, "[gguf] '{}' = {} is negative, expected a count", printable(what), v);
  return static_cast<uint64_t>(v);
}

double GgufValue::to_double(std::string_view what) const {
  if (const auto* f = std::get_if<float>(&storage_)) return *f;
  if (const auto* d = std::get_if<double>(&storage_)) return *d;
  if (const auto* u = std::get_if<uint64_t>(&storage_)) return static_cast<double>(*u);
  if (!is_integer()) wrong_type(what, type(), "a number");
  return static_cast<double>(to_int64(what));
}

bool GgufValue::to_bool(std::string_view what) const {
  if (const auto* b = std::get_if<bool>(&storage_)) return *b;
  wrong_type(what, type(), "bool");
}

const std::string& GgufValue::to_string(std::string_view what) const {
  if (const auto* s = std::get_if<std::string>(&storage_)) return *s;
  wrong_type(what, type(), "string");
}

const GgufArray& GgufValue::to_array(std::string_view what) const {
  if (const auto* a = std::get_if<GgufArray>(&storage_)) return *a;
  wrong_type(what, type(), "array");
}

const GgufValue* GgufMetadata::find(std::string_view key) const noexcept {
  auto it = index_.find(std::string(key));
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

const GgufValue& GgufMetadata::at(std::string_view key) const {
  if (const auto* v = find(key)) return *v;
  fail(ErrorCode::not_found, "[gguf] metadata key '{}' is missing", printable(key));
}

void GgufMetadata::set(std::string key, GgufValue value) {
  if (auto it = index_.find(key); it != index_.end()) {
    entries_[it->second].second = std::move(value);
    return;
  }
  index_.emplace(key, entries_.size());
  entries_.emplace_back(std::move(key), std::move(value));
}

std::string GgufMetadata::get_string(std::string_view key, std::string fallback) const {
  const auto* v = find(key);
  return v ? v->to_string(key) : std::move(fallback);
}

int64_t GgufMetadata::get_int(std::string_view key, int64_t fallback) const {
  const auto* v = find(key);
  return v ? v->to_int64(key) : fallback;
}

double GgufMetadata::get_float(std::string_view key, double fallback) const {
  const auto* v = find(key);
  return v ? v->to_double(key) : fallback;
}

bool GgufMetadata::get_bool(std::string_view key, bool fallback) const {
  const auto* v = find(key);
  return v ? v->to_bool(key) : fallback;
}

int64_t GgufTensorInfo::element_count() const noexcept {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;  // the reader has checked this cannot overflow
  return n;
}

}  // namespace ollm
