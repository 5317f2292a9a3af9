// The build without CUDA: the CUDA backend reports that it was not compiled in.
#include "backend/cuda_device.hpp"
#include "util/fail.hpp"

namespace ollm::backend {

CudaDeviceReport cuda_device_report() noexcept { return {0, "CUDA not compiled in (configure with -DOLLM_CUDA=ON)"}; }
bool cuda_compiled_in() noexcept { return false; }

std::shared_ptr<Device> open_cuda_device(int index) {
  fail(ErrorCode::unsupported, "[cuda] not compiled in: device 'cuda:{}' needs a build configured with -DOLLM_CUDA=ON "
       "(this build has the cpu backend only)", index);
}

}  // namespace ollm::backend
