// The single-threaded building block of CPU attention (kernels/cpu/attention_kernels.cpp, compiled
// per ISA): a set of query rows against one key range, producing the
// unnormalised online-softmax state that the driver (attention.cpp) finalises or merges.
#pragma once

#include <cstdint>

#include "cpu/attention.hpp"
#include "cpu/isa_variant.hpp"

namespace ollm::cpu {

// n_rows query rows (any count), processed in register-sized chunks of consecutive rows that read
// the same KV head. Keys are streamed token by token (whole [n_kv_heads, dim] rows when the rows
// cover every KV head, the decode case, so memory is read front to back).
struct AttentionRows {
  int n_rows;
  const float* const* q;       // [n_rows] -> head_dim f32 each, unscaled
  const int32_t* pos;          // [n_rows] positions (causal / window masks)
  const int* kv_head;          // [n_rows] the KV head each row reads
  int64_t key_begin, key_end;  // keys considered: [key_begin, key_end), within the views
  float* const* acc;           // [n_rows] -> head_dim_v f32 each: written with sum_j e^(s_j - m) v_j
  float* m;                    // [n_rows] written: max visible score (-inf when none)
  float* l;                    // [n_rows] written: sum_j e^(s_j - m) (0 when none)
};

}  // namespace ollm::cpu

OLLM_DECLARE_ISA_KERNEL(void attention_rows(const ollm::cpu::AttentionParams& p, const ollm::cpu::KvView& k,
                                            const ollm::cpu::KvView& v, const ollm::cpu::AttentionRows& rows))
