// Quantized matmul on the GPU: y = x · wᵀ for a GGUF-quantized weight w and f32 activations x.
// The contract the CUDA backend codes against (C++17 header: nvcc here cannot take C++20).
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_runtime.h>

namespace ollm_cuda {

// Whether decode_matmul takes this ggml type id (Q4_0=2, Q4_1=3, Q5_0=6, Q5_1=7, Q8_0=8, Q2_K=10,
// Q3_K=11, Q4_K=12, Q5_K=13, Q6_K=14, IQ4_NL=20, IQ4_XS=23).
bool decode_matmul_supports(uint32_t ggml_type);

// w: [n, k] of ggml_type, rows row_stride bytes apart, device memory · x: [m, k] f32 device ·
// y: [m, n] f32 device. y = x · wᵀ for any m (m <= 16: the dp4a decode kernel; larger m:
// dequantize tiles of w to f16 + cublasGemmEx). k must be a whole number of blocks; w and
// row_stride must be 4-byte aligned for Q4_1, Q5_1, Q2_K, Q4_K, Q5_K, IQ4_XS and 2-byte aligned
// for the others (cudaErrorMisalignedAddress otherwise). scratch: device memory of at least
// decode_matmul_scratch_bytes(m, k) bytes, any alignment. Returns cudaSuccess, a validation
// error (cudaErrorInvalidValue: unsupported type, bad shape, small scratch), or the launch /
// cuBLAS error; never throws, never prints. Asynchronous on `stream`. m <= 16 launches kernels
// only (no allocation, no cuBLAS), so it can be captured in a CUDA graph.
cudaError_t decode_matmul(uint32_t ggml_type, const void* w, int64_t n, int64_t k, size_t row_stride,
                          const float* x, int64_t m, float* y, void* scratch, size_t scratch_bytes, cudaStream_t stream);

// Bytes of scratch decode_matmul needs for m rows of k (quantized activations for m <= 16; f16
// activations plus one dequantized f16 weight tile for larger m).
size_t decode_matmul_scratch_bytes(int64_t m, int64_t k);

}  // namespace ollm_cuda
