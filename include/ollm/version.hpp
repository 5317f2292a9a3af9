// Library version and what this build of it contains.
#pragma once

#include <string>
#include <vector>

#include "ollm/export.h"

namespace ollm {

inline constexpr int version_major = 0;
inline constexpr int version_minor = 1;
inline constexpr int version_patch = 0;

// "0.1.0" of the library actually loaded (may differ from the header's constants).
OLLM_API const char* version_string() noexcept;

struct BuildInfo {
  std::vector<std::string> backends;      // compiled in: "cpu", and "cuda" when built with CUDA
  std::vector<std::string> cpu_features;  // found on this machine: "avx2", "fma", "avx512f", "avx512_vnni", ...
  bool onednn = false;                    // oneDNN linked for float GEMM
  int cuda_devices = 0;                   // usable CUDA devices now (0 without CUDA or without a GPU)
  std::string cuda_status;                // why cuda_devices is 0, or the first device's name
};

OLLM_API BuildInfo build_info();

}  // namespace ollm
