// Model quantization: rewrite a GGUF file with its weight matrices in another GGUF type
// (Q4_0, Q8_0, Q4_K, Q6_K, ...), as `ollm quantize` does. Metadata is copied unchanged except
// general.file_type; 1-D tensors (norms, biases) keep their type.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "ollm/export.h"
#include "ollm/types.hpp"

namespace ollm {

struct QuantizeOptions {
  DType type = DType::q4_k;
  // Matrices whose rows are not a whole number of the type's blocks fall back to this type
  // (llama.cpp does the same for odd shapes); it must have 32-element blocks or none.
  DType fallback = DType::q8_0;
  // Called after each tensor with (done, total); return false to cancel (Error cancelled).
  std::function<bool(size_t done, size_t total)> progress;
};

struct QuantizeReport {
  size_t tensors = 0;           // all tensors written
  size_t quantized = 0;         // converted to options.type
  size_t fallback = 0;          // converted to options.fallback
  uint64_t bytes_in = 0;        // tensor bytes read
  uint64_t bytes_out = 0;       // tensor bytes written
};

// in: a GGUF file · out: the new file (overwritten). Throws Error: unsupported for a target type
// without a quantizer or a source tensor type that cannot be dequantized, io for the output.
OLLM_API QuantizeReport quantize_model(const std::filesystem::path& in, const std::filesystem::path& out,
                                       const QuantizeOptions& options);

// The type named like llama.cpp names it ("Q4_K", "q8_0", "F16", ...), or nullopt.
OLLM_API std::optional<DType> dtype_from_name(std::string_view name) noexcept;

}  // namespace ollm
