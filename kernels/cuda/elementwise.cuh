// Element-wise and data-movement ops of the CUDA backend: residual adds, biases, scaling,
// soft-capping, gated activations, row gathers/scatters, column copies, the MoE weighted sum and
// f32 -> f16/bf16 conversion. Every launcher is asynchronous on `stream`, allocates nothing and
// synchronises nothing (so a step can be captured in a CUDA graph), and returns the launch error
// (cudaSuccess for count == 0). Pointers are device memory; shapes as in src/backend/backend.hpp.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace ollm_cuda {

// y = a + b over [count] (y may be a or b). One f32 rounding, bit-equal to the CPU.
cudaError_t launch_add(const float* a, const float* b, float* y, int64_t count, cudaStream_t stream);
// y: [rows, n] += bias[n] per row (one f32 rounding).
cudaError_t launch_add_bias(float* y, const float* bias, int64_t rows, int64_t n, cudaStream_t stream);
// x *= s over [count].
cudaError_t launch_scale(float* x, float s, int64_t count, cudaStream_t stream);
// x = cap * tanh(x / cap) over [count], cap > 0.
cudaError_t launch_softcap(float* x, float cap, int64_t count, cudaStream_t stream);

// act: 0 silu (x / (1 + e^-x)), 1 gelu_tanh (0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))),
// 2 gelu_erf (0.5x erfc(-x/sqrt 2)) — ollm::Activation's order.
// gate: [rows, n] (row stride gate_stride) · up: [rows, n] (row stride up_stride) ·
// out: [rows, n] (row stride n; may alias gate or up when their stride is n). out = act(gate)*up.
cudaError_t launch_gated_activation(int act, const float* gate, const float* up, float* out, int64_t rows, int64_t n,
                                    int64_t gate_stride, int64_t up_stride, cudaStream_t stream);

// src: [*, n] · rows: [count] (device) · dst: [count, n] = src[rows[i]] (exact copies).
cudaError_t launch_gather_rows(const float* src, int64_t n, const int32_t* rows, int64_t count, float* dst,
                               cudaStream_t stream);
// src: [count, n] · rows: [count] (device, distinct) · dst[rows[i]] = src[i] (exact copies).
cudaError_t launch_scatter_rows(const float* src, int64_t n, const int32_t* rows, int64_t count, float* dst,
                                cudaStream_t stream);
// dst[r, 0..cols) = src[r, col0..col0+cols) for r < rows (strides in floats; exact copies).
cudaError_t launch_copy_columns(const float* src, int64_t src_stride, int64_t col0, int64_t cols, float* dst,
                                int64_t dst_stride, int64_t rows, cudaStream_t stream);
// expert_out: [rows, k, n] · weights: [rows, k] · out: [rows, n] = sum_j weights[r,j] * expert_out[r,j]
// (summed in j order from 0.0f, as the CPU does).
cudaError_t launch_expert_combine(const float* expert_out, const float* weights, int64_t rows, int64_t k, int64_t n,
                                  float* out, cudaStream_t stream);

// x: [count] f32 -> y: [count] IEEE half bits / bfloat16 bits, round to nearest even (NaN stays NaN).
cudaError_t launch_f32_to_f16(const float* x, uint16_t* y, int64_t count, cudaStream_t stream);
cudaError_t launch_f32_to_bf16(const float* x, uint16_t* y, int64_t count, cudaStream_t stream);

}  // namespace ollm_cuda
