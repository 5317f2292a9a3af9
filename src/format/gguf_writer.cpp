// GGUF writer. Byte layout follows the gguf Python package's GGUFWriter so that the same
// content produces the same file: header, key/values in insertion order, tensor infos with
// offsets padded to the alignment, zero padding, then each tensor's data padded to the alignment.
#include <algorithm>
#include <cstring>
#include <fstream>
#include <unordered_set>

#include "ollm/gguf.hpp"
#include "util/fail.hpp"

namespace ollm {
namespace {

constexpr uint32_t gguf_magic = 0x46554747;

uint64_t pad_to(uint64_t n, uint64_t alignment) { return (n + alignment - 1) / alignment * alignment; }

class ByteSink {
 public:
  template <class T>
  void put(T value) {
    const auto* p = reinterpret_cast<const uint8_t*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void put_string(std::string_view s) {
    put<uint64_t>(s.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  void put_bytes(std::span<const uint8_t> b) { bytes_.insert(bytes_.end(), b.begin(), b.end()); }
  void pad(uint64_t alignment) { bytes_.resize(pad_to(bytes_.size(), alignment), 0); }
  std::vector<uint8_t> take() { return std::move(bytes_); }

 private:
  std::vector<uint8_t> bytes_;
};

constexpr int max_array_depth = 8;  // as in the reader: deeper nesting is rejected as hostile

int array_depth(const GgufArray& array) {
  int deepest = 0;
  if (const auto* inner = std::get_if<std::vector<GgufArray>>(&array.items))
    for (const auto& a : *inner) deepest = std::max(deepest, array_depth(a));
  return deepest + 1;
}

void put_array(ByteSink& out, const GgufArray& array);

void put_value_body(ByteSink& out, const GgufValue::Storage& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) out.put_string(v);
        else if constexpr (std::is_same_v<T, GgufArray>) put_array(out, v);
        else if constexpr (std::is_same_v<T, bool>) out.put<uint8_t>(v ? 1 : 0);
        else out.put<T>(v);
      },
      value);
}

void put_array(ByteSink& out, const GgufArray& array) {
  out.put<uint32_t>(static_cast<uint32_t>(array.element_type()));
  out.put<uint64_t>(array.size());
  std::visit(
      [&](const auto& items) {
        using V = std::decay_t<decltype(items)>;
        for (const auto& item : items) {
          if constexpr (std::is_same_v<V, std::vector<bool>>) out.put<uint8_t>(item ? 1 : 0);
          else if constexpr (std::is_same_v<V, std::vector<std::string>>) out.put_string(item);
          else if constexpr (std::is_same_v<V, std::vector<GgufArray>>) put_array(out, item);
          else out.put(item);
        }
      },
      array.items);
}

}  // namespace

GgufWriter::GgufWriter(uint32_t version) : version_(version) {
  if (version != 2 && version != 3)
    fail(ErrorCode::invalid_argument, "[gguf-writer] version {} cannot be written (2 or 3)", version);
}

void GgufWriter::set(std::string key, GgufValue value) {
  if (key.empty()) fail(ErrorCode::invalid_argument, "[gguf-writer] empty metadata key");
  if (key == "general.alignment") {
    if (value.type() != GgufValueType::uint32)
      fail(ErrorCode::invalid_argument, "[gguf-writer] general.alignment must be uint32, got {}",
           gguf_value_type_name(value.type()));
    const auto a = std::get<uint32_t>(value.storage());
    if (a == 0 || (a & (a - 1)) != 0)
      fail(ErrorCode::invalid_argument, "[gguf-writer] general.alignment {} is not a power of two", a);
  }
  if (const auto* a = std::get_if<GgufArray>(&value.storage()); a && array_depth(*a) > max_array_depth)
    fail(ErrorCode::invalid_argument, "[gguf-writer] key '{}' nests arrays {} deep; readers accept at most {}", key,
         array_depth(*a), max_array_depth);
  metadata_.set(std::move(key), std::move(value));
}

void GgufWriter::add_tensor(std::string name, DType type, std::vector<int64_t> dims, std::span<const uint8_t> data) {
  if (name.empty()) fail(ErrorCode::invalid_argument, "[gguf-writer] empty tensor name");
  for (const auto& t : tensors_)
    if (t.name == name) fail(ErrorCode::invalid_argument, "[gguf-writer] tensor '{}' added twice", name);
  if (dims.empty() || dims.size() > 4)
    fail(ErrorCode::invalid_argument, "[gguf-writer] tensor '{}' has {} dimensions (1 to 4)", name, dims.size());
  if (!dtype_from_ggml_id(static_cast<uint32_t>(type)))
    fail(ErrorCode::invalid_argument, "[gguf-writer] tensor '{}': {} has no GGUF type id", name, dtype_name(type));
  uint64_t rows = 1;
  for (int64_t d : dims) {
    if (d <= 0) fail(ErrorCode::invalid_argument, "[gguf-writer] tensor '{}' has dimension {}", name, d);
  }
  for (size_t i = 1; i < dims.size(); ++i)
    if (__builtin_mul_overflow(rows, static_cast<uint64_t>(dims[i]), &rows))
      fail(ErrorCode::invalid_argument, "[gguf-writer] tensor '{}' dimensions overflow", name);
  uint64_t expected = 0;
  if (__builtin_mul_overflow(dtype_row_bytes(type, dims[0]), rows, &expected))
    fail(ErrorCode::invalid_argument, "[gguf-writer] tensor '{}' ({} {}) byte size overflows 64 bits", name,
         dtype_name(type), fmt::join(dims, "x"));
  if (data.size() != expected)
    fail(ErrorCode::invalid_argument, "[gguf-writer] tensor '{}' ({} {}) needs {} bytes, got {}", name,
         dtype_name(type), fmt::join(dims, "x"), expected, data.size());
  tensors_.push_back({std::move(name), type, std::move(dims), std::vector<uint8_t>(data.begin(), data.end())});
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
  uint64_t alignment = 32;
  if (const auto* a = metadata_.find("general.alignment")) alignment = std::get<uint32_t>(a->storage());
  ByteSink out;
  out.put<uint32_t>(gguf_magic);
  out.put<uint32_t>(version_);
  out.put<uint64_t>(tensors_.size());
  out.put<uint64_t>(metadata_.entries().size());
  for (const auto& [key, value] : metadata_.entries()) {
    out.put_string(key);
    out.put<uint32_t>(static_cast<uint32_t>(value.type()));
    put_value_body(out, value.storage());
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    out.put_string(t.name);
    out.put<uint32_t>(static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) out.put<uint64_t>(static_cast<uint64_t>(d));
    out.put<uint32_t>(static_cast<uint32_t>(t.type));
    out.put<uint64_t>(offset);
    offset += pad_to(t.data.size(), alignment);
  }
  out.pad(alignment);
  for (const auto& t : tensors_) {
    out.put_bytes(t.data);
    out.pad(alignment);
  }
  return out.take();
}

void GgufWriter::write(const std::filesystem::path& path) const {
  const auto bytes = to_bytes();
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) fail(ErrorCode::io, "[gguf-writer] cannot create '{}'", path.string());
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!f) fail(ErrorCode::io, "[gguf-writer] write to '{}' failed after {} bytes", path.string(), bytes.size());
}

}  // namespace ollm
