// CPU feature detection (CPUID + OS support for the wide registers) for run-time kernel dispatch.
#pragma once

#include <string>
#include <vector>

namespace ollm::cpu {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512_vnni = false;
  bool avx512_bf16 = false;
  bool avx_vnni = false;
};

// Detected once, then cached.
const CpuFeatures& cpu_features() noexcept;
std::vector<std::string> cpu_feature_names();

}  // namespace ollm::cpu
