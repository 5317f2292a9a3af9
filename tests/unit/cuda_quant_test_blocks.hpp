// Random GGUF blocks for the CUDA quantized-matmul tests: random bytes, with every fp16 scale
// field replaced by a finite random fp16 (some zero) so that values are finite and comparable.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "cpu/quant_blocks.hpp"
#include "cuda/quant_decode.cuh"

namespace ollm_cuda_test {

// [n_blocks] blocks of type T (the scale fields of a few blocks are 0, the rest in +-0.05).
template <uint32_t T>
std::vector<uint8_t> random_blocks(int64_t n_blocks, std::mt19937& rng) {
  using namespace ollm_cuda;
  using Tr = QuantTraits<T>;
  std::vector<uint8_t> bytes(static_cast<size_t>(n_blocks) * Tr::bytes);
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& b : bytes) b = static_cast<uint8_t>(byte(rng));
  std::uniform_real_distribution<float> scale(-0.05f, 0.05f);
  // Byte offsets of the fp16 scale fields of one block.
  std::vector<int> fields;
  if (T == type_q4_0 || T == type_q5_0 || T == type_q8_0 || T == type_iq4_nl || T == type_iq4_xs)
    fields = {0};
  if (T == type_q4_1 || T == type_q5_1 || T == type_q4_k || T == type_q5_k) fields = {0, 2};
  if (T == type_q2_k) fields = {80, 82};
  if (T == type_q3_k) fields = {108};
  if (T == type_q6_k) fields = {208};
  for (int64_t b = 0; b < n_blocks; ++b)
    for (int f : fields) {
      const float v = (b % 7 == 3) ? 0.0f : scale(rng);
      const uint16_t h = ollm::cpu::f32_to_fp16(v);
      std::memcpy(&bytes[static_cast<size_t>(b) * Tr::bytes + f], &h, 2);
    }
  return bytes;
}

}  // namespace ollm_cuda_test
