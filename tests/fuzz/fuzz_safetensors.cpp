// libFuzzer target: arbitrary bytes through the safetensors reader, and its tensor names through the
// Hugging Face → GGUF name mapping. Only ollm::Error may come out; anything else is a finding.
#include <cstddef>
#include <cstdint>

#include "format/hf_tensor_names.hpp"
#include "format/safetensors.hpp"
#include "ollm/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto file = ollm::parse_safetensors({data, size}, "fuzz.safetensors");
    // Touch every tensor's bytes so out-of-range views would be caught by ASan.
    uint64_t sum = 0;
    for (const auto& t : file.tensors) {
      if (!t.data.empty()) sum += t.data.front() + t.data.back();
      for (const char* arch : {"llama", "gemma3", "qwen3moe", "bert"})
        if (const auto name = ollm::hf_tensor_gguf_name(arch, t.name)) sum += name->size();
    }
    (void)sum;
  } catch (const ollm::Error&) {
  }
  return 0;
}
