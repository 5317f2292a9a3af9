// Dequantization of the plain float types and the 32-element legacy blocks (Q4_0..Q8_0).
// The arithmetic mirrors gguf.quants step for step: d * q in f32, then + m where there is one.
#include <cstddef>

#include "cpu/dequantize.hpp"
#include "cpu/quant_blocks.hpp"

namespace ollm::cpu {
namespace {

// Blocks are read through byte pointers and memcpy loads: a row may start at any byte.
template <class Block>
const uint8_t* block_at(const void* blocks, int64_t i) {
  return static_cast<const uint8_t*>(blocks) + static_cast<size_t>(i) * sizeof(Block);
}

}  // namespace

void dequantize_row_f32(const void* blocks, float* out, int64_t n) {
  std::memcpy(out, blocks, static_cast<size_t>(n) * sizeof(float));
}

void dequantize_row_f16(const void* blocks, float* out, int64_t n) {
  const auto* p = static_cast<const uint8_t*>(blocks);
  for (int64_t i = 0; i < n; ++i) out[i] = fp16_to_f32(load_u16(p + 2 * i));
}

void dequantize_row_bf16(const void* blocks, float* out, int64_t n) {
  const auto* p = static_cast<const uint8_t*>(blocks);
  for (int64_t i = 0; i < n; ++i) out[i] = bf16_to_f32(load_u16(p + 2 * i));
}

// blocks: [n/32] Q4_0 · out: [n] f32 — y = d * (q - 8)
void dequantize_row_q4_0(const void* blocks, float* out, int64_t n) {
  for (int64_t b = 0; b < n / qk_legacy; ++b, out += qk_legacy) {
    const uint8_t* p = block_at<block_q4_0>(blocks, b);
    const float d = fp16_to_f32(load_u16(p + offsetof(block_q4_0, d)));
    const uint8_t* qs = p + offsetof(block_q4_0, qs);
    for (int j = 0; j < qk_legacy / 2; ++j) {
      out[j] = d * static_cast<float>((qs[j] & 0x0f) - 8);
      out[j + qk_legacy / 2] = d * static_cast<float>((qs[j] >> 4) - 8);
    }
  }
}

// blocks: [n/32] Q4_1 · out: [n] f32 — y = (d * q) + m, two roundings as in numpy
void dequantize_row_q4_1(const void* blocks, float* out, int64_t n) {
  for (int64_t b = 0; b < n / qk_legacy; ++b, out += qk_legacy) {
    const uint8_t* p = block_at<block_q4_1>(blocks, b);
    const float d = fp16_to_f32(load_u16(p + offsetof(block_q4_1, d)));
    const float m = fp16_to_f32(load_u16(p + offsetof(block_q4_1, m)));
    const uint8_t* qs = p + offsetof(block_q4_1, qs);
    for (int j = 0; j < qk_legacy / 2; ++j) {
      const float lo = d * static_cast<float>(qs[j] & 0x0f);
      const float hi = d * static_cast<float>(qs[j] >> 4);
      out[j] = lo + m;
      out[j + qk_legacy / 2] = hi + m;
    }
  }
}

// blocks: [n/32] Q5_0 · out: [n] f32 — y = d * (q - 16), q = nibble | qh bit << 4
void dequantize_row_q5_0(const void* blocks, float* out, int64_t n) {
  for (int64_t b = 0; b < n / qk_legacy; ++b, out += qk_legacy) {
    const uint8_t* p = block_at<block_q5_0>(blocks, b);
    const float d = fp16_to_f32(load_u16(p + offsetof(block_q5_0, d)));
    const uint32_t qh = load_u32(p + offsetof(block_q5_0, qh));
    const uint8_t* qs = p + offsetof(block_q5_0, qs);
    for (int j = 0; j < qk_legacy / 2; ++j) {
      const int q0 = (qs[j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
      const int q1 = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
      out[j] = d * static_cast<float>(q0 - 16);
      out[j + qk_legacy / 2] = d * static_cast<float>(q1 - 16);
    }
  }
}

// blocks: [n/32] Q5_1 · out: [n] f32 — y = (d * q) + m
void dequantize_row_q5_1(const void* blocks, float* out, int64_t n) {
  for (int64_t b = 0; b < n / qk_legacy; ++b, out += qk_legacy) {
    const uint8_t* p = block_at<block_q5_1>(blocks, b);
    const float d = fp16_to_f32(load_u16(p + offsetof(block_q5_1, d)));
    const float m = fp16_to_f32(load_u16(p + offsetof(block_q5_1, m)));
    const uint32_t qh = load_u32(p + offsetof(block_q5_1, qh));
    const uint8_t* qs = p + offsetof(block_q5_1, qs);
    for (int j = 0; j < qk_legacy / 2; ++j) {
      const int q0 = (qs[j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
      const int q1 = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
      const float lo = d * static_cast<float>(q0);
      const float hi = d * static_cast<float>(q1);
      out[j] = lo + m;
      out[j + qk_legacy / 2] = hi + m;
    }
  }
}

// blocks: [n/32] Q8_0 · out: [n] f32 — y = q * d
void dequantize_row_q8_0(const void* blocks, float* out, int64_t n) {
  for (int64_t b = 0; b < n / qk_legacy; ++b, out += qk_legacy) {
    const uint8_t* p = block_at<block_q8_0>(blocks, b);
    const float d = fp16_to_f32(load_u16(p + offsetof(block_q8_0, d)));
    const uint8_t* qs = p + offsetof(block_q8_0, qs);
    for (int j = 0; j < qk_legacy; ++j) out[j] = static_cast<float>(static_cast<int8_t>(qs[j])) * d;
  }
}

}  // namespace ollm::cpu
