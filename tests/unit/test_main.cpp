// The one doctest main for every unit-test executable. With OLLM_TEST_DEVICE set (the device
// axis: "cuda", "cuda:1"), a device this build or machine does not have makes the whole run
// report skipped (exit 77, ctest's SKIP_RETURN_CODE) instead of passing or failing.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>

#include "backend/backend.hpp"
#include "ollm/error.hpp"

int main(int argc, char** argv) {
  if (const char* device = std::getenv("OLLM_TEST_DEVICE"); device && *device) {
    try {
      ollm::backend::open_device(device);
    } catch (const ollm::Error& e) {
      const bool absent = e.code() == ollm::ErrorCode::unsupported || e.code() == ollm::ErrorCode::not_found;
      std::printf("%s: device '%s': %s\n", absent ? "SKIPPED" : "FAILED", device, e.what());
      return absent ? 77 : 1;
    }
  }
  doctest::Context context(argc, argv);
  return context.run();
}
