// GGUF files (versions 2 and 3): a memory-mapped reader with zero-copy tensor views, and a writer.
// The reader validates everything it reads; malformed input raises ollm::Error(invalid_model_file).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "ollm/export.h"
#include "ollm/types.hpp"

namespace ollm {

// The 13 metadata value types, numbered as in the file.
enum class GgufValueType : uint32_t {
  uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6,
  boolean = 7, string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12,
};
OLLM_API std::string_view gguf_value_type_name(GgufValueType type) noexcept;

// An array value: elements of one type, possibly arrays themselves.
// The variant's index equals the element type id.
struct GgufArray {
  using Items = std::variant<std::vector<uint8_t>, std::vector<int8_t>, std::vector<uint16_t>,
                             std::vector<int16_t>, std::vector<uint32_t>, std::vector<int32_t>,
                             std::vector<float>, std::vector<bool>, std::vector<std::string>,
                             std::vector<GgufArray>, std::vector<uint64_t>, std::vector<int64_t>,
                             std::vector<double>>;
  Items items;

  GgufValueType element_type() const noexcept { return static_cast<GgufValueType>(items.index()); }
  OLLM_API size_t size() const noexcept;
  bool operator==(const GgufArray&) const = default;
};

// One metadata value. The variant's index equals the value type id.
class OLLM_API GgufValue {
 public:
  using Storage = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool,
                               std::string, GgufArray, uint64_t, int64_t, double>;

  GgufValue() : storage_(uint8_t{0}) {}
  template <class T>
    requires std::is_constructible_v<Storage, T&&>
  GgufValue(T&& value) : storage_(std::forward<T>(value)) {}  // NOLINT: implicit by design
  GgufValue(const char* s) : storage_(std::string(s)) {}      // NOLINT

  GgufValueType type() const noexcept { return static_cast<GgufValueType>(storage_.index()); }
  const Storage& storage() const noexcept { return storage_; }
  bool is_integer() const noexcept;

  // Checked conversions; they throw invalid_model_file naming `what` (usually the key).
  int64_t to_int64(std::string_view what) const;
  uint64_t to_uint64(std::string_view what) const;
  double to_double(std::string_view what) const;   // any integer or float type
  bool to_bool(std::string_view what) const;
  const std::string& to_string(std::string_view what) const;
  const GgufArray& to_array(std::string_view what) const;

  bool operator==(const GgufValue&) const = default;

 private:
  Storage storage_;
};

// Key/value metadata in file order, with lookup by key.
class OLLM_API GgufMetadata {
 public:
  const std::vector<std::pair<std::string, GgufValue>>& entries() const noexcept { return entries_; }
  const GgufValue* find(std::string_view key) const noexcept;
  bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }
  // Throws not_found naming the key when it is absent.
  const GgufValue& at(std::string_view key) const;
  // Adds or replaces (a replaced key keeps its position).
  void set(std::string key, GgufValue value);

  std::string get_string(std::string_view key, std::string fallback) const;
  int64_t get_int(std::string_view key, int64_t fallback) const;
  double get_float(std::string_view key, double fallback) const;
  bool get_bool(std::string_view key, bool fallback) const;

 private:
  std::vector<std::pair<std::string, GgufValue>> entries_;
  std::unordered_map<std::string, size_t> index_;
};

struct GgufTensorInfo {
  std::string name;
  DType type = DType::f32;
  std::vector<int64_t> dims;  // ggml order: dims[0] is the innermost (contiguous) dimension
  uint64_t offset = 0;        // from the start of its file's data section, as stored
  uint64_t n_bytes = 0;       // size of the data
  uint32_t split = 0;         // which file of a split model holds it (0 for single files)
  std::span<const uint8_t> data;  // zero-copy view into the mapped file
  int64_t element_count() const noexcept;
};

class OLLM_API GgufFile {
 public:
  // Maps and validates a file. A name like "model-00001-of-00003.gguf" opens all
  // three splits as one model (metadata from the first, tensors from all).
  static GgufFile open(const std::filesystem::path& path);
  // Parses bytes that the caller keeps alive (tests, fuzzing). `source` names it in errors.
  static GgufFile parse(std::span<const uint8_t> bytes, std::string_view source = "<memory>");

  uint32_t version() const noexcept;
  uint64_t alignment() const noexcept;
  size_t split_count() const noexcept;
  uint64_t total_file_bytes() const noexcept;  // all splits together
  const GgufMetadata& metadata() const noexcept;
  const std::vector<GgufTensorInfo>& tensors() const noexcept;
  const GgufTensorInfo* find_tensor(std::string_view name) const noexcept;
  // Keeps the underlying mappings alive for as long as the returned pointer lives.
  std::shared_ptr<const void> storage() const noexcept;

 private:
  GgufFile() = default;  // only open() and parse() make one: a GgufFile always has a state
  struct State;
  std::shared_ptr<const State> state_;
};

// Builds a GGUF file in memory or on disk. Layout matches the gguf Python package's
// GGUFWriter: header, key/values in insertion order, tensor infos, data aligned to `alignment`.
class OLLM_API GgufWriter {
 public:
  explicit GgufWriter(uint32_t version = 3);
  void set(std::string key, GgufValue value);
  // Copies `data`; its size must equal the type's row bytes times the outer dimensions.
  void add_tensor(std::string name, DType type, std::vector<int64_t> dims, std::span<const uint8_t> data);
  std::vector<uint8_t> to_bytes() const;
  void write(const std::filesystem::path& path) const;

 private:
  struct PendingTensor {
    std::string name;
    DType type;
    std::vector<int64_t> dims;
    std::vector<uint8_t> data;
  };
  uint32_t version_;
  GgufMetadata metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace ollm
