// Internal: one parsed GGUF file (a single file or one split) before splits are merged.
#pragma once

#include <span>
#include <string_view>

#include "ollm/gguf.hpp"

namespace ollm {

struct ParsedGguf {
  uint32_t version = 0;
  uint64_t alignment = 32;
  uint64_t data_offset = 0;  // start of the tensor data section within the file
  GgufMetadata metadata;
  std::vector<GgufTensorInfo> tensors;  // data spans point into the parsed bytes
};

// Validates and parses one file's bytes; `source` prefixes every error message.
ParsedGguf parse_gguf_bytes(std::span<const uint8_t> bytes, std::string_view source, uint32_t split);

}  // namespace ollm
