// CUDA device discovery. A machine without a GPU or driver is a normal state, reported in words.
#include <cuda_runtime.h>

#include <string>

#include "backend/cuda_device.hpp"

namespace ollm::backend {

bool cuda_compiled_in() noexcept { return true; }

CudaDeviceReport cuda_device_report() noexcept {
  CudaDeviceReport report;
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    report.status = std::string("no usable CUDA device: ") + cudaGetErrorString(err);
    return report;
  }
  report.device_count = count;
  if (count == 0) {
    report.status = "no CUDA device found";
    return report;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
    report.status = std::string(prop.name) + " (sm_" + std::to_string(prop.major * 10 + prop.minor) + ")";
  return report;
}

}  // namespace ollm::backend
