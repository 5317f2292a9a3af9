// libFuzzer target: arbitrary bytes through the GGUF reader and the GGUF → ModelSpec mapping.
// Only ollm::Error may come out; any other exception, crash, leak or sanitizer report is a finding.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "ollm/error.hpp"
#include "ollm/gguf.hpp"
#include "ollm/model_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto file = std::make_shared<const ollm::GgufFile>(ollm::GgufFile::parse({data, size}, "fuzz"));
    // Touch every tensor's bytes so out-of-range views would be caught by ASan.
    uint64_t sum = 0;
    for (const auto& t : file->tensors())
      if (!t.data.empty()) sum += t.data.front() + t.data.back();
    (void)sum;
    (void)ollm::model_spec_from_gguf(file, "fuzz.gguf");
  } catch (const ollm::Error&) {
  }
  return 0;
}
