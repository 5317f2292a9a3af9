// Embedding gather on the GPU: rows of a table in any GGUF type the CPU backend reads, decoded
// to f32 bit-exactly as ollm::cpu::dequantize_row (the quant_decode.cuh decoders for the block
// formats; exact conversions for F32/F16/BF16).
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_runtime.h>

namespace ollm_cuda {

// Whether launch_embedding takes this ggml type id (F32=0, F16=1, BF16=30 and the 12 block
// formats of decode_matmul_supports).
bool embedding_supports(uint32_t ggml_type);

// table: [vocab, n] of ggml_type, rows row_stride bytes apart (device) · ids: [n_tok] in
// [0, vocab) (device) · out: [n_tok, n] f32. n is a whole number of blocks.
cudaError_t launch_embedding(uint32_t ggml_type, const void* table, size_t row_stride, int64_t n, const int32_t* ids,
                             int64_t n_tok, float* out, cudaStream_t stream);

}  // namespace ollm_cuda
