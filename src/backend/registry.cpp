// Device names to devices: "cpu" always; "cuda" / "cuda:N" through the CUDA side, which in a
// build without CUDA is cuda_absent.cpp's refusal.
#include <charconv>

#include "backend/backend.hpp"
#include "backend/cpu_backend.hpp"
#include "backend/cuda_device.hpp"
#include "util/fail.hpp"
#include "util/printable.hpp"

namespace ollm::backend {

std::shared_ptr<Device> open_device(std::string_view name) {
  if (name == "cpu") return cpu_device();
  if (name == "cuda" || name.substr(0, 5) == "cuda:") {
    int index = 0;
    if (name.size() > 5) {
      const std::string_view digits = name.substr(5);
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
      if (ec != std::errc() || end != digits.data() + digits.size() || index < 0)
        fail(ErrorCode::invalid_argument, "[device] '{}' is not a device: a CUDA device is \"cuda\" or \"cuda:N\"",
             printable(name));
    }
    return open_cuda_device(index);
  }
  fail(ErrorCode::invalid_argument, "[device] '{}' is not a device (\"cpu\", \"cuda\" or \"cuda:N\"; this build has {})",
       printable(name), fmt::join(compiled_backends(), ", "));
}

std::vector<std::string> compiled_backends() {
  std::vector<std::string> out{"cpu"};
  if (cuda_compiled_in()) out.emplace_back("cuda");
  return out;
}

}  // namespace ollm::backend
