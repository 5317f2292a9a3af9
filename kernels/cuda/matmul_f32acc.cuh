// Matmul with f32 activations and f32 arithmetic on weights of any type: each weight is decoded
// to its exact f32 value (quant_decode.cuh for block formats, exact conversion for F16/BF16/F32)
// and multiplied with the unrounded f32 activation, f32 accumulation. The CUDA backend's decode
// path for F32/F16/BF16 weights (bandwidth-bound: one pass over w for all m rows), and its matmul
// for every type under Numerics::exact (like the CPU's exact_f32 path).
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_runtime.h>

namespace ollm_cuda {

// F32=0, F16=1, BF16=30 and the 12 block formats of decode_matmul_supports.
bool matmul_f32acc_supports(uint32_t ggml_type);

// w: [n, k] of ggml_type, rows row_stride bytes apart (device; alignment as decode_matmul's
// contract, 4 bytes for F32, 2 for F16/BF16) · x: [m, k] f32 · y: [m, n] f32. y = x · wᵀ for any
// m >= 1 (rows go in passes of up to 16 that share each weight load). Asynchronous, no
// allocation; returns cudaErrorInvalidValue for an unsupported type or bad shape.
cudaError_t launch_matmul_f32acc(uint32_t ggml_type, const void* w, int64_t n, int64_t k, size_t row_stride,
                                 const float* x, int64_t m, float* y, cudaStream_t stream);

}  // namespace ollm_cuda
