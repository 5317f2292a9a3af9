// Version and build contents, for `ollm --version`, logs and the C ABI.
#include "backend/backend.hpp"
#include "backend/cuda_device.hpp"
#include "cpu/cpu_features.hpp"
#include "ollm/version.hpp"

namespace ollm {

const char* version_string() noexcept { return "0.1.0"; }

BuildInfo build_info() {
  BuildInfo info;
  info.backends = backend::compiled_backends();
  info.cpu_features = cpu::cpu_feature_names();
#ifdef OLLM_WITH_ONEDNN
  info.onednn = true;
#endif
  const auto cuda = backend::cuda_device_report();
  info.cuda_devices = cuda.device_count;
  info.cuda_status = cuda.status;
  return info;
}

}  // namespace ollm
