// The CUDA device: the registry's "cuda:N", which ops and types the kernels in kernels/cuda take,
// and weight placement (each matrix copied once into its own device allocation through pinned
// staging, reporting the bytes placed so the model load's progress callback advances).
#include <cuda_runtime.h>

#include <mutex>
#include <vector>

#include "backend/cuda_device.hpp"
#include "backend/cuda_device_impl.hpp"
#include "backend/cuda_support.hpp"
#include "cuda/embedding.cuh"
#include "cuda/kv_cache.cuh"
#include "cuda/matmul_f32acc.cuh"
#include "util/fail.hpp"

namespace ollm::backend {
namespace {

class CudaWeightStore final : public WeightStore {
 public:
  explicit CudaWeightStore(int device) : device_(device) {}
  ~CudaWeightStore() override {
    for (void* p : allocations_) (void)cudaFree(p);
  }

  Weight place(const Weight& host) override {
    if (host.empty()) return host;
    Weight out = host;
    out.data = copy_to_device(host.data, static_cast<size_t>(host.n_rows) * host.row_stride, "weight matrix");
    return out;
  }

  // The host bytes are needed only until they are on the device.
  Weight place_owned(std::unique_ptr<uint8_t[]> /*bytes*/, const Weight& host) override { return place(host); }

  Vector place(std::vector<float> host) override {
    if (host.empty()) return {};
    const void* p = copy_to_device(host.data(), host.size() * sizeof(float), "weight vector");
    return {static_cast<const float*>(p), static_cast<int64_t>(host.size())};
  }

 private:
  const void* copy_to_device(const void* src, size_t bytes, const char* what) {
    cuda_use_device(device_);
    void* p = nullptr;
    const cudaError_t err = cudaMalloc(&p, bytes);
    if (err == cudaErrorMemoryAllocation)
      cuda_out_of_memory(device_, bytes, fmt::format("[cuda] placing a {} of the model ({} bytes placed so far)",
                                                     what, placed_));
    cuda_check(err, "[cuda] weight allocation");
    allocations_.push_back(p);
    if (!uploader_) uploader_ = std::make_unique<StagedUploader>();
    uploader_->copy(src, p, bytes);
    placed_ += bytes;
    if (progress) progress(placed_);
    return p;
  }

  int device_;
  std::vector<void*> allocations_;
  std::unique_ptr<StagedUploader> uploader_;
  uint64_t placed_ = 0;
};

}  // namespace

CudaDevice::CudaDevice(int index, std::string gpu_name) : index_(index), gpu_name_(std::move(gpu_name)) {}

std::string CudaDevice::display_name() const { return fmt::format("CUDA device {} ({})", index_, gpu_name_); }

bool CudaDevice::supports(Op op, DType type, Numerics numerics) const {
  if (numerics == Numerics::llamacpp) return false;
  switch (op) {
    case Op::matmul:
    case Op::matmul_experts: return ollm_cuda::matmul_f32acc_supports(ggml_id(type));
    case Op::embedding: return ollm_cuda::embedding_supports(ggml_id(type));
    case Op::kv_append:
    case Op::attention: return ollm_cuda::kv_type_supported(ggml_id(type));
    default: return type == DType::f32;
  }
}

std::unique_ptr<WeightStore> CudaDevice::create_weight_store() { return std::make_unique<CudaWeightStore>(index_); }

std::unique_ptr<Backend> CudaDevice::create_backend(const BackendOptions& options) {
  if (options.numerics == Numerics::llamacpp)
    fail(ErrorCode::unsupported,
         "[cuda] numerics 'llamacpp' (llama.cpp's CPU rounding steps, for comparisons) runs on the cpu device only; "
         "use 'standard' or 'exact' on {}",
         name());
  return make_cuda_backend(*this, options);
}

std::shared_ptr<Device> open_cuda_device(int index) {
  const CudaDeviceReport report = cuda_device_report();
  if (index < 0 || index >= report.device_count)
    fail(ErrorCode::not_found, "[cuda] device cuda:{} is not there ({} CUDA device(s): {})", index,
         report.device_count, report.status);
  cudaDeviceProp prop{};
  cuda_check(cudaGetDeviceProperties(&prop, index), "[cuda] reading the device's properties");
  if (prop.major < 8)
    fail(ErrorCode::unsupported, "[cuda] cuda:{} ({}, sm_{}{}) is older than the sm_80 (Ampere) this build targets",
         index, prop.name, prop.major, prop.minor);
  // One object per index: devices are stateless beyond their index, so sharing is safe.
  static std::mutex mutex;
  static std::vector<std::shared_ptr<Device>> opened;
  std::lock_guard lock(mutex);
  if (opened.size() <= static_cast<size_t>(index)) opened.resize(static_cast<size_t>(index) + 1);
  auto& d = opened[static_cast<size_t>(index)];
  if (!d) d = std::make_shared<CudaDevice>(index, prop.name);
  return d;
}

}  // namespace ollm::backend
