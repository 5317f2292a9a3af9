// The build without CUDA: the CUDA backend reports that it was not compiled in.
#include "backend/cuda_device.hpp"

namespace ollm::backend {

CudaDeviceReport cuda_device_report() noexcept { return {0, "CUDA not compiled in (configure with -DOLLM_CUDA=ON)"}; }
bool cuda_compiled_in() noexcept { return false; }

}  // namespace ollm::backend
