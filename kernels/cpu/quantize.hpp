// Scalar quantization of one f32 row into GGUF blocks. Q4_0..Q8_0, F16 and BF16 produce the
// same bytes as gguf.quants; the K-quants, Q8_K and IQ4 follow ggml's reference quantizers
// (quantize_row_*_ref in ggml-quants.c) operation for operation.
#pragma once

#include <cstdint>

#include "ollm/types.hpp"

namespace ollm::cpu {

// Each function: x: [n] f32, any alignment · blocks: [n / block_elements] blocks of that type.
// n is a whole number of blocks (callers validate). A block whose inputs hold a NaN or an
// infinity is written as a "NaN block" (its scale is an fp16/f32 NaN, codes zero) so the
// problem stays visible after dequantization instead of turning into plausible numbers.
void quantize_row_f32(const float* x, void* blocks, int64_t n);
void quantize_row_f16(const float* x, void* blocks, int64_t n);
void quantize_row_bf16(const float* x, void* blocks, int64_t n);
void quantize_row_q4_0(const float* x, void* blocks, int64_t n);
void quantize_row_q4_1(const float* x, void* blocks, int64_t n);
void quantize_row_q5_0(const float* x, void* blocks, int64_t n);
void quantize_row_q5_1(const float* x, void* blocks, int64_t n);
void quantize_row_q8_0(const float* x, void* blocks, int64_t n);
void quantize_row_q2_k(const float* x, void* blocks, int64_t n);
void quantize_row_q3_k(const float* x, void* blocks, int64_t n);
void quantize_row_q4_k(const float* x, void* blocks, int64_t n);
void quantize_row_q5_k(const float* x, void* blocks, int64_t n);
void quantize_row_q6_k(const float* x, void* blocks, int64_t n);
void quantize_row_q8_k(const float* x, void* blocks, int64_t n);
void quantize_row_iq4_nl(const float* x, void* blocks, int64_t n);
void quantize_row_iq4_xs(const float* x, void* blocks, int64_t n);

using QuantizeRowFn = void (*)(const float* x, void* blocks, int64_t n);

// The row function of a type, or nullptr when ollm has no quantizer for it.
QuantizeRowFn quantize_row_fn(DType type) noexcept;

// x: [n] f32 · blocks: [n / block_elements] blocks of `type`. Precondition as for
// dequantize_row: a quantizer exists and n is a whole number of blocks.
void quantize_row(DType type, const float* x, void* blocks, int64_t n);

}  // namespace ollm::cpu
