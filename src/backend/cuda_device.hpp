// What the CUDA side reports about devices; implemented by kernels/cuda when CUDA is
// compiled in and by cuda_absent.cpp otherwise, so callers never need #ifdefs.
#pragma once

#include <string>

namespace ollm::backend {

struct CudaDeviceReport {
  int device_count = 0;
  std::string status;  // first device's name and compute capability, or why there is none
};

CudaDeviceReport cuda_device_report() noexcept;
bool cuda_compiled_in() noexcept;

}  // namespace ollm::backend
