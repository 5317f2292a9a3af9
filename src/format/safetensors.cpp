// safetensors reader: validates the header against the file (types, shapes, byte ranges) and
// exposes each tensor as a zero-copy span. Mirrors the checks of the reference implementation.
#include "format/safetensors.hpp"

#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <numeric>

#include "format/json.hpp"
#include "util/fail.hpp"

namespace ollm {
namespace {

struct DTypeName {
  std::string_view name;
  DType type;
};

constexpr std::array<DTypeName, 12> known_dtypes{{
    {"F32", DType::f32}, {"F16", DType::f16}, {"BF16", DType::bf16}, {"F64", DType::f64},
    {"I8", DType::i8}, {"U8", DType::u8}, {"I16", DType::i16}, {"I32", DType::i32},
    {"I64", DType::i64}, {"BOOL", DType::boolean}, {"F8_E4M3", DType::f8_e4m3}, {"F8_E5M2", DType::f8_e5m2},
}};

// Dtypes the safetensors format defines but ollm has no element type for: well-formed files
// that we refuse as unsupported rather than as malformed.
constexpr std::array<std::string_view, 10> unsupported_dtypes{
    "U16", "U32", "U64", "C64", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4"};

uint64_t element_bytes(DType type) {
  const auto traits = dtype_traits(type);
  return traits ? traits->block_bytes : 0;  // every safetensors dtype is a one-element block
}

class HeaderParser {
 public:
  HeaderParser(std::string source, uint64_t data_size) : source_(std::move(source)), data_size_(data_size) {}

  SafetensorsTensor tensor(std::string_view name, simdjson::dom::element entry) const {
    SafetensorsTensor t;
    t.name = std::string(name);
    if (name.empty()) fail(ErrorCode::invalid_model_file, "{}: a tensor has an empty name", source_);
    simdjson::dom::object fields;
    if (entry.get_object().get(fields))
      fail(ErrorCode::invalid_model_file, "{}: tensor '{}' is described by {}, expected an object", source_, name,
           json_type_name(entry));
    t.type = dtype(name, field(fields, name, "dtype"));
    t.shape = shape(name, field(fields, name, "shape"));
    read_offsets(t, field(fields, name, "data_offsets"));
    check_size(t);
    return t;
  }

  void metadata(simdjson::dom::element value, std::vector<std::pair<std::string, std::string>>& out) const {
    simdjson::dom::object object;
    if (value.get_object().get(object))
      fail(ErrorCode::invalid_model_file, "{}: '__metadata__' is {}, expected an object of strings", source_,
           json_type_name(value));
    json_require_unique_keys(object, "'__metadata__'", source_);
    for (const auto entry : object) {
      std::string_view text;
      if (entry.value.get_string().get(text))
        fail(ErrorCode::invalid_model_file, "{}: '__metadata__' entry '{}' is {}, expected a string", source_,
             entry.key, json_type_name(entry.value));
      out.emplace_back(std::string(entry.key), std::string(text));
    }
  }

 private:
  simdjson::dom::element field(simdjson::dom::object fields, std::string_view name, std::string_view key) const {
    const auto value = json_find(fields, key);
    if (!value) fail(ErrorCode::invalid_model_file, "{}: tensor '{}' has no '{}'", source_, name, key);
    return *value;
  }

  DType dtype(std::string_view name, simdjson::dom::element value) const {
    std::string_view text;
    if (value.get_string().get(text))
      fail(ErrorCode::invalid_model_file, "{}: tensor '{}': 'dtype' is {}, expected a string", source_, name,
           json_type_name(value));
    if (const auto type = safetensors_dtype(text)) return *type;
    if (std::find(unsupported_dtypes.begin(), unsupported_dtypes.end(), text) != unsupported_dtypes.end())
      fail(ErrorCode::unsupported, "{}: tensor '{}' has dtype {}, which ollm does not support", source_, name, text);
    fail(ErrorCode::invalid_model_file, "{}: tensor '{}' has unknown dtype '{}'", source_, name, text);
  }

  std::vector<int64_t> shape(std::string_view name, simdjson::dom::element value) const {
    simdjson::dom::array dims;
    if (value.get_array().get(dims))
      fail(ErrorCode::invalid_model_file, "{}: tensor '{}': 'shape' is {}, expected an array of non-negative integers",
           source_, name, json_type_name(value));
    std::vector<int64_t> out;
    // Element counts are int64 in TensorInfo; a shape beyond that cannot describe a real file.
    constexpr auto limit = static_cast<uint64_t>(INT64_MAX);
    uint64_t elements = 1;
    for (const auto dim : dims) {
      const uint64_t d = non_negative(dim, name, fmt::format("shape[{}]", out.size()));
      if (d > limit || (d != 0 && elements > limit / d))
        fail(ErrorCode::invalid_model_file, "{}: tensor '{}': shape[{}] = {} overflows the element count", source_, name,
             out.size(), d);
      elements *= d;
      out.push_back(static_cast<int64_t>(d));
    }
    return out;
  }

  void read_offsets(SafetensorsTensor& t, simdjson::dom::element value) const {
    simdjson::dom::array offsets;
    if (value.get_array().get(offsets))
      fail(ErrorCode::invalid_model_file, "{}: tensor '{}': 'data_offsets' is {}, expected an array of 2 integers",
           source_, t.name, json_type_name(value));
    if (offsets.size() != 2)
      fail(ErrorCode::invalid_model_file, "{}: tensor '{}': 'data_offsets' has {} entries, expected 2", source_, t.name,
           offsets.size());
    t.data_begin = non_negative(offsets.at(0).value_unsafe(), t.name, "data_offsets[0]");
    t.data_end = non_negative(offsets.at(1).value_unsafe(), t.name, "data_offsets[1]");
    if (t.data_begin > t.data_end)
      fail(ErrorCode::invalid_model_file, "{}: tensor '{}': data_offsets [{}, {}] begin after they end", source_, t.name,
           t.data_begin, t.data_end);
    if (t.data_end > data_size_)
      fail(ErrorCode::invalid_model_file, "{}: tensor '{}': data_offsets [{}, {}] end past the {}-byte data buffer",
           source_, t.name, t.data_begin, t.data_end, data_size_);
  }

  void check_size(const SafetensorsTensor& t) const {
    const uint64_t elements = std::accumulate(t.shape.begin(), t.shape.end(), uint64_t{1},
                                              [](uint64_t a, int64_t d) { return a * static_cast<uint64_t>(d); });
    const uint64_t size = element_bytes(t.type);
    const uint64_t have = t.data_end - t.data_begin;
    if (elements > UINT64_MAX / size || elements * size != have)
      fail(ErrorCode::invalid_model_file,
           "{}: tensor '{}': data_offsets [{}, {}] hold {} bytes but shape {} of {} needs {} elements of {} bytes",
           source_, t.name, t.data_begin, t.data_end, have, t.shape, dtype_name(t.type), elements, size);
  }

  uint64_t non_negative(simdjson::dom::element value, std::string_view name, std::string_view what) const {
    using simdjson::dom::element_type;
    if (value.type() == element_type::UINT64) return value.get_uint64().value_unsafe();
    if (value.type() == element_type::INT64) {
      const int64_t v = value.get_int64().value_unsafe();
      if (v >= 0) return static_cast<uint64_t>(v);
      fail(ErrorCode::invalid_model_file, "{}: tensor '{}': {} is {}, expected a non-negative integer", source_, name,
           what, v);
    }
    fail(ErrorCode::invalid_model_file, "{}: tensor '{}': {} is {}, expected a non-negative integer", source_, name, what,
         json_type_name(value));
  }

  std::string source_;
  uint64_t data_size_;
};

// Tensors may leave gaps (harmless) but no two may share a byte.
void check_overlaps(const std::vector<SafetensorsTensor>& tensors, std::string_view source) {
  std::vector<const SafetensorsTensor*> order;
  order.reserve(tensors.size());
  for (const auto& t : tensors)
    if (t.data_end > t.data_begin) order.push_back(&t);
  std::sort(order.begin(), order.end(),
            [](const auto* a, const auto* b) { return a->data_begin < b->data_begin; });
  for (size_t i = 1; i < order.size(); ++i) {
    const auto* prev = order[i - 1];
    const auto* next = order[i];
    if (next->data_begin < prev->data_end)
      fail(ErrorCode::invalid_model_file, "{}: tensors '{}' [{}, {}] and '{}' [{}, {}] overlap", source, prev->name,
           prev->data_begin, prev->data_end, next->name, next->data_begin, next->data_end);
  }
}

}  // namespace

std::optional<DType> safetensors_dtype(std::string_view name) noexcept {
  for (const auto& d : known_dtypes)
    if (d.name == name) return d.type;
  return std::nullopt;
}

const SafetensorsTensor* SafetensorsFile::find_tensor(std::string_view name) const noexcept {
  const auto it = index.find(name);
  return it == index.end() ? nullptr : &tensors[it->second];
}

SafetensorsFile parse_safetensors(std::span<const uint8_t> bytes, std::string_view name) {
  const std::string source = fmt::format("[safetensors] {}", name);
  if (bytes.size() < 8)
    fail(ErrorCode::invalid_model_file, "{}: file of {} bytes is too short to be safetensors (the header length takes 8)",
         source, bytes.size());
  uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), 8);  // little-endian hosts only (see byte_reader.hpp)
  if (header_size > SafetensorsFile::max_header_bytes)
    fail(ErrorCode::invalid_model_file, "{}: header length {} exceeds the {}-byte limit", source, header_size,
         SafetensorsFile::max_header_bytes);
  if (header_size > bytes.size() - 8)
    fail(ErrorCode::invalid_model_file, "{}: header length {} runs past the end of the file ({} bytes follow it)", source,
         header_size, bytes.size() - 8);

