// Rotary position embeddings on the GPU, with the frequencies the host prepared
// (cpu::make_rope_table: every scaling variant, and llama.cpp's freq divisors, are already in
// inv_freq and mscale). Rounds as kernels/cpu/ops_rope.cpp: angle = f32(pos) * inv_freq[i]
// rounded to f32, cos and sin of that angle evaluated in double and rounded to f32, times
// mscale, then x' = x0*c - x1*s, x1' = x0*s + x1*c in f32.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace ollm_cuda {

// x: [n_tok, n_heads, head_dim] f32, rotated in place · pos: [n_tok] int32 (device) ·
// inv_freq: [rot_dims / 2] f32 (device). neox: dims (i, i + rot_dims/2) form pair i; else
// (2i, 2i+1). Dims >= rot_dims are untouched.
cudaError_t launch_rope(float* x, int64_t n_tok, int n_heads, int head_dim, int rot_dims, bool neox,
                        const float* inv_freq, float mscale, const int32_t* pos, cudaStream_t stream);

}  // namespace ollm_cuda
