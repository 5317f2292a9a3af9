// The KV cache plan and its free list of blocks. Every size is computed with checked
// arithmetic: the options come from callers, and a wrapped product would allocate a small arena
// that the forward pass then writes past.
#include "runtime/kv_cache.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "util/fail.hpp"

namespace ollm::runtime {
namespace {

// out = a * b; false when the product does not fit in 64 bits.
bool mul_fits(uint64_t a, uint64_t b, uint64_t& out) { return !__builtin_mul_overflow(a, b, &out); }

int64_t ceil_div(int64_t a, int64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

}  // namespace

KvLayout plan_kv_cache(int64_t n_layers, int n_kv_heads, int head_dim, int head_dim_v, DType type,
                       int64_t block_tokens, int64_t max_tokens, uint64_t max_bytes) {
  if (type != DType::f32 && type != DType::f16 && type != DType::bf16 && type != DType::q8_0)
    fail(ErrorCode::unsupported, "[kv-cache] type {} is not supported (F32, F16, BF16, Q8_0 are)", dtype_name(type));
  // Q8_0 blocks of 32 values must not straddle heads: attention dequantizes one head's row.
  if (type == DType::q8_0 && (head_dim % 32 != 0 || head_dim_v % 32 != 0))
    fail(ErrorCode::unsupported, "[kv-cache] Q8_0 needs head dims that are multiples of 32 (K {}, V {})", head_dim,
         head_dim_v);
  if (block_tokens < 1 || block_tokens > max_block_tokens)
    fail(ErrorCode::invalid_argument, "[kv-cache] kv_block_tokens {} is out of range (1..{})", block_tokens,
         max_block_tokens);
  if (max_tokens < 0 || max_tokens > max_cache_tokens)
    fail(ErrorCode::invalid_argument, "[kv-cache] kv_cache_tokens {} is out of range (0..{})", max_tokens,
         max_cache_tokens);
  if (n_layers <= 0 || n_kv_heads <= 0 || head_dim <= 0 || head_dim_v <= 0)
    fail(ErrorCode::internal, "[kv-cache] model shape {} layers x {} KV heads x {}/{} dims has no KV", n_layers,
         n_kv_heads, head_dim, head_dim_v);
  KvLayout l{n_layers, n_kv_heads, head_dim, head_dim_v, type, block_tokens, 0};
  const uint64_t token_bytes = static_cast<uint64_t>(l.k_token_bytes()) + l.v_token_bytes();
  uint64_t layer_token_bytes = 0, block_bytes = 0;
  if (!mul_fits(token_bytes, static_cast<uint64_t>(n_layers), layer_token_bytes) ||
      !mul_fits(layer_token_bytes, static_cast<uint64_t>(block_tokens), block_bytes) || block_bytes == 0)
    fail(ErrorCode::invalid_argument,
         "[kv-cache] one block of {} tokens over {} layers x {} bytes per token does not fit in 64 bits",
         block_tokens, n_layers, token_bytes);
  // Positions are int32 in the forward pass: the whole cache holds at most max_cache_tokens.
  const int64_t max_blocks = max_cache_tokens / block_tokens;
  int64_t n_blocks = max_tokens > 0 ? ceil_div(max_tokens, block_tokens) : (max_bytes > 0 ? max_blocks : 0);
  if (max_bytes > 0)
    n_blocks = std::min(n_blocks, static_cast<int64_t>(std::min(max_bytes / block_bytes, static_cast<uint64_t>(max_blocks))));
  if (n_blocks <= 0)
    fail(ErrorCode::invalid_argument,
         "[kv-cache] the budget (kv_cache_tokens {}, kv_cache_bytes {}) holds no block of {} tokens ({} bytes)",
         max_tokens, max_bytes, block_tokens, block_bytes);
  l.n_blocks = std::min(n_blocks, max_blocks);
  // One arena per layer of n_blocks blocks: that product must fit in size_t too.
  uint64_t arena = 0, total = 0;
  const uint64_t widest_block = std::max(l.k_token_bytes(), l.v_token_bytes()) * static_cast<uint64_t>(block_tokens);
  if (!mul_fits(static_cast<uint64_t>(l.n_blocks), widest_block, arena) ||
      !mul_fits(block_bytes, static_cast<uint64_t>(l.n_blocks), total) || arena > std::numeric_limits<size_t>::max())
    fail(ErrorCode::out_of_memory, "[kv-cache] {} blocks of {} tokens ({} bytes each) exceed the address space",
         l.n_blocks, block_tokens, block_bytes);
  return l;
}

KvBlockAllocator::KvBlockAllocator(const KvLayout& layout) : layout_(layout) {
  if (layout.n_blocks <= 0 || layout.n_blocks > INT32_MAX || layout.block_tokens <= 0)
    fail(ErrorCode::internal, "[kv-cache] layout of {} blocks x {} tokens is not a planned one", layout.n_blocks,
         layout.block_tokens);
  free_.reserve(static_cast<size_t>(layout.n_blocks));
  for (int64_t id = layout.n_blocks - 1; id >= 0; --id) free_.push_back(static_cast<int32_t>(id));
}

int32_t KvBlockAllocator::allocate_block() noexcept {
  if (free_.empty()) return -1;
  const int32_t id = free_.back();
  free_.pop_back();
  return id;
}

void KvBlockAllocator::free_block(int32_t id) noexcept { free_.push_back(id); }

bool reserve_tokens(KvBlockAllocator& cache, KvSequence& seq, int64_t tokens) {
  if (tokens < 0) return false;
  const int64_t bt = cache.layout().block_tokens;
  const int64_t need = ceil_div(tokens, bt) - static_cast<int64_t>(seq.blocks.size());
  if (need <= 0) return true;
  if (need > cache.free_blocks()) return false;
  for (int64_t i = 0; i < need; ++i) seq.blocks.push_back(cache.allocate_block());
  return true;
}

void release(KvBlockAllocator& cache, KvSequence& seq) {
  for (int32_t id : seq.blocks) cache.free_block(id);
  seq.blocks.clear();
  seq.n_tokens = 0;
}

}  // namespace ollm::runtime
