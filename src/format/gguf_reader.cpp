// GGUF parsing and validation. Layout (all little-endian):
//   magic "GGUF" u32 · version u32 · n_tensors u64 · n_kv u64
//   n_kv × { key: string, type: u32, value }           string = u64 length + bytes
//   n_tensors × { name: string, n_dims: u32, dims: u64[n_dims], type: u32, offset: u64 }
//   padding to `general.alignment` (default 32) · tensor data (offsets relative to here)
// Every count and length is checked against the bytes that remain before anything is
// allocated, so a hostile file cannot make the reader allocate or read out of bounds.
#include <algorithm>
#include <numeric>

#include "format/byte_reader.hpp"
#include "format/gguf_internal.hpp"
#include "format/mapped_file.hpp"
#include "ollm/gguf.hpp"
#include "util/fail.hpp"
#include "util/printable.hpp"

namespace ollm {
namespace {

constexpr uint32_t gguf_magic = 0x46554747;  // "GGUF" read as little-endian u32
constexpr uint32_t default_alignment = 32;
constexpr int max_array_depth = 8;           // nested arrays deeper than this are hostile
constexpr uint32_t max_dims = 4;

std::string read_string(ByteReader& in, std::string_view field) {
  const auto length = in.read<uint64_t>(field);
  auto bytes = in.read_bytes(length, field);
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Fixed-size scalar element of each type; 0 for string/array.
size_t scalar_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::uint8: case GgufValueType::int8: case GgufValueType::boolean: return 1;
    case GgufValueType::uint16: case GgufValueType::int16: return 2;
    case GgufValueType::uint32: case GgufValueType::int32: case GgufValueType::float32: return 4;
    case GgufValueType::uint64: case GgufValueType::int64: case GgufValueType::float64: return 8;
    default: return 0;
  }
}

GgufValueType read_value_type(ByteReader& in, std::string_view what) {
  const size_t at = in.offset();
  const auto raw = in.read<uint32_t>("value type");
  if (raw > static_cast<uint32_t>(GgufValueType::float64))
    fail(ErrorCode::invalid_model_file, "{}: {} has unknown value type {} at offset {}", in.source(), what, raw, at);
  return static_cast<GgufValueType>(raw);
}

bool read_bool(ByteReader& in, std::string_view what) {
  const size_t at = in.offset();
  const auto b = in.read<uint8_t>(what);
  if (b > 1) fail(ErrorCode::invalid_model_file, "{}: {} has bool byte {} at offset {} (expected 0 or 1)",
                  in.source(), what, b, at);
  return b == 1;
}

template <class T>
std::vector<T> read_scalar_array(ByteReader& in, uint64_t count, std::string_view what) {
  in.require(count * sizeof(T), what);  // count was bounded by remaining() so this cannot overflow
  std::vector<T> out(static_cast<size_t>(count));
  auto bytes = in.read_bytes(count * sizeof(T), what);
  if (!bytes.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());  // empty vectors may have null data
  return out;
}

GgufArray read_array(ByteReader& in, std::string_view what, int depth);

GgufValue read_value(ByteReader& in, GgufValueType type, std::string_view what, int depth) {
  switch (type) {
    case GgufValueType::uint8: return in.read<uint8_t>(what);
    case GgufValueType::int8: return in.read<int8_t>(what);
    case GgufValueType::uint16: return in.read<uint16_t>(what);
    case GgufValueType::int16: return in.read<int16_t>(what);
    case GgufValueType::uint32: return in.read<uint32_t>(what);
    case GgufValueType::int32: return in.read<int32_t>(what);
    case GgufValueType::float32: return in.read<float>(what);
    case GgufValueType::boolean: return read_bool(in, what);
    case GgufValueType::string: return read_string(in, what);
    case GgufValueType::array: return read_array(in, what, depth + 1);
    case GgufValueType::uint64: return in.read<uint64_t>(what);
    case GgufValueType::int64: return in.read<int64_t>(what);
    case GgufValueType::float64: return in.read<double>(what);
  }
  fail(ErrorCode::internal, "{}: unhandled value type", in.source());
}

GgufArray read_array(ByteReader& in, std::string_view what, int depth) {
  if (depth > max_array_depth)
    fail(ErrorCode::invalid_model_file, "{}: {} nests arrays deeper than {} at offset {}", in.source(), what,
         max_array_depth, in.offset());
  const auto element_type = read_value_type(in, what);
  const size_t count_at = in.offset();
  const auto count = in.read<uint64_t>("array length");
  // Smallest possible encoding of one element: strings need their 8-byte length, arrays 12 bytes.
  const size_t min_element = element_type == GgufValueType::string  ? 8
                             : element_type == GgufValueType::array ? 12
                                                                    : scalar_size(element_type);
  if (count > in.remaining() / min_element)
    fail(ErrorCode::invalid_model_file, "{}: {} claims {} elements of {} at offset {} but only {} bytes remain",
         in.source(), what, count, gguf_value_type_name(element_type), count_at, in.remaining());
  GgufArray array;
  switch (element_type) {
    case GgufValueType::uint8: array.items = read_scalar_array<uint8_t>(in, count, what); break;
    case GgufValueType::int8: array.items = read_scalar_array<int8_t>(in, count, what); break;
    case GgufValueType::uint16: array.items = read_scalar_array<uint16_t>(in, count, what); break;
    case GgufValueType::int16: array.items = read_scalar_array<int16_t>(in, count, what); break;
    case GgufValueType::uint32: array.items = read_scalar_array<uint32_t>(in, count, what); break;
    case GgufValueType::int32: array.items = read_scalar_array<int32_t>(in, count, what); break;
    case GgufValueType::float32: array.items = read_scalar_array<float>(in, count, what); break;
    case GgufValueType::uint64: array.items = read_scalar_array<uint64_t>(in, count, what); break;
    case GgufValueType::int64: array.items = read_scalar_array<int64_t>(in, count, what); break;
    case GgufValueType::float64: array.items = read_scalar_array<double>(in, count, what); break;
    case GgufValueType::boolean: {
      std::vector<bool> v(static_cast<size_t>(count));
      for (size_t i = 0; i < v.size(); ++i) v[i] = read_bool(in, what);
      array.items = std::move(v);
      break;
    }
    case GgufValueType::string: {
      std::vector<std::string> v;
      v.reserve(static_cast<size_t>(count));
      for (uint64_t i = 0; i < count; ++i) v.push_back(read_string(in, what));
      array.items = std::move(v);
      break;
    }
    case GgufValueType::array: {
      std::vector<GgufArray> v;
      v.reserve(static_cast<size_t>(count));
      for (uint64_t i = 0; i < count; ++i) v.push_back(read_array(in, what, depth + 1));
      array.items = std::move(v);
      break;
    }
  }
  return array;
}

void read_header(ByteReader& in, ParsedGguf& out, uint64_t& n_tensors, uint64_t& n_kv) {
  if (in.size() < 4) fail(ErrorCode::invalid_model_file, "{}: file of {} bytes is too short to be GGUF", in.source(), in.size());
  const auto magic = in.read<uint32_t>("magic");
  if (magic != gguf_magic)
    fail(ErrorCode::invalid_model_file, "{}: bad magic 0x{:08x} (expected 0x{:08x}, \"GGUF\")", in.source(), magic, gguf_magic);
  out.version = in.read<uint32_t>("version");
  if (out.version == 1)
    fail(ErrorCode::unsupported, "{}: GGUF version 1 is not supported (versions 2 and 3 are); re-convert the model", in.source());
  if (out.version != 2 && out.version != 3) {
    // gguf-py's big-endian files keep the magic as "GGUF" and byte-swap everything else, version included.
    if (const uint32_t swapped = __builtin_bswap32(out.version); swapped >= 1 && swapped <= 0xffff)
      fail(ErrorCode::unsupported, "{}: big-endian GGUF is not supported (version field 0x{:08x}); convert it to little-endian",
           in.source(), out.version);
    if (out.version > 3 && out.version <= 0xffff)  // a plausible future version rather than garbage
      fail(ErrorCode::unsupported, "{}: GGUF version {} is newer than this ollm reads (versions 2 and 3); update ollm",
           in.source(), out.version);
    fail(ErrorCode::invalid_model_file, "{}: unknown GGUF version {} (expected 2 or 3)", in.source(), out.version);
  }
  n_tensors = in.read<uint64_t>("tensor count");
  n_kv = in.read<uint64_t>("metadata count");
  constexpr uint64_t min_kv_bytes = 8 + 4 + 1;      // empty key, type, 1-byte value
  constexpr uint64_t min_tensor_bytes = 8 + 4 + 8 + 4 + 8;  // empty name, 1 dim, type, offset
  if (n_kv > in.remaining() / min_kv_bytes)
    fail(ErrorCode::invalid_model_file, "{}: metadata count {} cannot fit in the {} bytes that follow",
         in.source(), n_kv, in.remaining());
  if (n_tensors > in.remaining() / min_tensor_bytes)
    fail(ErrorCode::invalid_model_file, "{}: tensor count {} cannot fit in the {} bytes that follow",
         in.source(), n_tensors, in.remaining());
}

void read_metadata(ByteReader& in, ParsedGguf& out, uint64_t n_kv) {
  for (uint64_t i = 0; i < n_kv; ++i) {
    const size_t at = in.offset();
    std::string key = read_string(in, "metadata key");
    if (key.empty()) fail(ErrorCode::invalid_model_file, "{}: metadata entry {} at offset {} has an empty key", in.source(), i, at);
    if (out.metadata.contains(key))
      fail(ErrorCode::invalid_model_file, "{}: duplicate metadata key '{}' at offset {}", in.source(), printable(key), at);
    const auto type = read_value_type(in, fmt::format("key '{}'", printable(key)));
    GgufValue value = read_value(in, type, fmt::format("key '{}'", printable(key)), 0);
    out.metadata.set(std::move(key), std::move(value));
  }
  out.alignment = default_alignment;
  if (const auto* a = out.metadata.find("general.alignment")) {
    if (a->type() != GgufValueType::uint32)
      fail(ErrorCode::invalid_model_file, "{}: general.alignment is {}, expected uint32", in.source(),
           gguf_value_type_name(a->type()));
    const auto alignment = std::get<uint32_t>(a->storage());
    if (alignment == 0 || (alignment & (alignment - 1)) != 0)
      fail(ErrorCode::invalid_model_file, "{}: general.alignment {} is not a power of two", in.source(), alignment);
    out.alignment = alignment;
  }
}

GgufTensorInfo read_tensor_info(ByteReader& in, uint32_t split) {
  GgufTensorInfo t;
  const size_t at = in.offset();
  t.name = read_string(in, "tensor name");
  t.split = split;
  if (t.name.empty()) fail(ErrorCode::invalid_model_file, "{}: tensor at offset {} has an empty name", in.source(), at);
  const auto n_dims = in.read<uint32_t>("tensor dimension count");
  if (n_dims == 0 || n_dims > max_dims)
    fail(ErrorCode::invalid_model_file, "{}: tensor '{}' has {} dimensions (1 to {} supported)", in.source(), printable(t.name), n_dims, max_dims);
  int64_t elements = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    const auto dim = in.read<uint64_t>("tensor dimension");
    if (dim == 0) fail(ErrorCode::invalid_model_file, "{}: tensor '{}' dimension {} is 0", in.source(), printable(t.name), d);
    if (dim > static_cast<uint64_t>(INT64_MAX) || __builtin_mul_overflow(elements, static_cast<int64_t>(dim), &elements))
      fail(ErrorCode::invalid_model_file, "{}: tensor '{}' dimension {} of {} overflows the int64 element count",
           in.source(), printable(t.name), d, dim);
    t.dims.push_back(static_cast<int64_t>(dim));
  }
  const auto type_id = in.read<uint32_t>("tensor type");
  const auto type = dtype_from_ggml_id(type_id);
  if (!type) fail(ErrorCode::invalid_model_file, "{}: tensor '{}' has unknown type id {}", in.source(), printable(t.name), type_id);
  t.type = *type;
  const auto traits = *dtype_traits(t.type);
  if (t.dims[0] % traits.block_elements != 0)
    fail(ErrorCode::invalid_model_file, "{}: tensor '{}' rows of {} elements are not a multiple of the {} block size {}",
         in.source(), printable(t.name), t.dims[0], traits.name, traits.block_elements);
  // Both products can wrap for large dims (2^62 F64 elements are 2^65 bytes): checked, or n_bytes
  // could come out small and pass the bounds checks while element_count() stays huge.
  uint64_t row_bytes = 0;
  const uint64_t rows = static_cast<uint64_t>(elements / t.dims[0]);
  if (__builtin_mul_overflow(static_cast<uint64_t>(t.dims[0]) / traits.block_elements, uint64_t{traits.block_bytes}, &row_bytes) ||
      __builtin_mul_overflow(row_bytes, rows, &t.n_bytes))
    fail(ErrorCode::invalid_model_file, "{}: tensor '{}' ({} [{}]) byte size overflows 64 bits", in.source(), printable(t.name),
         traits.name, fmt::join(t.dims, ", "));
  t.offset = in.read<uint64_t>("tensor data offset");
  return t;
}

