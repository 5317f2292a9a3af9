// Primitives for hosts that want them without a model: conversion between f32 and the GGUF
// quantized formats (quantized matmul and attention on tensor views will join them here).
// Stateless and safe to call from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ollm/export.h"
#include "ollm/types.hpp"

namespace ollm {

// blocks: the raw bytes of whole blocks of `type` (a GGUF tensor row, any alignment) ·
// out: one f32 per element, out.size() == elements in blocks. Bit-exact with the gguf Python
// package's dequantize. Throws Error: invalid_argument when the sizes disagree (naming both),
// unsupported for a type without a dequantizer.
OLLM_API void dequantize(DType type, std::span<const uint8_t> blocks, std::span<float> out);

// values: a whole number of blocks of `type` · returns the block bytes. Q4_0..Q8_0, F16 and BF16
// match gguf.quants byte for byte; K-quants, Q8_K and IQ4 follow ggml's reference quantizers.
// A block containing NaN or infinity becomes a block that dequantizes to NaN. Throws Error:
// invalid_argument for a partial block, unsupported for a type without a quantizer.
OLLM_API std::vector<uint8_t> quantize(DType type, std::span<const float> values);

}  // namespace ollm
