// Dequantization of the 256-element K-quant super-blocks (Q2_K..Q6_K, Q8_K). Each sub-block
// scale is formed first (d * sc, rounded to f32) and then applied, exactly as gguf.quants does.
#include <cstddef>

#include "cpu/dequantize.hpp"
#include "cpu/quant_blocks.hpp"

namespace ollm::cpu {
namespace {

template <class Block>
const uint8_t* block_at(const void* blocks, int64_t i) {
  return static_cast<const uint8_t*>(blocks) + static_cast<size_t>(i) * sizeof(Block);
}

// The 6-bit scale and min of sub-block j (0..7) of Q4_K / Q5_K.
inline void scale_min_k4(int j, const uint8_t* q, int& sc, int& m) {
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
    m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

}  // namespace

// blocks: [n/256] Q2_K · out: [n] f32 — y = (d*sc) * q - (dmin*m), per 16 elements
void dequantize_row_q2_k(const void* blocks, float* out, int64_t n) {
  for (int64_t b = 0; b < n / qk_k; ++b, out += qk_k) {
    const uint8_t* p = block_at<block_q2_K>(blocks, b);
    const float d = fp16_to_f32(load_u16(p + offsetof(block_q2_K, d)));
    const float dmin = fp16_to_f32(load_u16(p + offsetof(block_q2_K, dmin)));
    const uint8_t* scales = p + offsetof(block_q2_K, scales);
    const uint8_t* qs = p + offsetof(block_q2_K, qs);
    for (int e = 0; e < qk_k; e += 16) {
      const uint8_t sc = scales[e / 16];
      const float dl = d * static_cast<float>(sc & 0x0f);
      const float ml = dmin * static_cast<float>(sc >> 4);
      // Element e = half*128 + shift_index*32 + l reads bits 2*shift_index of qs[half*32 + l].
      const uint8_t* q = qs + (e / 128) * 32 + (e % 32);
      const int shift = 2 * ((e % 128) / 32);
      for (int l = 0; l < 16; ++l) out[e + l] = dl * static_cast<float>((q[l] >> shift) & 3) - ml;
    }
  }
}

// blocks: [n/256] Q3_K · out: [n] f32 — y = (d*(sc-32)) * (q2 - (hbit ? 0 : 4)), per 16 elements
void dequantize_row_q3_k(const void* blocks, float* out, int64_t n) {
  for (int64_t b = 0; b < n / qk_k; ++b, out += qk_k) {
    const uint8_t* p = block_at<block_q3_K>(blocks, b);
    const float d = fp16_to_f32(load_u16(p + offsetof(block_q3_K, d)));
    const uint8_t* hmask = p + offsetof(block_q3_K, hmask);
    const uint8_t* qs = p + offsetof(block_q3_K, qs);
    const uint8_t* sc = p + offsetof(block_q3_K, scales);
    for (int e = 0; e < qk_k; e += 16) {
      const int j = e / 16;
      const int low = j < 8 ? (sc[j] & 0x0f) : (sc[j - 8] >> 4);
      const int high = (sc[8 + j % 4] >> (2 * (j / 4))) & 3;
      const float dl = d * static_cast<float>((low | (high << 4)) - 32);
      const uint8_t* q = qs + (e / 128) * 32 + (e % 32);
      const int shift = 2 * ((e % 128) / 32);
      const int hbit = e / 32;  // hmask bit b holds elements 32*b .. 32*b+31
      for (int l = 0; l < 16; ++l) {
        const int ql = (q[l] >> shift) & 3;
        const int h = (hmask[e % 32 + l] >> hbit) & 1;
        out[e + l] = dl * static_cast<float>(ql - (h ? 0 : 4));
      }
    }
  }
}

// blocks: [n/256] Q4_K · out: [n] f32 — y = (d*sc) * q - (dmin*m), per 32 elements
void dequantize_row_q4_k(const void* blocks, float* out, int64_t n) {
  for (int64_t b = 0; b < n / qk_k; ++b, out += qk_k) {
    const uint8_t* p = block_at<block_q4_K>(blocks, b);
    const float d = fp16_to_f32(load_u16(p + offsetof(block_q4_K, d)));
    const float dmin = fp16_to_f32(load_u16(p + offsetof(block_q4_K, dmin)));
    const uint8_t* scales = p + offsetof(block_q4_K, scales);
    const uint8_t* qs = p + offsetof(block_q4_K, qs);
    for (int j = 0; j < qk_k / 32; ++j) {
      int sc, m;
      scale_min_k4(j, scales, sc, m);
      const float dl = d * static_cast<float>(sc);
      const float ml = dmin * static_cast<float>(m);
      const uint8_t* q = qs + (j / 2) * 32;
      const int shift = 4 * (j % 2);
      for (int l = 0; l < 32; ++l) out[j * 32 + l] = dl * static_cast<float>((q[l] >> shift) & 0x0f) - ml;
    }
  }
}

// blocks: [n/256] Q5_K · out: [n] f32 — as Q4_K with a fifth bit from qh
void dequantize_row_q5_k(const void* blocks, float* out, int64_t n) {
  for (int64_t b = 0; b < n / qk_k; ++b, out += qk_k) {
    const uint8_t* p = block_at<block_q5_K>(blocks, b);
    const float d = fp16_to_f32(load_u16(p + offsetof(block_q5_K, d)));
    const float dmin = fp16_to_f32(load_u16(p + offsetof(block_q5_K, dmin)));
    const uint8_t* scales = p + offsetof(block_q5_K, scales);
    const uint8_t* qh = p + offsetof(block_q5_K, qh);
    const uint8_t* qs = p + offsetof(block_q5_K, qs);
    for (int j = 0; j < qk_k / 32; ++j) {
      int sc, m;
      scale_min_k4(j, scales, sc, m);
      const float dl = d * static_cast<float>(sc);
      const float ml = dmin * static_cast<float>(m);
      const uint8_t* q = qs + (j / 2) * 32;
      const int shift = 4 * (j % 2);
      for (int l = 0; l < 32; ++l) {
        const int v = ((q[l] >> shift) & 0x0f) | (((qh[l] >> j) & 1) << 4);
        out[j * 32 + l] = dl * static_cast<float>(v) - ml;
      }
    }
  }
}

// blocks: [n/256] Q6_K · out: [n] f32 — y = (d*scale) * (q - 32), per 16 elements
void dequantize_row_q6_k(const void* blocks, float* out, int64_t n) {
  for (int64_t b = 0; b < n / qk_k; ++b, out += qk_k) {
    const uint8_t* p = block_at<block_q6_K>(blocks, b);
    const float d = fp16_to_f32(load_u16(p + offsetof(block_q6_K, d)));
    const uint8_t* ql = p + offsetof(block_q6_K, ql);
    const uint8_t* qh = p + offsetof(block_q6_K, qh);
    const uint8_t* scales = p + offsetof(block_q6_K, scales);
    // Element e = half*128 + r*32 + l: low nibble from ql[half*64 + (r%2)*32 + l] (high nibble
    // for r >= 2), top two bits from qh[half*32 + l] >> 2r.
    for (int e = 0; e < qk_k; e += 16) {
      const float dl = d * static_cast<float>(static_cast<int8_t>(scales[e / 16]));
      const int half = e / 128, r = (e % 128) / 32, l0 = e % 32;
      const uint8_t* lo = ql + half * 64 + (r % 2) * 32 + l0;
      const uint8_t* hi = qh + half * 32 + l0;
      const int lo_shift = 4 * (r / 2), hi_shift = 2 * r;
      for (int l = 0; l < 16; ++l) {
        const int v = ((lo[l] >> lo_shift) & 0x0f) | (((hi[l] >> hi_shift) & 3) << 4);
        out[e + l] = dl * static_cast<float>(v - 32);
      }
    }
  }
}

// blocks: [n/256] Q8_K · out: [n] f32 — y = d * q (ggml's dequantize_row_q8_K; gguf has none)
void dequantize_row_q8_k(const void* blocks, float* out, int64_t n) {
  for (int64_t b = 0; b < n / qk_k; ++b, out += qk_k) {
    const uint8_t* p = block_at<block_q8_K>(blocks, b);
    float d;
    std::memcpy(&d, p + offsetof(block_q8_K, d), sizeof d);
    const uint8_t* qs = p + offsetof(block_q8_K, qs);
    for (int j = 0; j < qk_k; ++j) out[j] = d * static_cast<float>(static_cast<int8_t>(qs[j]));
  }
}

}  // namespace ollm::cpu
