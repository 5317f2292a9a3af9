// A CUDA build's device lookup: the device must be there; until the CUDA backend's ops exist it
// is refused by name instead of failing inside a step.
#include "backend/backend.hpp"
#include "backend/cuda_device.hpp"
#include "util/fail.hpp"

namespace ollm::backend {

std::shared_ptr<Device> open_cuda_device(int index) {
  const CudaDeviceReport report = cuda_device_report();
  if (index >= report.device_count)
    fail(ErrorCode::not_found, "[cuda] device cuda:{} is not there ({} CUDA device(s): {})", index,
         report.device_count, report.status);
  fail(ErrorCode::unsupported,
       "[cuda] cuda:{} ({}) is present, but this build's CUDA backend does not run models yet: use device \"cpu\"",
       index, report.status);
}

}  // namespace ollm::backend
