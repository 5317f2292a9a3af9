// The CPU backend: weights stay views of the mapped file, device memory is host memory, and every
// op runs the kernels of kernels/cpu on a thread pool with the engine's numerics.
#pragma once

#include <memory>

#include "backend/backend.hpp"

namespace ollm::backend {

// The process's one CPU device.
std::shared_ptr<Device> cpu_device();

}  // namespace ollm::backend
