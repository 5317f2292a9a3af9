// Library basics: error codes, the log callback, build information.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "ollm/error.hpp"
#include "ollm/log.hpp"
#include "ollm/version.hpp"
#include "util/log_internal.hpp"

using namespace ollm;

TEST_CASE("error codes have stable names") {
  CHECK(error_code_name(ErrorCode::invalid_model_file) == "invalid_model_file");
  CHECK(error_code_name(ErrorCode::unsupported) == "unsupported");
  CHECK(error_code_name(ErrorCode::device_failure) == "device_failure");
  CHECK(error_code_name(static_cast<ErrorCode>(99)) == "unknown");
  const Error e(ErrorCode::io, "[file] x");
  CHECK(e.code() == ErrorCode::io);
  CHECK(std::string(e.what()) == "[file] x");
}

TEST_CASE("log callback receives messages at or above its level only") {
  std::vector<std::pair<LogLevel, std::string>> seen;
  set_log_callback([&](LogLevel level, std::string_view msg) { seen.emplace_back(level, std::string(msg)); },
                   LogLevel::warning);
  detail::log(LogLevel::info, "dropped {}", 1);
  detail::log(LogLevel::warning, "kept {}", 2);
  detail::log(LogLevel::error, "kept {}", 3);
  set_log_callback(nullptr);
  detail::log(LogLevel::error, "after reset {}", 4);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].first == LogLevel::warning);
  CHECK(seen[0].second == "kept 2");
  CHECK(seen[1].second == "kept 3");
}

TEST_CASE("a throwing log callback does not escape the library") {
  set_log_callback([](LogLevel, std::string_view) { throw std::runtime_error("host bug"); }, LogLevel::debug);
  CHECK_NOTHROW(detail::log(LogLevel::error, "x"));
  set_log_callback(nullptr);
}

TEST_CASE("build information") {
  const auto info = build_info();
  REQUIRE_FALSE(info.backends.empty());
  CHECK(info.backends.front() == "cpu");
  CHECK(std::string(version_string()) ==
        std::to_string(version_major) + "." + std::to_string(version_minor) + "." + std::to_string(version_patch));
  if (info.cuda_devices == 0) CHECK_FALSE(info.cuda_status.empty());  // says why there is no GPU
}
