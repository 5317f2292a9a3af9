// Scalar dequantization of one row of GGUF blocks to f32, bit-exact against gguf.quants
// (numpy float32 arithmetic, the same rounding steps in the same order).
#pragma once

#include <cstdint>

#include "ollm/types.hpp"

namespace ollm::cpu {

// Each function: blocks: [n / block_elements] blocks of that type, any byte alignment ·
// out: [n] f32. n must be a whole number of blocks (callers validate; kernels assume it).
void dequantize_row_f32(const void* blocks, float* out, int64_t n);
void dequantize_row_f16(const void* blocks, float* out, int64_t n);
void dequantize_row_bf16(const void* blocks, float* out, int64_t n);
void dequantize_row_q4_0(const void* blocks, float* out, int64_t n);
void dequantize_row_q4_1(const void* blocks, float* out, int64_t n);
void dequantize_row_q5_0(const void* blocks, float* out, int64_t n);
void dequantize_row_q5_1(const void* blocks, float* out, int64_t n);
void dequantize_row_q8_0(const void* blocks, float* out, int64_t n);
void dequantize_row_q2_k(const void* blocks, float* out, int64_t n);
void dequantize_row_q3_k(const void* blocks, float* out, int64_t n);
void dequantize_row_q4_k(const void* blocks, float* out, int64_t n);
void dequantize_row_q5_k(const void* blocks, float* out, int64_t n);
void dequantize_row_q6_k(const void* blocks, float* out, int64_t n);
void dequantize_row_q8_k(const void* blocks, float* out, int64_t n);
void dequantize_row_iq4_nl(const void* blocks, float* out, int64_t n);
void dequantize_row_iq4_xs(const void* blocks, float* out, int64_t n);

using DequantizeRowFn = void (*)(const void* blocks, float* out, int64_t n);

// The row function of a type, or nullptr when ollm has no dequantizer for it.
DequantizeRowFn dequantize_row_fn(DType type) noexcept;

// blocks: [n / block_elements] blocks of `type` · out: [n] f32. Precondition: the type has a
// dequantizer and n is a whole number of blocks (the public ollm::dequantize checks both).
void dequantize_row(DType type, const void* blocks, float* out, int64_t n);

}  // namespace ollm::cpu
