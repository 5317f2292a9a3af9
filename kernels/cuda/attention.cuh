// Attention over the paged KV cache on the GPU, for a mixed batch of sequences (prefill chunks
// and decode rows together), with the CPU kernel's semantics (kernels/cpu/attention.cpp):
// causal (key j visible to a query at position p iff j <= p), sliding window (also p - j <
// window), soft-capped scores, GQA (query head h reads KV head h / (n_heads / n_kv_heads)),
// sink logits in the softmax denominator only; a query that sees no key and has no sink gets a
// zero row. Scores and the online softmax are f32 (expf, not the fast intrinsic).
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_runtime.h>

namespace ollm_cuda {

// One sequence of the step, as the host's StepSequence (backend/types.hpp).
struct AttnSequence {
  int64_t first_row;    // its rows in the batch: [first_row, first_row + n_rows)
  int64_t n_rows;
  int64_t n_keys;       // n_cached + n_rows: its keys are positions 0 .. n_keys - 1
  int64_t table_offset; // its block ids: block_table[table_offset ..]
};

struct AttnParams {
  int n_heads, n_kv_heads, head_dim, head_dim_v;  // head dims up to 256; n_heads % n_kv_heads == 0
  float scale;                                    // applied to q.k before the soft-cap
  float softcap;                                  // 0 = off; else s = softcap * tanh(s / softcap)
  bool causal;
  int64_t window;                                 // 0 = none
  const float* sinks;                             // [n_heads] device, or null
};

// q: [n_rows_total, n_heads, head_dim] f32 · positions: [n_rows_total] int32 (device) ·
// sequences: [n_seqs] (device) · block_table: int32 block ids (device) · k_arena / v_arena: the
// layer's K and V storage (kv_cache.cuh's layout) of kv_type (F32, F16, BF16, Q8_0) with
// k_token_bytes / v_token_bytes per token row · out: [n_rows_total, n_heads, head_dim_v] f32.
// max_keys: the largest n_keys of any sequence (the host knows it; sizes the split-KV grid).
// scratch: device memory of attention_scratch_bytes() for the split-KV partials of long decode
// rows, used only by work on `stream` (null: no split; slower for few rows with many keys).
cudaError_t launch_paged_attention(const AttnParams& p, uint32_t kv_type, const float* q, const int32_t* positions,
                                   const AttnSequence* sequences, int n_seqs, int64_t n_rows_total, int64_t max_keys,
                                   const int32_t* block_table, int64_t block_tokens, const uint8_t* k_arena,
                                   size_t k_token_bytes, const uint8_t* v_arena, size_t v_token_bytes, float* out,
                                   float* scratch, size_t scratch_bytes, cudaStream_t stream);

// Bytes of the split-KV scratch (a constant, about 4.2 MB).
size_t attention_scratch_bytes();

}  // namespace ollm_cuda
