// The two quantized-matmul kernel families behind decode_matmul (matmul_quant.cu), internal to
// kernels/cuda: the dp4a decode kernel (matmul_decode.cu) and the f16 tile dequantizer of the
// prefill path (matmul_dequant.cu). Both take an already validated ggml type, shape and alignment.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_runtime.h>

namespace ollm_cuda {

// Quantized activations as launch_quantize_act writes them: [m, k/32] groups.
struct ActQ8 {
  const int32_t* q;  // [m, k/32, 8] packed int8 codes, 16-byte aligned
  const float* d;    // [m, k/32] scales
  const int32_t* s;  // [m, k/32] packed int16 half sums
};

// w: [n, k] of ggml_type (rows row_stride bytes apart) · a: m <= 16 rows of k quantized ·
// y: [m, n] f32. One warp per output row, kDecodeWarps rows per block; all m rows share each
// weight group load.
cudaError_t launch_decode_matmul(uint32_t ggml_type, const uint8_t* w, int64_t n, int64_t k, size_t row_stride,
                                 const ActQ8& a, int m, float* y, cudaStream_t stream);

// w: [rows, k] of ggml_type (rows row_stride bytes apart) · out: [rows, k] fp16 bits, 16-byte
// aligned, dense (row r at out + r*k). Each value is the CPU dequantizer's f32, rounded to f16.
cudaError_t launch_dequantize_f16(uint32_t ggml_type, const uint8_t* w, int64_t rows, int64_t k, size_t row_stride,
                                  uint16_t* out, cudaStream_t stream);

}  // namespace ollm_cuda