  SafetensorsFile out;
  out.data_offset = 8 + header_size;
  const auto data = bytes.subspan(out.data_offset);
  const auto doc = JsonDocument::parse(bytes.subspan(8, header_size), fmt::format("{}: header", source));
  simdjson::dom::object header;
  if (doc.root().get_object().get(header))
    fail(ErrorCode::invalid_model_file, "{}: header is {}, expected an object", source, json_type_name(doc.root()));

  const HeaderParser parser(source, data.size());
  bool have_metadata = false;
  out.tensors.reserve(header.size());
  for (const auto entry : header) {
    if (entry.key == "__metadata__") {
      if (have_metadata) fail(ErrorCode::invalid_model_file, "{}: '__metadata__' appears twice", source);
      have_metadata = true;
      parser.metadata(entry.value, out.metadata);
      continue;
    }
    auto t = parser.tensor(entry.key, entry.value);
    if (!out.index.emplace(t.name, out.tensors.size()).second)
      fail(ErrorCode::invalid_model_file, "{}: duplicate tensor name '{}'", source, t.name);
    t.data = data.subspan(t.data_begin, t.data_end - t.data_begin);
    out.tensors.push_back(std::move(t));
  }
  check_overlaps(out.tensors, source);
  return out;
}

SafetensorsFile open_safetensors(const std::filesystem::path& path) {
  auto mapping = std::make_shared<const MappedFile>(path);
  auto out = parse_safetensors(mapping->bytes(), path.string());
  out.mapping = std::move(mapping);
  return out;
}

}  // namespace ollm
