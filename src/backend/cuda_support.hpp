// CUDA runtime and cuBLAS statuses as ollm errors, for the CUDA backend's glue (src/backend/cuda_*).
// Every CUDA call of the glue goes through cuda_check: nothing is ignored, nothing aborts.
#pragma once

#include <cstddef>
#include <string_view>

#include <cublas_v2.h>
#include <cuda_runtime.h>

namespace ollm::backend {

// Throws the Error that `err` means, with `what` (the operation, e.g. "[cuda] kv_append") first:
//  out of memory                      -> out_of_memory, with the device's free and total bytes
//  no device / driver, device busy    -> not_found
//  an invalid argument or handle      -> internal (a bug of the glue or a kernel contract)
//  anything else (a kernel fault, ECC, a lost or reset device: the context is unusable) ->
//  device_failure, saying that the engine must be recreated
[[noreturn]] void cuda_fail(cudaError_t err, std::string_view what);
inline void cuda_check(cudaError_t err, std::string_view what) {
  if (err != cudaSuccess) cuda_fail(err, what);
}
[[noreturn]] void cublas_fail(cublasStatus_t status, std::string_view what);
inline void cublas_check(cublasStatus_t status, std::string_view what) {
  if (status != CUBLAS_STATUS_SUCCESS) cublas_fail(status, what);
}

// Out of memory for `bytes` asked of device `device`: the message names both and the free bytes.
[[noreturn]] void cuda_out_of_memory(int device, size_t bytes, std::string_view what);

// Makes `device` current on the calling thread (the CUDA runtime's current device is per
// thread, and an engine may be driven from any thread).
void cuda_use_device(int device);

}  // namespace ollm::backend
