// The vocabulary shared by the model layer and every backend: the op set, weight references,
// the KV cache's layout and one step's indices. Device-neutral: no pointer here is dereferenced
// by the model layer; each is a device address that only the backend that made it reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "ollm/types.hpp"

namespace ollm::backend {

// The fixed op set of a Backend (backend.hpp documents each op's shapes).
enum class Op {
  embedding,         // gather rows of an embedding table (any readable type) into f32
  rms_norm,
  layer_norm,
  matmul,            // y = x · wᵀ on a weight type, one or many rows
  matmul_experts,    // the grouped mixture-of-experts matmul
  rope,
  kv_append,         // K/V rows into the paged cache, in the cache's type
  attention,         // over a paged block table (causal, GQA, sliding window, soft-cap, sinks)
  gated_activation,
  add,               // residual add
  add_bias,
  scale,
  softcap,
  router_top_k,      // softmax, top-k, optional renormalisation
  expert_combine,    // weighted sum of the selected experts' outputs
  gather_rows,       // the rows that produce logits
  copy_columns,      // a column range of one matrix into another (fused q|k|v split)
};
std::string_view op_name(Op op) noexcept;

// A [n_rows, n_cols] matrix of `type` (blocks along n_cols), rows row_stride bytes apart, at a
// device address. On the CPU that address is the mapped file itself (zero copy).
struct Weight {
  DType type = DType::f32;
  const void* data = nullptr;
  int64_t n_rows = 0;
  int64_t n_cols = 0;
  size_t row_stride = 0;
  bool empty() const noexcept { return data == nullptr; }
};

// A small f32 vector (norm weights, biases) at a device address; size 0 when the model has none.
struct Vector {
  const float* data = nullptr;
  int64_t size = 0;
  bool empty() const noexcept { return size == 0; }
};

// The KV cache: per layer, n_blocks blocks of block_tokens tokens; a token's K row is
// [n_kv_heads, head_dim] of `type`, its V row [n_kv_heads, head_dim_v].
struct KvLayout {
  int64_t n_layers = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  int head_dim_v = 0;
  DType type = DType::f16;
  int64_t block_tokens = 16;
  int64_t n_blocks = 0;

  size_t k_token_bytes() const;
  size_t v_token_bytes() const;
  uint64_t total_bytes() const;
};

// One sequence of a step: batch rows [first_row, first_row + n_rows) hold its positions
// n_cached .. n_cached + n_rows - 1; its keys are its first n_cached + n_rows tokens, in the
// blocks block_table[table_offset .. table_offset + ceil(keys / block_tokens)).
struct StepSequence {
  int64_t first_row = 0;
  int64_t n_rows = 0;
  int64_t n_cached = 0;
  int64_t table_offset = 0;
};

// A step's indices as the model layer builds them on the host; Backend::upload_step copies
// them to the device once, and the ops of that step read the copy.
struct StepIndices {
  std::vector<int32_t> tokens;       // [n_rows]
  std::vector<int32_t> positions;    // [n_rows]
  std::vector<int32_t> kv_slots;     // [n_rows]: block id * block_tokens + slot of each row's K/V
  std::vector<int32_t> block_table;  // every sequence's block ids, concatenated
  std::vector<int32_t> logit_rows;   // rows whose final hidden state feeds the output
  std::vector<StepSequence> sequences;
};

// The same indices at device addresses (valid until the next upload_step); `sequences` stays a
// host copy because the backend's own dispatch reads it.
struct DeviceStep {
  int64_t n_rows = 0;
  int64_t n_logit_rows = 0;
  const int32_t* tokens = nullptr;
  const int32_t* positions = nullptr;
  const int32_t* kv_slots = nullptr;
  const int32_t* block_table = nullptr;
  const int32_t* logit_rows = nullptr;
  std::vector<StepSequence> sequences;
};

}  // namespace ollm::backend
