// Conan test_package: the C++ API and the C ABI of the packaged libollm.
#include <ollm.h>
#include <ollm/version.hpp>

#include <cstdio>
#include <cstring>

int main() {
  const ollm::BuildInfo info = ollm::build_info();
  std::printf("ollm %s (C ABI %s), backends:", ollm::version_string(), ollm_version());
  for (const auto& backend : info.backends) std::printf(" %s", backend.c_str());
  std::printf(", oneDNN %s\n", info.onednn ? "yes" : "no");
  return std::strcmp(ollm::version_string(), ollm_version()) == 0 && !info.backends.empty() ? 0 : 1;
}
