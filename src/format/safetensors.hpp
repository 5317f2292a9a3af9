// safetensors files: an 8-byte little-endian header length N, N bytes of JSON describing each
// tensor ({name: {dtype, shape, data_offsets}}, optional "__metadata__"), then the data buffer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "format/mapped_file.hpp"
#include "ollm/types.hpp"

namespace ollm {

struct SafetensorsTensor {
  std::string name;
  DType type = DType::f32;
  std::vector<int64_t> shape;   // row-major, as in the file: shape[0] is the outermost dimension
  uint64_t data_begin = 0;      // data_offsets, relative to the start of the data buffer
  uint64_t data_end = 0;
  std::span<const uint8_t> data;  // zero-copy view; not necessarily aligned
};

struct SafetensorsFile {
  // The reference implementation refuses headers above this size; so do we.
  static constexpr uint64_t max_header_bytes = 100'000'000;

  std::vector<SafetensorsTensor> tensors;                        // header order
  std::vector<std::pair<std::string, std::string>> metadata;    // "__metadata__", header order
  uint64_t data_offset = 0;                                      // 8 + header length
  std::shared_ptr<const MappedFile> mapping;                     // set by open_safetensors()

  const SafetensorsTensor* find_tensor(std::string_view name) const noexcept;

  // name → position in tensors; transparent so string_views look up without a copy.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, size_t, NameHash, std::equal_to<>> index;
};

// Parses a whole file image; tensor spans point into `bytes`, which must outlive the result.
// Messages start "[safetensors] {name}: "; malformed input throws invalid_model_file, a
// safetensors dtype ollm has no type for (U32, F8_E8M0, ...) throws unsupported.
SafetensorsFile parse_safetensors(std::span<const uint8_t> bytes, std::string_view name);

// Maps the file and parses it; the result keeps the mapping alive. A missing file is io.
SafetensorsFile open_safetensors(const std::filesystem::path& path);

// "F32" → DType::f32 ...; nullopt for names outside the twelve ollm reads.
std::optional<DType> safetensors_dtype(std::string_view name) noexcept;

}  // namespace ollm
