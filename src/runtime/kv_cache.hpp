// The KV cache's host side: the block allocator. Per layer the cache is one arena of fixed-size
// blocks (block_tokens tokens of K and V rows) held by the backend (backend::KvStorage); here
// are the plan of that layout and the free list of block ids. A sequence owns a list of block
// ids; token t of a sequence lives in block ids[t / block_tokens]. Blocks (not sequences) are the
// unit so paging and prefix sharing can come later without a new layout.
#pragma once

#include <cstdint>
#include <vector>

#include "backend/types.hpp"
#include "ollm/types.hpp"

namespace ollm::runtime {

using backend::KvLayout;
// Bounds of the plan: positions are int32 in the forward pass, and a block is the unit of
// allocation (a larger one only wastes the tail of every sequence's last block).
inline constexpr int64_t max_block_tokens = 65536;
inline constexpr int64_t max_cache_tokens = INT32_MAX;

// Blocks for max_tokens (rounded up to whole blocks), or as many as fit max_bytes when that is
// non-zero and smaller (max_tokens 0: max_bytes alone decides). Throws invalid_argument naming
// the setting for a block size or token budget out of range or a budget that holds not even one
// block, out_of_memory for a cache larger than the address space.
KvLayout plan_kv_cache(int64_t n_layers, int n_kv_heads, int head_dim, int head_dim_v, DType type,
                       int64_t block_tokens, int64_t max_tokens, uint64_t max_bytes);

// Which blocks are free. Holds no KV memory: the backend's KvStorage for the same layout does.
class KvBlockAllocator {
 public:
  // Throws Error(internal) for a layout that plan_kv_cache would not have made.
  explicit KvBlockAllocator(const KvLayout& layout);

  const KvLayout& layout() const noexcept { return layout_; }
  int64_t free_blocks() const noexcept { return static_cast<int64_t>(free_.size()); }
  // A free block id, or -1 when the cache is full.
  int32_t allocate_block() noexcept;
  void free_block(int32_t id) noexcept;


 private:
  KvLayout layout_;
  std::vector<int32_t> free_;
};

// One sequence's blocks and how many of its tokens are in them.
struct KvSequence {
  std::vector<int32_t> blocks;
  int64_t n_tokens = 0;

  int64_t capacity(int64_t block_tokens) const noexcept {
    return static_cast<int64_t>(blocks.size()) * block_tokens;
  }
};

// Grows seq to hold `tokens` tokens. Returns false (allocating nothing) when the cache lacks
// the blocks.
bool reserve_tokens(KvBlockAllocator& cache, KvSequence& seq, int64_t tokens);
void release(KvBlockAllocator& cache, KvSequence& seq);

}  // namespace ollm::runtime
