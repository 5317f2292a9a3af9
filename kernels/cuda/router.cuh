// The mixture-of-experts router on the GPU: softmax over each row of router logits, then the
// k most probable experts. Semantics as the CPU's (kernels/cpu/ops_elementwise.cpp softmax,
// kernels/cpu/top_k.cpp): max subtracted; a row of all -inf becomes zeros; a NaN anywhere makes
// the row NaN; in top-k a NaN counts as -inf and ties go to the lower id.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace ollm_cuda {

// logits: [rows, n_experts] f32, replaced by their softmax · ids, weights: [rows, k] the selected
// expert ids (descending probability) and their probabilities, divided by their sum when
// `renormalize`. 1 <= k <= n_experts <= 1024, k <= 64.
cudaError_t launch_router_top_k(float* logits, int64_t rows, int64_t n_experts, int64_t k, bool renormalize,
                                int32_t* ids, float* weights, cudaStream_t stream);

}  // namespace ollm_cuda
