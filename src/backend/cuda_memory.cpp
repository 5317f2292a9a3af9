// The CUDA backend's memory (cuda_memory.hpp).
#include "backend/cuda_memory.hpp"

#include <algorithm>
#include <cstring>

#include "backend/cuda_support.hpp"
#include "util/fail.hpp"

namespace ollm::backend {
namespace {

// Requests round up to 512 bytes (small) or 64 KiB (large) so that the shapes of consecutive
// steps, which differ by a few rows, land on blocks the pool already holds.
size_t round_request(size_t bytes) {
  const size_t granule = bytes < (size_t{1} << 20) ? 512 : size_t{64} << 10;
  return (std::max<size_t>(bytes, 1) + granule - 1) / granule * granule;
}

}  // namespace

CudaMemoryPool::~CudaMemoryPool() {
  std::lock_guard lock(mutex_);
  trim();
}

void CudaMemoryPool::trim() noexcept {
  for (auto& [capacity, block] : free_) (void)cudaFree(block);
  free_.clear();
  cached_ = 0;
}

size_t CudaMemoryPool::cached_bytes() const {
  std::lock_guard lock(mutex_);
  return cached_;
}

void* CudaMemoryPool::acquire(size_t bytes, size_t& capacity) {
  const size_t want = round_request(bytes);
  std::lock_guard lock(mutex_);
  if (auto it = free_.lower_bound(want); it != free_.end() && it->first <= 2 * want) {
    capacity = it->first;
    void* block = it->second;
    cached_ -= it->first;
    free_.erase(it);
    return block;
  }
  cuda_use_device(device_);
  void* block = nullptr;
  cudaError_t err = cudaMalloc(&block, want);
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    trim();  // cached blocks of other sizes may be what stands in the way
    err = cudaMalloc(&block, want);
  }
  if (err == cudaErrorMemoryAllocation) cuda_out_of_memory(device_, want, "[cuda] scratch buffer");
  cuda_check(err, "[cuda] scratch buffer");
  capacity = want;
  return block;
}

void CudaMemoryPool::release(void* block, size_t capacity) noexcept {
  if (!block) return;
  try {
    std::lock_guard lock(mutex_);
    free_.emplace(capacity, block);
    cached_ += capacity;
  } catch (...) {
    (void)cudaFree(block);  // no room to remember it: give it back to the driver
  }
}

CudaBuffer::CudaBuffer(std::shared_ptr<CudaMemoryPool> pool, size_t bytes) : pool_(std::move(pool)), size_(bytes) {
  data_ = pool_->acquire(bytes, capacity_);
}

// Work queued on the backend's stream may still read or write this block; the pool hands it out
// again only to work queued later on the same stream (one stream per backend, in order), and
// cudaFree of a block implicitly waits for the device. A buffer used on two streams would need an
// event here.
CudaBuffer::~CudaBuffer() { pool_->release(data_, capacity_); }

PinnedBuffer::PinnedBuffer(size_t bytes) : size_(bytes) {
  void* p = nullptr;
  const cudaError_t err = cudaHostAlloc(&p, std::max<size_t>(bytes, 1), cudaHostAllocDefault);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    fail(ErrorCode::out_of_memory, "[cuda] cannot pin {} bytes of host memory for staging: {}", bytes,
         cudaGetErrorString(err));
  }
  data_ = static_cast<uint8_t*>(p);
}

PinnedBuffer::~PinnedBuffer() { (void)cudaFreeHost(data_); }

StagedUploader::StagedUploader() {
  cuda_check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "[cuda] weight upload stream");
  try {
    for (int i = 0; i < 2; ++i) {
      chunk_[i] = std::make_unique<PinnedBuffer>(chunk_bytes);
      cuda_check(cudaEventCreateWithFlags(&done_[i], cudaEventDisableTiming), "[cuda] weight upload event");
    }
  } catch (const Error& e) {
    if (e.code() != ErrorCode::out_of_memory) throw;
    chunk_[0].reset();  // no pinned memory: copy directly from the source (synchronous, slower)
    chunk_[1].reset();
  }
}

StagedUploader::~StagedUploader() {
  if (stream_) (void)cudaStreamSynchronize(stream_);
  for (cudaEvent_t e : done_)
    if (e) (void)cudaEventDestroy(e);
  if (stream_) (void)cudaStreamDestroy(stream_);
}

void StagedUploader::copy(const void* host, void* device, size_t bytes) {
  const auto* src = static_cast<const uint8_t*>(host);
  auto* dst = static_cast<uint8_t*>(device);
  if (!chunk_[0] || !chunk_[1]) {
    cuda_check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "[cuda] weight upload");
    return;
  }
  size_t done = 0;
  for (int i = 0; done < bytes; i ^= 1) {
    const size_t n = std::min(chunk_bytes, bytes - done);
    // Chunk i was last used two chunks ago: its DMA must be over before it is overwritten.
    cuda_check(cudaEventSynchronize(done_[i]), "[cuda] weight upload");
    std::memcpy(chunk_[i]->data(), src + done, n);
    cuda_check(cudaMemcpyAsync(dst + done, chunk_[i]->data(), n, cudaMemcpyHostToDevice, stream_),
               "[cuda] weight upload");
    cuda_check(cudaEventRecord(done_[i], stream_), "[cuda] weight upload");
    done += n;
  }
  cuda_check(cudaStreamSynchronize(stream_), "[cuda] weight upload");
}

CudaKvStorage::CudaKvStorage(int device, const KvLayout& layout) : layout_(layout) {
  const size_t k_block = layout.k_token_bytes() * static_cast<size_t>(layout.block_tokens);
  const size_t v_block = layout.v_token_bytes() * static_cast<size_t>(layout.block_tokens);
  size_t k_arena = 0, v_arena = 0;
  if (layout.n_blocks <= 0 || layout.n_blocks > INT32_MAX ||
      __builtin_mul_overflow(k_block, static_cast<size_t>(layout.n_blocks), &k_arena) ||
      __builtin_mul_overflow(v_block, static_cast<size_t>(layout.n_blocks), &v_arena) || k_arena == 0 ||
      v_arena == 0)
    fail(ErrorCode::internal, "[kv-cache] layout of {} blocks x {} tokens is not a planned one", layout.n_blocks,
         layout.block_tokens);
  cuda_use_device(device);
  for (int64_t i = 0; i < layout.n_layers; ++i) {
    for (auto [arena, bytes] : {std::pair{&k_, k_arena}, std::pair{&v_, v_arena}}) {
      void* p = nullptr;
      const cudaError_t err = cudaMalloc(&p, bytes);
      if (err != cudaSuccess) {
        free_arenas();
        if (err == cudaErrorMemoryAllocation)
          cuda_out_of_memory(device, layout.total_bytes(),
                             fmt::format("[kv-cache] {} blocks of {} tokens x {} layers", layout.n_blocks,
                                         layout.block_tokens, layout.n_layers));
        cuda_check(err, "[kv-cache] allocation");
      }
      arena->push_back(static_cast<uint8_t*>(p));
    }
  }
}

CudaKvStorage::~CudaKvStorage() { free_arenas(); }

void CudaKvStorage::free_arenas() noexcept {
  for (uint8_t* p : k_) (void)cudaFree(p);
  for (uint8_t* p : v_) (void)cudaFree(p);
}

}  // namespace ollm::backend
