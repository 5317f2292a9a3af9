// Quantization of f32 rows to F16, BF16 and the legacy 32-element blocks, producing the same
// bytes as gguf.quants (numpy float32 arithmetic, the same operation order).
#include <cmath>
#include <cstddef>

#include "cpu/quant_blocks.hpp"
#include "cpu/quant_search.hpp"
#include "cpu/quantize.hpp"

namespace ollm::cpu {
namespace {

template <class Block>
uint8_t* block_at(void* blocks, int64_t i) {
  return static_cast<uint8_t*>(blocks) + static_cast<size_t>(i) * sizeof(Block);
}

inline void store_u16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }

// numpy's float32 -> uint8 cast on x86: a truncating conversion to int32 (cvttss2si, which
// yields INT32_MIN for NaN and out-of-range values) keeping the low byte. Only reachable when
// the block scale underflows to a subnormal and 1/d overflows.
inline uint8_t f32_to_u8_like_numpy(float v) {
  if (!(v > -2147483648.f && v < 2147483648.f)) return 0;
  return static_cast<uint8_t>(static_cast<int32_t>(v));
}

inline int clip(int v, int hi) { return v < 0 ? 0 : (v > hi ? hi : v); }

// Value with the largest magnitude, first one on ties (numpy's argmax of abs).
inline float signed_absmax(const float* x) {
  float max = x[0], amax = std::fabs(x[0]);
  for (int j = 1; j < qk_legacy; ++j)
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  return max;
}

inline void min_max(const float* x, float& min, float& max) {
  min = max = x[0];
  for (int j = 1; j < qk_legacy; ++j) {
    if (x[j] < min) min = x[j];
    if (x[j] > max) max = x[j];
  }
}

// np.where(d == 0, 0, 1 / d) in float32
inline float inverse_or_zero(float d) { return d == 0.0f ? 0.0f : 1.0f / d; }

// The 5-bit codes q[0..31] of Q5_0 / Q5_1 into qh (bit j = bit 4 of q[j]) and qs.
inline void pack_q5(const int* q, uint8_t* qh, uint8_t* qs) {
  uint32_t h = 0;
  for (int j = 0; j < qk_legacy; ++j) h |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
  std::memcpy(qh, &h, 4);
  for (int j = 0; j < qk_legacy / 2; ++j)
    qs[j] = static_cast<uint8_t>((q[j] & 0x0f) | ((q[j + 16] & 0x0f) << 4));
}

}  // namespace

void quantize_row_f32(const float* x, void* blocks, int64_t n) {
  std::memcpy(blocks, x, static_cast<size_t>(n) * sizeof(float));
}

// x: [n] f32 · blocks: [n] fp16, round to nearest even (numpy astype(float16))
void quantize_row_f16(const float* x, void* blocks, int64_t n) {
  auto* p = static_cast<uint8_t*>(blocks);
  for (int64_t i = 0; i < n; ++i) store_u16(p + 2 * i, f32_to_fp16(x[i]));
}

// x: [n] f32 · blocks: [n] bf16, round to nearest even, NaN quieted
void quantize_row_bf16(const float* x, void* blocks, int64_t n) {
  auto* p = static_cast<uint8_t*>(blocks);
  for (int64_t i = 0; i < n; ++i) store_u16(p + 2 * i, f32_to_bf16(x[i]));
}

// x: [n] f32 · blocks: [n/32] Q4_0 — d = absmax_signed / -8, q = trunc(x/d + 8.5) clipped to 15
void quantize_row_q4_0(const float* x, void* blocks, int64_t n) {
  for (int64_t b = 0; b < n / qk_legacy; ++b, x += qk_legacy) {
    uint8_t* p = block_at<block_q4_0>(blocks, b);
    uint8_t* qs = p + offsetof(block_q4_0, qs);
    if (!all_finite(x, qk_legacy)) {
      store_u16(p + offsetof(block_q4_0, d), fp16_nan);
      std::memset(qs, 0, qk_legacy / 2);
      continue;
    }
    const float d = signed_absmax(x) / -8.0f;
    const float id = inverse_or_zero(d);
    int q[qk_legacy];
    for (int j = 0; j < qk_legacy; ++j) q[j] = clip(f32_to_u8_like_numpy(std::trunc(x[j] * id + 8.5f)), 15);
    for (int j = 0; j < qk_legacy / 2; ++j) qs[j] = static_cast<uint8_t>(q[j] | (q[j + 16] << 4));
    store_u16(p + offsetof(block_q4_0, d), f32_to_fp16(d));
  }
}

