// Device memory of the CUDA backend: a caching pool over cudaMalloc for scratch buffers (a step's
// buffers are freed and re-asked for as batch shapes change; cudaMalloc/cudaFree synchronise the
// device, the pool does not), Buffer objects that return their block to the pool, pinned host
// staging for uploads, and the paged KV cache's storage. No managed memory anywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <cuda_runtime.h>

#include "backend/backend.hpp"

namespace ollm::backend {

// bytes rounded up to a multiple of `to` (sub-buffers carved from one scratch block).
constexpr size_t align_up(size_t bytes, size_t to) { return (bytes + to - 1) / to * to; }

class CudaMemoryPool {
 public:
  explicit CudaMemoryPool(int device) : device_(device) {}
  ~CudaMemoryPool();  // frees every cached block (blocks still handed out belong to live Buffers)
  CudaMemoryPool(const CudaMemoryPool&) = delete;
  CudaMemoryPool& operator=(const CudaMemoryPool&) = delete;

  // A block of at least `bytes` (its real size in `capacity`), 256-byte aligned. A cached block
  // is reused when it is at most twice the size asked; on cudaMalloc failure every cached block
  // is freed and the allocation retried once before Error(out_of_memory) names the bytes.
  void* acquire(size_t bytes, size_t& capacity);
  void release(void* block, size_t capacity) noexcept;
  int device() const noexcept { return device_; }
  size_t cached_bytes() const;

 private:
  void trim() noexcept;  // frees every cached block; mutex held

  int device_;
  mutable std::mutex mutex_;
  std::multimap<size_t, void*> free_;  // capacity -> block
  size_t cached_ = 0;
};

class CudaBuffer final : public Buffer {
 public:
  CudaBuffer(std::shared_ptr<CudaMemoryPool> pool, size_t bytes);
  ~CudaBuffer() override;
  void* data() noexcept override { return data_; }
  size_t size() const noexcept override { return size_; }

 private:
  std::shared_ptr<CudaMemoryPool> pool_;  // the pool outlives every buffer taken from it
  void* data_ = nullptr;
  size_t size_ = 0, capacity_ = 0;
};

// Host memory the GPU can copy from asynchronously (cudaHostAlloc), freed on destruction.
class PinnedBuffer {
 public:
  explicit PinnedBuffer(size_t bytes);  // throws out_of_memory
  ~PinnedBuffer();
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  uint8_t* data() noexcept { return data_; }
  size_t size() const noexcept { return size_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Host -> device copies of large ranges (weights from the mapped file) through two pinned
// staging chunks, so the memcpy out of the page cache overlaps the DMA of the previous chunk.
// Falls back to cudaMemcpy from the source itself when pinned memory cannot be had.
class StagedUploader {
 public:
  static constexpr size_t chunk_bytes = size_t{16} << 20;
  StagedUploader();
  ~StagedUploader();
  StagedUploader(const StagedUploader&) = delete;
  StagedUploader& operator=(const StagedUploader&) = delete;
  // Copies bytes from host to device and waits for the copy to complete.
  void copy(const void* host, void* device, size_t bytes);

 private:
  cudaStream_t stream_ = nullptr;
  std::unique_ptr<PinnedBuffer> chunk_[2];
  cudaEvent_t done_[2] = {nullptr, nullptr};
};

// The paged KV cache on the device: per layer one K arena and one V arena of n_blocks *
// block_tokens token rows (kernels/cuda/kv_cache.cuh's layout: slot s at arena + s * token bytes).
class CudaKvStorage final : public KvStorage {
 public:
  CudaKvStorage(int device, const KvLayout& layout);
  ~CudaKvStorage() override;
  const KvLayout& layout() const noexcept override { return layout_; }
  uint8_t* k_arena(int64_t layer) const noexcept { return k_[static_cast<size_t>(layer)]; }
  uint8_t* v_arena(int64_t layer) const noexcept { return v_[static_cast<size_t>(layer)]; }

 private:
  void free_arenas() noexcept;

  KvLayout layout_;
  std::vector<uint8_t*> k_, v_;
};

}  // namespace ollm::backend
