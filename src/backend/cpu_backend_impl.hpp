// The CPU backend's objects, shared by its device (cpu_device.cpp) and its ops (cpu_backend.cpp).
#pragma once

#include <memory>
#include <vector>

#include "backend/backend.hpp"

namespace ollm::backend {

class CpuBuffer final : public Buffer {
 public:
  explicit CpuBuffer(size_t bytes);
  ~CpuBuffer() override;
  void* data() noexcept override { return data_; }
  size_t size() const noexcept override { return size_; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

// Per layer, one arena of n_blocks blocks for K and one for V; block `id` of a layer starts at
// id * block bytes.
class CpuKvStorage final : public KvStorage {
 public:
  explicit CpuKvStorage(const KvLayout& layout);
  const KvLayout& layout() const noexcept override { return layout_; }
  uint8_t* k_block(int64_t layer, int32_t id) noexcept {
    return k_[static_cast<size_t>(layer)].get() + static_cast<size_t>(id) * k_block_bytes_;
  }
  uint8_t* v_block(int64_t layer, int32_t id) noexcept {
    return v_[static_cast<size_t>(layer)].get() + static_cast<size_t>(id) * v_block_bytes_;
  }

 private:
  KvLayout layout_;
  size_t k_block_bytes_ = 0, v_block_bytes_ = 0;
  std::vector<std::unique_ptr<uint8_t[]>> k_, v_;
};

std::unique_ptr<Backend> make_cpu_backend(const Device& device, const BackendOptions& options);

}  // namespace ollm::backend