// Offsets, alignment, bounds and overlaps, once the data section's start is known.
void place_tensors(ByteReader& in, ParsedGguf& out) {
  const uint64_t file_size = in.size();
  const uint64_t data_start = (in.offset() + out.alignment - 1) / out.alignment * out.alignment;
  if (!out.tensors.empty() && data_start > file_size)
    fail(ErrorCode::invalid_model_file, "{}: tensor data section would start at {}, past the end of the file ({} bytes)",
         in.source(), data_start, file_size);
  out.data_offset = data_start;
  for (auto& t : out.tensors) {
    if (t.offset % out.alignment != 0)
      fail(ErrorCode::invalid_model_file, "{}: tensor '{}' data offset {} is not a multiple of the alignment {}",
           in.source(), printable(t.name), t.offset, out.alignment);
    const uint64_t available = file_size - data_start;
    if (t.offset > available || t.n_bytes > available - t.offset)
      // Relative offset and section start apart: their sum can wrap for a hostile offset.
      fail(ErrorCode::invalid_model_file,
           "{}: tensor '{}' data ({} bytes at offset {} of the data section, which starts at {}) lies past the end of "
           "the file ({} bytes)", in.source(), printable(t.name), t.n_bytes, t.offset, data_start, file_size);
  }
  std::vector<size_t> order(out.tensors.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // Stable: among tensors at the same offset the message names them in file order.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return out.tensors[a].offset < out.tensors[b].offset; });
  for (size_t i = 1; i < order.size(); ++i) {
    const auto& prev = out.tensors[order[i - 1]];
    const auto& cur = out.tensors[order[i]];
    if (prev.offset + prev.n_bytes > cur.offset)
      fail(ErrorCode::invalid_model_file, "{}: tensor '{}' data [{}, +{}) overlaps tensor '{}' at {}", in.source(),
           printable(prev.name), prev.offset, prev.n_bytes, printable(cur.name), cur.offset);
  }
}

}  // namespace

ParsedGguf parse_gguf_bytes(std::span<const uint8_t> bytes, std::string_view source, uint32_t split) {
  ByteReader in(bytes, source);
  ParsedGguf out;
  uint64_t n_tensors = 0, n_kv = 0;
  read_header(in, out, n_tensors, n_kv);
  read_metadata(in, out, n_kv);
  // The count is bounded by the file size, but each info is far bigger in memory than its minimal
  // 33 bytes on disk: grow as tensors are actually read rather than trusting the count up front.
  out.tensors.reserve(static_cast<size_t>(std::min<uint64_t>(n_tensors, 4096)));
  std::unordered_map<std::string_view, size_t> seen;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    out.tensors.push_back(read_tensor_info(in, split));
  }
  for (size_t i = 0; i < out.tensors.size(); ++i) {
    if (!seen.emplace(out.tensors[i].name, i).second)
      fail(ErrorCode::invalid_model_file, "{}: duplicate tensor name '{}'", source, printable(out.tensors[i].name));
  }
  place_tensors(in, out);
  for (auto& t : out.tensors) t.data = bytes.subspan(out.data_offset + t.offset, t.n_bytes);
  return out;
}

}  // namespace ollm
