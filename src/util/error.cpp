// Names of error codes, stable for logs and the C ABI.
#include "ollm/error.hpp"

namespace ollm {

std::string_view error_code_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::ok: return "ok";
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::invalid_model_file: return "invalid_model_file";
    case ErrorCode::unsupported: return "unsupported";
    case ErrorCode::out_of_memory: return "out_of_memory";
    case ErrorCode::io: return "io";
    case ErrorCode::cancelled: return "cancelled";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::internal: return "internal";
    case ErrorCode::device_failure: return "device_failure";
  }
  return "unknown";
}

}  // namespace ollm
