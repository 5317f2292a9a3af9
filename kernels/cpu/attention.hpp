// Flash-style attention on the CPU over a block-based KV cache: online softmax over key tiles (no
// [n_q, n_kv] score matrix), GQA/MQA, causal or bidirectional, sliding window, soft-capping and
// attention sinks. Prefill is threaded over (query block, KV head) items; decode splits the key
// range across threads and merges the partial (max, sum, accumulator) triples.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu/isa.hpp"
#include "cpu/thread_pool.hpp"
#include "ollm/ops.hpp"
#include "ollm/types.hpp"

namespace ollm::cpu {

// A sequence's K (or V): block b holds tokens [b*block_tokens, (b+1)*block_tokens); each token's
// row is [n_kv_heads, head_dim] of `type` (F32, F16, BF16, or Q8_0 when head_dim is a multiple of
// 32: each head's slice is whole blocks) contiguous, token_stride bytes apart inside a block. Rows
// may sit at any byte alignment.
struct KvView {
  DType type;
  const void* const* blocks;
  int64_t block_tokens;
  int64_t n_tokens;
  size_t token_stride;
};

using AttentionParams = ollm::AttentionParams;

// Whether attention reads K/V of this type (F32, F16, BF16, Q8_0; Q8_0 needs dims % 32 == 0).
bool attention_supports(DType kv_type) noexcept;

// q: [n_q, n_heads, head_dim] f32 (row stride n_heads*head_dim) · q_pos: [n_q] int32 absolute
// positions (key index == position) · k, v: the cache views (n_tokens keys each) · out: [n_q,
// n_heads, head_dim_v] f32. Query head h reads KV head h / (n_heads / n_kv_heads). A query that
// sees no key gets exp(sink)-only mass, i.e. a zero row. Callers validate (kernels assume):
// positive dims, n_heads % n_kv_heads == 0, supported types, q_pos >= 0, window >= 0.
void attention(const AttentionParams& p, const float* q, const int32_t* q_pos, int64_t n_q, const KvView& k,
               const KvView& v, float* out, ThreadPool& pool, int n_threads);
// The same on a chosen ISA variant (tests run every supported one).
void attention(Isa isa, const AttentionParams& p, const float* q, const int32_t* q_pos, int64_t n_q, const KvView& k,
               const KvView& v, float* out, ThreadPool& pool, int n_threads);

// How the driver divides the work, exposed so tests can prove which path ran.
struct AttentionPlan {
  int64_t queries_per_item;  // consecutive queries that share one pass over the keys
  int heads_per_item;        // KV heads per item: 1 (prefill) or all (decode: whole token rows)
  int64_t n_items;           // query blocks x KV-head blocks
  int kv_splits;             // key-range parts per item (> 1: split-KV decode with a merge step)
};
AttentionPlan plan_attention(const AttentionParams& p, int64_t n_q, int64_t n_keys, int n_threads);

}  // namespace ollm::cpu
