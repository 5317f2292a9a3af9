// Shared helpers of the Hugging Face tests: fixture paths, expected.json (written by
// scripts/fixtures/make_hf_fixtures.py), checksums, scratch directories and error assertions.
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <string_view>

#include "format/json.hpp"
#include "ollm/error.hpp"

namespace hf_test {

inline const std::filesystem::path data_dir = std::filesystem::path(OLLM_TEST_DATA) / "hf";

// The committed expected.json, parsed once per test executable.
inline simdjson::dom::object expected() {
  static const ollm::JsonDocument doc = ollm::JsonDocument::load(data_dir / "expected.json", "test");
  return doc.root().get_object().value();
}

// By-value accessors: a range-for directly over simdjson_result<...>.value() would iterate a
// reference into a temporary that dies before the loop body runs.
inline simdjson::dom::array array_of(simdjson::simdjson_result<simdjson::dom::element> value) {
  return value.get_array().value();
}
inline simdjson::dom::object object_of(simdjson::simdjson_result<simdjson::dom::element> value) {
  return value.get_object().value();
}

inline std::string fnv1a64(std::span<const uint8_t> bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// A fresh, empty directory under the build tree for tests that need files on disk.
inline std::filesystem::path scratch_dir(std::string_view name) {
  const auto dir = std::filesystem::path(OLLM_BUILD_DIR) / "test_hf_scratch" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void write_file(const std::filesystem::path& path, std::string_view content) {
  std::ofstream f(path, std::ios::binary);
  f.write(content.data(), static_cast<std::streamsize>(content.size()));
  REQUIRE_MESSAGE(f.good(), "cannot write " << path);
}

// Replaces the one occurrence of `from` in the file by `to` (same length, so offsets stay valid).
inline void replace_in_file(const std::filesystem::path& path, std::string_view from, std::string_view to) {
  REQUIRE(from.size() == to.size());
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = bytes.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, "no '" << from << "' in " << path);
  REQUIRE_MESSAGE(bytes.find(from, at + 1) == std::string::npos, "'" << from << "' twice in " << path);
  bytes.replace(at, from.size(), to);
  in.close();
  write_file(path, bytes);
}

// Runs `fn` and checks it throws ollm::Error with exactly this code and message.
template <class Fn>
void check_error(Fn&& fn, ollm::ErrorCode code, std::string_view message) {
  try {
    fn();
    FAIL("expected an error: " << message);
  } catch (const ollm::Error& e) {
    CHECK_MESSAGE(e.code() == code, "code " << ollm::error_code_name(e.code()) << " for: " << e.what());
    CHECK(std::string_view(e.what()) == message);
  }
}

// The same for messages that end in a dependency's wording (simdjson's): checks the prefix.
template <class Fn>
void check_error_prefix(Fn&& fn, ollm::ErrorCode code, std::string_view prefix) {
  try {
    fn();
    FAIL("expected an error starting: " << prefix);
  } catch (const ollm::Error& e) {
    CHECK_MESSAGE(e.code() == code, "code " << ollm::error_code_name(e.code()) << " for: " << e.what());
    CHECK_MESSAGE(std::string_view(e.what()).starts_with(prefix), e.what());
    CHECK(std::string_view(e.what()).size() > prefix.size());
  }
}

}  // namespace hf_test