// x: [n] f32 · blocks: [n/32] Q4_1 — d = (max - min) / 15, m = min, q = trunc((x - m)/d + 0.5)
void quantize_row_q4_1(const float* x, void* blocks, int64_t n) {
  for (int64_t b = 0; b < n / qk_legacy; ++b, x += qk_legacy) {
    uint8_t* p = block_at<block_q4_1>(blocks, b);
    uint8_t* qs = p + offsetof(block_q4_1, qs);
    if (!all_finite(x, qk_legacy)) {
      store_u16(p + offsetof(block_q4_1, d), fp16_nan);
      store_u16(p + offsetof(block_q4_1, m), fp16_nan);
      std::memset(qs, 0, qk_legacy / 2);
      continue;
    }
    float min, max;
    min_max(x, min, max);
    const float d = (max - min) / 15.0f;
    const float id = inverse_or_zero(d);
    int q[qk_legacy];
    for (int j = 0; j < qk_legacy; ++j) q[j] = clip(f32_to_u8_like_numpy(std::trunc((x[j] - min) * id + 0.5f)), 15);
    for (int j = 0; j < qk_legacy / 2; ++j) qs[j] = static_cast<uint8_t>(q[j] | (q[j + 16] << 4));
    store_u16(p + offsetof(block_q4_1, d), f32_to_fp16(d));
    store_u16(p + offsetof(block_q4_1, m), f32_to_fp16(min));
  }
}

// x: [n] f32 · blocks: [n/32] Q5_0 — d = absmax_signed / -16, q = trunc(x/d + 16.5) clipped to 31
void quantize_row_q5_0(const float* x, void* blocks, int64_t n) {
  for (int64_t b = 0; b < n / qk_legacy; ++b, x += qk_legacy) {
    uint8_t* p = block_at<block_q5_0>(blocks, b);
    int q[qk_legacy] = {};
    if (!all_finite(x, qk_legacy)) {
      store_u16(p + offsetof(block_q5_0, d), fp16_nan);
      pack_q5(q, p + offsetof(block_q5_0, qh), p + offsetof(block_q5_0, qs));
      continue;
    }
    const float d = signed_absmax(x) / -16.0f;
    const float id = inverse_or_zero(d);
    for (int j = 0; j < qk_legacy; ++j) q[j] = clip(f32_to_u8_like_numpy(std::trunc(x[j] * id + 16.5f)), 31);
    pack_q5(q, p + offsetof(block_q5_0, qh), p + offsetof(block_q5_0, qs));
    store_u16(p + offsetof(block_q5_0, d), f32_to_fp16(d));
  }
}

// x: [n] f32 · blocks: [n/32] Q5_1 — d = (max - min) / 31, m = min, q = trunc((x - m)/d + 0.5)
void quantize_row_q5_1(const float* x, void* blocks, int64_t n) {
  for (int64_t b = 0; b < n / qk_legacy; ++b, x += qk_legacy) {
    uint8_t* p = block_at<block_q5_1>(blocks, b);
    int q[qk_legacy] = {};
    if (!all_finite(x, qk_legacy)) {
      store_u16(p + offsetof(block_q5_1, d), fp16_nan);
      store_u16(p + offsetof(block_q5_1, m), fp16_nan);
      pack_q5(q, p + offsetof(block_q5_1, qh), p + offsetof(block_q5_1, qs));
      continue;
    }
    float min, max;
    min_max(x, min, max);
    const float d = (max - min) / 31.0f;
    const float id = inverse_or_zero(d);
    for (int j = 0; j < qk_legacy; ++j) q[j] = clip(f32_to_u8_like_numpy(std::trunc((x[j] - min) * id + 0.5f)), 31);
    pack_q5(q, p + offsetof(block_q5_1, qh), p + offsetof(block_q5_1, qs));
    store_u16(p + offsetof(block_q5_1, d), f32_to_fp16(d));
    store_u16(p + offsetof(block_q5_1, m), f32_to_fp16(min));
  }
}

// x: [n] f32 · blocks: [n/32] Q8_0 — d = absmax / 127, q = round_half_away(x/d)
void quantize_row_q8_0(const float* x, void* blocks, int64_t n) {
  for (int64_t b = 0; b < n / qk_legacy; ++b, x += qk_legacy) {
    uint8_t* p = block_at<block_q8_0>(blocks, b);
    uint8_t* qs = p + offsetof(block_q8_0, qs);
    if (!all_finite(x, qk_legacy)) {
      store_u16(p + offsetof(block_q8_0, d), fp16_nan);
      std::memset(qs, 0, qk_legacy);
      continue;
    }
    float amax = 0.0f;
    for (int j = 0; j < qk_legacy; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = inverse_or_zero(d);
    for (int j = 0; j < qk_legacy; ++j) qs[j] = f32_to_u8_like_numpy(std::round(x[j] * id));
    store_u16(p + offsetof(block_q8_0, d), f32_to_fp16(d));
  }
}

}  // namespace ollm::cpu
