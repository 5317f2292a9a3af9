// RMS and layer normalisation rows on the GPU: one block per row, f32 input, statistics summed
// in f32 by a fixed-shape tree reduction (the same result on every run).
// Asynchronous on `stream`, no allocation; returns the launch error.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace ollm_cuda {

// x, y: [rows, n] (y may be x) · w: [n] or null. y = x / sqrt(mean(x^2) + eps) * w.
cudaError_t launch_rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps,
                            cudaStream_t stream);
// x, y: [rows, n] (y may be x) · w, b: [n] or null. y = (x - mean) / sqrt(var + eps) * w + b
// (var the biased variance, computed from the mean in a second pass over the row).
cudaError_t launch_layer_norm(const float* x, const float* w, const float* b, float* y, int64_t rows, int64_t n,
                              float eps, cudaStream_t stream);

}  // namespace ollm_cuda
