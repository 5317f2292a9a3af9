// Installed-tree consumer: the C++ API's version and build information.
#include <ollm/version.hpp>

#include <cstdio>
#include <string>

int main() {
  const std::string loaded = ollm::version_string();
  const std::string header = std::to_string(ollm::version_major) + "." + std::to_string(ollm::version_minor) +
                             "." + std::to_string(ollm::version_patch);
  const ollm::BuildInfo info = ollm::build_info();
  std::printf("cpp: ollm %s (header %s), backends:", loaded.c_str(), header.c_str());
  for (const auto& backend : info.backends) std::printf(" %s", backend.c_str());
  std::printf("\n");
  return loaded == header && !info.backends.empty() ? 0 : 1;
}
