// Dequantization of the non-linear 4-bit types IQ4_NL (32-element blocks) and IQ4_XS
// (256-element super-blocks with 6-bit sub-block scales), matching gguf.quants.
#include <cstddef>

#include "cpu/dequantize.hpp"
#include "cpu/quant_blocks.hpp"

namespace ollm::cpu {

// blocks: [n/32] IQ4_NL · out: [n] f32 — y = d * iq4nl_values[q]
void dequantize_row_iq4_nl(const void* blocks, float* out, int64_t n) {
  const auto* base = static_cast<const uint8_t*>(blocks);
  for (int64_t b = 0; b < n / qk_legacy; ++b, out += qk_legacy) {
    const uint8_t* p = base + static_cast<size_t>(b) * sizeof(block_iq4_nl);
    const float d = fp16_to_f32(load_u16(p + offsetof(block_iq4_nl, d)));
    const uint8_t* qs = p + offsetof(block_iq4_nl, qs);
    for (int j = 0; j < qk_legacy / 2; ++j) {
      out[j] = d * static_cast<float>(iq4nl_values[qs[j] & 0x0f]);
      out[j + qk_legacy / 2] = d * static_cast<float>(iq4nl_values[qs[j] >> 4]);
    }
  }
}

// blocks: [n/256] IQ4_XS · out: [n] f32 — y = (d * (ls - 32)) * iq4nl_values[q], per 32 elements
void dequantize_row_iq4_xs(const void* blocks, float* out, int64_t n) {
  const auto* base = static_cast<const uint8_t*>(blocks);
  for (int64_t b = 0; b < n / qk_k; ++b, out += qk_k) {
    const uint8_t* p = base + static_cast<size_t>(b) * sizeof(block_iq4_xs);
    const float d = fp16_to_f32(load_u16(p + offsetof(block_iq4_xs, d)));
    const uint16_t scales_h = load_u16(p + offsetof(block_iq4_xs, scales_h));
    const uint8_t* scales_l = p + offsetof(block_iq4_xs, scales_l);
    const uint8_t* qs = p + offsetof(block_iq4_xs, qs);
    for (int ib = 0; ib < qk_k / 32; ++ib) {
      const int ls = ((scales_l[ib / 2] >> (4 * (ib % 2))) & 0x0f) | (((scales_h >> (2 * ib)) & 3) << 4);
      const float dl = d * static_cast<float>(ls - 32);
      const uint8_t* q = qs + ib * 16;
      float* y = out + ib * 32;
      for (int j = 0; j < 16; ++j) {
        y[j] = dl * static_cast<float>(iq4nl_values[q[j] & 0x0f]);
        y[j + 16] = dl * static_cast<float>(iq4nl_values[q[j] >> 4]);
      }
    }
  }
}

}  // namespace ollm::cpu
