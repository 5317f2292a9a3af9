// What the CUDA side reports about devices; implemented by kernels/cuda when CUDA is
// compiled in and by cuda_absent.cpp otherwise, so callers never need #ifdefs.
#pragma once

#include <memory>
#include <string>

namespace ollm::backend {

struct CudaDeviceReport {
  int device_count = 0;
  std::string status;  // first device's name and compute capability, or why there is none
};

CudaDeviceReport cuda_device_report() noexcept;
bool cuda_compiled_in() noexcept;

class Device;
// The CUDA device `index` (registry.cpp parses "cuda:N"). Throws Error(unsupported) "[cuda] not
// compiled in ..." without CUDA, Error(not_found) when the device is not there.
std::shared_ptr<Device> open_cuda_device(int index);

}  // namespace ollm::backend
