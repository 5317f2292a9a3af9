// libFuzzer target: arbitrary bytes through the config.json reader (architecture, hyper-parameters,
// rope and sliding-window rules). Only ollm::Error may come out; anything else is a finding.
#include <cstddef>
#include <cstdint>

#include "format/hf_config.hpp"
#include "ollm/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto config = ollm::parse_hf_config({data, size}, "fuzz/config.json");
    (void)config;
  } catch (const ollm::Error&) {
  }
  return 0;
}
