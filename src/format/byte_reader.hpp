// Bounds-checked little-endian cursor over untrusted bytes. Every read names the field it
// reads so that a truncated or lying file produces a message saying what and where.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

#include "util/fail.hpp"

namespace ollm {

static_assert(std::endian::native == std::endian::little, "ollm reads little-endian files on little-endian hosts");

class ByteReader {
 public:
  // `source` prefixes messages, e.g. "[gguf] model.gguf".
  ByteReader(std::span<const uint8_t> bytes, std::string_view source) : bytes_(bytes), source_(source) {}

  size_t offset() const noexcept { return offset_; }
  size_t size() const noexcept { return bytes_.size(); }
  size_t remaining() const noexcept { return bytes_.size() - offset_; }
  std::string_view source() const noexcept { return source_; }

  template <class T>
    requires std::is_trivially_copyable_v<T>
  T read(std::string_view field) {
    require(sizeof(T), field);
    T value;
    std::memcpy(&value, bytes_.data() + offset_, sizeof(T));
    offset_ += sizeof(T);
    return value;
  }

  std::span<const uint8_t> read_bytes(uint64_t n, std::string_view field) {
    require(n, field);
    auto out = bytes_.subspan(offset_, static_cast<size_t>(n));
    offset_ += static_cast<size_t>(n);
    return out;
  }

  // Throws unless n more bytes are available.
  void require(uint64_t n, std::string_view field) const {
    if (n > remaining())
      fail(ErrorCode::invalid_model_file, "{}: truncated: {} needs {} bytes at offset {} but only {} remain",
           source_, field, n, offset_, remaining());
  }

 private:
  std::span<const uint8_t> bytes_;
  std::string_view source_;
  size_t offset_ = 0;
};

}  // namespace ollm
