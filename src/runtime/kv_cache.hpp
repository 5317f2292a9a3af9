// The KV cache: per layer, one arena of fixed-size blocks (block_tokens tokens of
// [n_kv_heads, head_dim] K rows and [n_kv_heads, head_dim_v] V rows). A sequence owns a list of
// block ids; token t of a sequence lives in block ids[t / block_tokens]. Planned up front from the
// caller's budget; blocks (not sequences) are the unit so paging and prefix sharing can come
// later without a new layout.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "ollm/types.hpp"

namespace ollm::runtime {

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

class KvCache {
 public:
  explicit KvCache(const KvLayout& layout);

  const KvLayout& layout() const noexcept { return layout_; }
  int64_t free_blocks() const noexcept { return static_cast<int64_t>(free_.size()); }
  // A free block id, or -1 when the cache is full.
  int32_t allocate_block() noexcept;
  void free_block(int32_t id) noexcept;

  uint8_t* k_block(int64_t layer, int32_t id) noexcept {
    return k_[static_cast<size_t>(layer)].get() + static_cast<size_t>(id) * k_block_bytes_;
  }
  uint8_t* v_block(int64_t layer, int32_t id) noexcept {
    return v_[static_cast<size_t>(layer)].get() + static_cast<size_t>(id) * v_block_bytes_;
  }

 private:
  KvLayout layout_;
  size_t k_block_bytes_ = 0, v_block_bytes_ = 0;
  // Allocated without initialisation: pages are touched (and counted as resident) only when
  // a block is first written.
  std::vector<std::unique_ptr<uint8_t[]>> k_, v_;
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
bool reserve_tokens(KvCache& cache, KvSequence& seq, int64_t tokens);
void release(KvCache& cache, KvSequence& seq);

}  // namespace ollm::runtime
