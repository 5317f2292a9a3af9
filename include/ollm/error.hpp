// The one error type of the library: every failure a file, caller or user can cause
// surfaces as an ollm::Error with a code and a message that starts with "[component]".
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "ollm/export.h"

namespace ollm {

enum class ErrorCode : int {
  ok = 0,
  invalid_argument = 1,    // a caller passed something out of range or inconsistent
  invalid_model_file = 2,  // a model/tokenizer file is malformed or lies about itself
  unsupported = 3,         // well-formed, but a feature ollm does not implement
  out_of_memory = 4,
  io = 5,                  // the operating system refused a read, open or map
  cancelled = 6,           // a callback asked to stop
  not_found = 7,           // a key, tensor or file that was asked for is absent
  internal = 8,            // a bug in ollm: please report it
  device_failure = 9,      // the accelerator failed: a kernel fault, a lost or reset GPU
};

// Stable lower-case name of a code ("invalid_model_file").
OLLM_API std::string_view error_code_name(ErrorCode code) noexcept;

class OLLM_API Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace ollm
