// Block arenas of the KV cache and their free list.
#include "runtime/kv_cache.hpp"

#include <algorithm>

#include "util/fail.hpp"

namespace ollm::runtime {

size_t KvLayout::k_token_bytes() const { return dtype_row_bytes(type, static_cast<int64_t>(n_kv_heads) * head_dim); }
size_t KvLayout::v_token_bytes() const { return dtype_row_bytes(type, static_cast<int64_t>(n_kv_heads) * head_dim_v); }
uint64_t KvLayout::total_bytes() const {
  return static_cast<uint64_t>(n_layers) * static_cast<uint64_t>(n_blocks) * static_cast<uint64_t>(block_tokens) *
         (k_token_bytes() + v_token_bytes());
}

KvLayout plan_kv_cache(int64_t n_layers, int n_kv_heads, int head_dim, int head_dim_v, DType type,
                       int64_t block_tokens, int64_t max_tokens, uint64_t max_bytes) {
  if (type != DType::f32 && type != DType::f16 && type != DType::bf16 && type != DType::q8_0)
    fail(ErrorCode::unsupported, "[kv-cache] type {} is not supported (F32, F16, BF16, Q8_0 are)", dtype_name(type));
  // Q8_0 blocks of 32 values must not straddle heads: attention dequantizes one head's row.
  if (type == DType::q8_0 && (head_dim % 32 != 0 || head_dim_v % 32 != 0))
    fail(ErrorCode::unsupported, "[kv-cache] Q8_0 needs head dims that are multiples of 32 (K {}, V {})", head_dim,
         head_dim_v);
  if (block_tokens <= 0 || max_tokens < 0)
    fail(ErrorCode::invalid_argument, "[kv-cache] block of {} tokens for {} tokens is not a valid plan", block_tokens,
         max_tokens);
  KvLayout l{n_layers, n_kv_heads, head_dim, head_dim_v, type, block_tokens, 0};
  l.n_blocks = (max_tokens + block_tokens - 1) / block_tokens;
  const uint64_t block_bytes = static_cast<uint64_t>(n_layers) * static_cast<uint64_t>(block_tokens) *
                               (l.k_token_bytes() + l.v_token_bytes());
  if (max_bytes > 0) l.n_blocks = std::min<int64_t>(l.n_blocks ? l.n_blocks : INT32_MAX, static_cast<int64_t>(max_bytes / block_bytes));
  if (l.n_blocks <= 0)
    fail(ErrorCode::invalid_argument,
         "[kv-cache] the budget ({} tokens, {} bytes) holds no block of {} tokens ({} bytes)", max_tokens, max_bytes,
         block_tokens, block_bytes);
  if (l.n_blocks > INT32_MAX) l.n_blocks = INT32_MAX;
  return l;
}

KvCache::KvCache(const KvLayout& layout) : layout_(layout) {
  k_block_bytes_ = layout.k_token_bytes() * static_cast<size_t>(layout.block_tokens);
  v_block_bytes_ = layout.v_token_bytes() * static_cast<size_t>(layout.block_tokens);
  const size_t n = static_cast<size_t>(layout.n_blocks);
  try {
    for (int64_t i = 0; i < layout.n_layers; ++i) {
      k_.emplace_back(new uint8_t[k_block_bytes_ * n]);
      v_.emplace_back(new uint8_t[v_block_bytes_ * n]);
    }
  } catch (const std::bad_alloc&) {
    fail(ErrorCode::out_of_memory, "[kv-cache] cannot allocate {} bytes for {} blocks of {} tokens",
         layout.total_bytes(), layout.n_blocks, layout.block_tokens);
  }
  free_.reserve(n);
  for (int64_t id = layout.n_blocks - 1; id >= 0; --id) free_.push_back(static_cast<int32_t>(id));
}

int32_t KvCache::allocate_block() noexcept {
  if (free_.empty()) return -1;
  const int32_t id = free_.back();
  free_.pop_back();
  return id;
}

void KvCache::free_block(int32_t id) noexcept { free_.push_back(id); }

bool reserve_tokens(KvCache& cache, KvSequence& seq, int64_t tokens) {
  const int64_t bt = cache.layout().block_tokens;
  const int64_t need = (tokens + bt - 1) / bt - static_cast<int64_t>(seq.blocks.size());
  if (need <= 0) return true;
  if (need > cache.free_blocks()) return false;
  for (int64_t i = 0; i < need; ++i) seq.blocks.push_back(cache.allocate_block());
  return true;
}

void release(KvCache& cache, KvSequence& seq) {
  for (int32_t id : seq.blocks) cache.free_block(id);
  seq.blocks.clear();
  seq.n_tokens = 0;
}

}  // namespace ollm::runtime
