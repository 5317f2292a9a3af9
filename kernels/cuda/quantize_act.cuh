// Activation preparation for the quantized matmul: int8 groups for the decode kernel, scaled f16
// rows for the cuBLAS prefill path. Internal to kernels/cuda (matmul_quant.cu calls these).
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace ollm_cuda {

// x: [m, k] f32 · xq: [m, k/32, 8] int32 (32 int8 codes per group) · xd: [m, k/32] f32 scales ·
// xs: [m, k/32] packed int16 half sums (quantize_act_group in quant_decode.cuh). k % 32 == 0;
// xq 16-byte aligned.
cudaError_t launch_quantize_act(const float* x, int64_t m, int64_t k, int32_t* xq, float* xd, int32_t* xs,
                                cudaStream_t stream);

// x: [m, k] f32 · x16: [m, k] fp16 bits · scale: [m] f32. Row r is written as x / scale[r], with
// scale[r] a power of two chosen so that the row's largest magnitude is below 2^14: f16 cannot
// overflow whatever the activations' range, and dividing / multiplying back is exact.
cudaError_t launch_act_to_f16_scaled(const float* x, int64_t m, int64_t k, uint16_t* x16, float* scale,
                                     cudaStream_t stream);

// y: [m, n] f32, row r multiplied by scale[r] in place.
cudaError_t launch_scale_rows(float* y, int64_t m, int64_t n, const float* scale, cudaStream_t stream);

}  // namespace ollm_cuda
