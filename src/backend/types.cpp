// Names of the ops and the KV layout's sizes.
#include <limits>

#include "backend/types.hpp"

namespace ollm::backend {
namespace {

bool mul_fits(uint64_t a, uint64_t b, uint64_t& out) { return !__builtin_mul_overflow(a, b, &out); }

}  // namespace

std::string_view op_name(Op op) noexcept {
  switch (op) {
    case Op::embedding: return "embedding";
    case Op::rms_norm: return "rms_norm";
    case Op::layer_norm: return "layer_norm";
    case Op::matmul: return "matmul";
    case Op::matmul_experts: return "matmul_experts";
    case Op::rope: return "rope";
    case Op::kv_append: return "kv_append";
    case Op::attention: return "attention";
    case Op::gated_activation: return "gated_activation";
    case Op::add: return "add";
    case Op::add_bias: return "add_bias";
    case Op::scale: return "scale";
    case Op::softcap: return "softcap";
    case Op::router_top_k: return "router_top_k";
    case Op::expert_combine: return "expert_combine";
    case Op::gather_rows: return "gather_rows";
    case Op::copy_columns: return "copy_columns";
  }
  return "unknown";
}

size_t KvLayout::k_token_bytes() const { return dtype_row_bytes(type, static_cast<int64_t>(n_kv_heads) * head_dim); }
size_t KvLayout::v_token_bytes() const { return dtype_row_bytes(type, static_cast<int64_t>(n_kv_heads) * head_dim_v); }
uint64_t KvLayout::total_bytes() const {
  // Planned layouts fit (runtime::plan_kv_cache checks); saturate rather than wrap for hand-made ones.
  uint64_t per_token = 0, per_layer_tokens = 0, out = 0;
  if (!mul_fits(static_cast<uint64_t>(n_blocks), static_cast<uint64_t>(block_tokens), per_layer_tokens) ||
      !mul_fits(per_layer_tokens, static_cast<uint64_t>(n_layers), per_token) ||
      !mul_fits(per_token, k_token_bytes() + v_token_bytes(), out))
    return std::numeric_limits<uint64_t>::max();
  return out;
}

}  // namespace ollm::backend
