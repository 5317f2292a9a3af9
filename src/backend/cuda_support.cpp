// CUDA statuses as ollm errors (cuda_support.hpp says which code each becomes and why).
#include "backend/cuda_support.hpp"

#include <utility>

#include "util/fail.hpp"

namespace ollm::backend {
namespace {

// The current device's free and total bytes (0, 0 when even that fails), after clearing the
// failed allocation's status (it is not sticky).
std::pair<size_t, size_t> memory_info() noexcept {
  size_t free_bytes = 0, total_bytes = 0;
  (void)cudaGetLastError();
  if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) free_bytes = total_bytes = 0;
  return {free_bytes, total_bytes};
}

}  // namespace

void cuda_out_of_memory(int device, size_t bytes, std::string_view what) {
  const auto [free_bytes, total_bytes] = memory_info();
  fail(ErrorCode::out_of_memory, "{}: out of GPU memory on cuda:{}: asked for {} bytes, {} of {} bytes free", what,
       device, bytes, free_bytes, total_bytes);
}

void cuda_fail(cudaError_t err, std::string_view what) {
  const char* name = cudaGetErrorName(err);
  const char* text = cudaGetErrorString(err);
  switch (err) {
    case cudaErrorMemoryAllocation: {
      int device = -1;
      (void)cudaGetDevice(&device);
      const auto [free_bytes, total_bytes] = memory_info();
      fail(ErrorCode::out_of_memory, "{}: out of GPU memory on cuda:{} ({} of {} bytes free): {}", what, device,
           free_bytes, total_bytes, text);
    }
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorDevicesUnavailable:
    case cudaErrorInvalidDevice:
      fail(ErrorCode::not_found, "{}: no usable CUDA device: {} ({})", what, text, name);
    case cudaErrorInvalidValue:
    case cudaErrorInvalidResourceHandle:
    case cudaErrorInvalidDevicePointer:
    case cudaErrorInvalidConfiguration:
    case cudaErrorInvalidPitchValue:
    case cudaErrorMisalignedAddress:
      fail(ErrorCode::internal, "{}: {} ({}): a bug in ollm's CUDA backend, please report it", what, text, name);
    default:
      fail(ErrorCode::device_failure,
           "{}: the GPU failed: {} ({}); the device context is no longer usable, so the engine and model must be "
           "recreated (or the process restarted)",
           what, text, name);
  }
}

void cublas_fail(cublasStatus_t status, std::string_view what) {
  const char* name = cublasGetStatusName(status);
  switch (status) {
    case CUBLAS_STATUS_ALLOC_FAILED: fail(ErrorCode::out_of_memory, "{}: cuBLAS could not allocate memory ({})", what, name);
    case CUBLAS_STATUS_NOT_INITIALIZED:
      fail(ErrorCode::not_found, "{}: cuBLAS could not initialise on this device ({})", what, name);
    case CUBLAS_STATUS_INVALID_VALUE:
    case CUBLAS_STATUS_NOT_SUPPORTED:
      fail(ErrorCode::internal, "{}: cuBLAS refused the call ({}): a bug in ollm's CUDA backend, please report it",
           what, name);
    default:
      fail(ErrorCode::device_failure, "{}: cuBLAS failed on the GPU ({}); recreate the engine and model", what, name);
  }
}

void cuda_use_device(int device) { cuda_check(cudaSetDevice(device), "[cuda] selecting the device"); }

}  // namespace ollm::backend
