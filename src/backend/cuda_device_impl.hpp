// The CUDA backend's objects, shared by its device (cuda_device.cpp), its op set
// (cuda_backend.cpp) and its matmul dispatch (cuda_matmul.cpp).
#pragma once

#include <memory>
#include <string>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "backend/backend.hpp"
#include "backend/cuda_memory.hpp"

namespace ollm::backend {

// ggml's type id of a DType (DType's values are ggml's ids).
inline uint32_t ggml_id(DType t) noexcept { return static_cast<uint32_t>(t); }

class CudaDevice final : public Device {
 public:
  CudaDevice(int index, std::string gpu_name);
  std::string name() const override { return "cuda:" + std::to_string(index_); }
  std::string display_name() const override;
  // Every op under Numerics::standard and Numerics::exact; Numerics::llamacpp (llama.cpp's CPU
  // rounding steps, reproduced for comparisons) is the CPU backend's alone.
  bool supports(Op op, DType type, Numerics numerics) const override;
  std::unique_ptr<WeightStore> create_weight_store() override;
  std::unique_ptr<Backend> create_backend(const BackendOptions& options) override;
  int index() const noexcept { return index_; }

 private:
  int index_;
  std::string gpu_name_;
};

std::unique_ptr<Backend> make_cuda_backend(const CudaDevice& device, const BackendOptions& options);

}  // namespace ollm::backend
