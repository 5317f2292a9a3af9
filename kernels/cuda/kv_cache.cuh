// Writing K/V rows into the paged KV cache on the GPU. A layer's K (or V) storage is one arena
// of n_blocks * block_tokens token rows, token_bytes each, so cache slot s (block id *
// block_tokens + slot in block) is at arena + s * token_bytes. Rows are stored as
// ollm::cpu::quantize_row stores them: F32 as is, F16/BF16 rounded to nearest even, Q8_0 as
// ggml's blocks (d = amax / 127 stored as fp16, q = round(x / d) with roundf; d = 0 gives q = 0).
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_runtime.h>

namespace ollm_cuda {

// KV element types (ggml ids): F32=0, F16=1, Q8_0=8, BF16=30.
bool kv_type_supported(uint32_t ggml_type);

// src: [n_rows, dim] f32 · slots: [n_rows] (device) · arena: the layer's storage; each row is
// dim elements of kv_type at arena + slots[r] * token_bytes (dim % 32 == 0 for Q8_0).
cudaError_t launch_kv_append(uint32_t kv_type, const float* src, int64_t n_rows, int64_t dim, const int32_t* slots,
                             uint8_t* arena, size_t token_bytes, cudaStream_t stream);

}  // namespace ollm_cuda
