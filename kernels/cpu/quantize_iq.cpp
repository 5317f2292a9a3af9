// Quantization of f32 rows to IQ4_NL and IQ4_XS: our rendering of ggml's reference
// (quantize_row_iq4_nl_impl without importance weights), float operations in ggml's order.
#include <cmath>
#include <cstddef>

#include "cpu/quant_blocks.hpp"
#include "cpu/quant_search.hpp"
#include "cpu/quantize.hpp"

namespace ollm::cpu {
namespace {

constexpr float group_max_eps = 1e-15f;

inline void store_u16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }

// Best scale for one 32-element group against the IQ4 levels, weights x^2: start from
// max/values[0] and, when ntry > 0, also try (values[0] + itry)/max for itry in [-ntry, ntry].
// Writes the level indices of the starting scale to L; returns 0 for an all-zero group.
float best_group_scale(const float* xb, uint8_t* L, int ntry) {
  const int8_t* values = iq4nl_values;
  float weight[32];
  for (int j = 0; j < 32; ++j) weight[j] = xb[j] * xb[j];
  float amax = 0, max = 0;
  for (int j = 0; j < 32; ++j) {
    const float ax = std::fabs(xb[j]);
    if (ax > amax) { amax = ax; max = xb[j]; }
  }
  if (amax < group_max_eps) return 0;
  float d = ntry > 0 ? -max / static_cast<float>(values[0]) : max / static_cast<float>(values[0]);
  float id = 1 / d;
  float sumqx = 0, sumq2 = 0;
  for (int j = 0; j < 32; ++j) {
    const float al = id * xb[j];
    const int l = best_index_int8(16, values, al);
    L[j] = static_cast<uint8_t>(l);
    const float q = values[l];
    const float w = weight[j];
    sumqx += w * q * xb[j];
    sumq2 += w * q * q;
  }
  d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
  float best = d * sumqx;
  for (int itry = -ntry; itry <= ntry; ++itry) {
    id = static_cast<float>(itry + values[0]) / max;
    sumqx = sumq2 = 0;
    for (int j = 0; j < 32; ++j) {
      const float al = id * xb[j];
      const int l = best_index_int8(16, values, al);
      const float q = values[l];
      const float w = weight[j];
      sumqx += w * q * xb[j];
      sumq2 += w * q * q;
    }
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      d = sumqx / sumq2;
      best = d * sumqx;
    }
  }
  return d;
}

inline void pack_nibbles(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < 16; ++j) qs[j] = static_cast<uint8_t>(L[j] | (L[16 + j] << 4));
}

}  // namespace

// x: [n] f32 · blocks: [n/32] IQ4_NL — ggml's quantize_row_iq4_nl_ref (no scale search)
void quantize_row_iq4_nl(const float* x, void* blocks, int64_t n) {
  auto* base = static_cast<uint8_t*>(blocks);
  for (int64_t b = 0; b < n / qk_legacy; ++b, x += qk_legacy) {
    uint8_t* p = base + static_cast<size_t>(b) * sizeof(block_iq4_nl);
    uint8_t* qs = p + offsetof(block_iq4_nl, qs);
    if (!all_finite(x, qk_legacy)) {
      store_u16(p + offsetof(block_iq4_nl, d), fp16_nan);
      std::memset(qs, 0, qk_legacy / 2);
      continue;
    }
    // An all-zero block gets d = 0 and level 8 (+1) everywhere, so it decodes to +0. (ggml
    // leaves its codes stale there; they decode to zeros of either sign.)
    uint8_t L[32];
    std::memset(L, 8, sizeof L);
    const float d = best_group_scale(x, L, -1);
    store_u16(p + offsetof(block_iq4_nl, d), f32_to_fp16(d));
    pack_nibbles(L, qs);
  }
}

// x: [n] f32 · blocks: [n/256] IQ4_XS — ggml's quantize_row_iq4_xs_ref (ntry 7, weights x^2)
void quantize_row_iq4_xs(const float* x, void* blocks, int64_t n) {
  auto* base = static_cast<uint8_t*>(blocks);
  for (int64_t b = 0; b < n / qk_k; ++b, x += qk_k) {
    uint8_t* p = base + static_cast<size_t>(b) * sizeof(block_iq4_xs);
    std::memset(p, 0, sizeof(block_iq4_xs));
    if (!all_finite(x, qk_k)) {
      store_u16(p + offsetof(block_iq4_xs, d), fp16_nan);
      continue;
    }
    uint8_t L[qk_k];
    float scales[qk_k / 32];
    float max_scale = 0, amax_scale = 0;
    for (int ib = 0; ib < qk_k / 32; ++ib) {
      scales[ib] = best_group_scale(x + 32 * ib, L + 32 * ib, 7);
      const float abs_d = std::fabs(scales[ib]);
      if (abs_d > amax_scale) { amax_scale = abs_d; max_scale = scales[ib]; }
    }
    const float d = -max_scale / 32;  // -0.0 for an all-zero block, as in ggml
    store_u16(p + offsetof(block_iq4_xs, d), f32_to_fp16(d));
    const float id = d != 0 ? 1 / d : 0.f;
    uint16_t scales_h = 0;
    uint8_t* scales_l = p + offsetof(block_iq4_xs, scales_l);
    for (int ib = 0; ib < qk_k / 32; ++ib) {
      int l = nearest_int(id * scales[ib]);
      l = l < -32 ? -32 : (l > 31 ? 31 : l);
      const float dl = d * static_cast<float>(l);
      const float idl = dl != 0 ? 1 / dl : 0.f;
      for (int j = 0; j < 32; ++j) L[32 * ib + j] = static_cast<uint8_t>(best_index_int8(16, iq4nl_values, idl * x[32 * ib + j]));
      l += 32;
      scales_l[ib / 2] = static_cast<uint8_t>(scales_l[ib / 2] | ((l & 0xf) << (4 * (ib % 2))));
      scales_h = static_cast<uint16_t>(scales_h | ((l >> 4) << (2 * ib)));
    }
    store_u16(p + offsetof(block_iq4_xs, scales_h), scales_h);
    uint8_t* qs = p + offsetof(block_iq4_xs, qs);
    for (int i = 0; i < qk_k / 32; ++i) pack_nibbles(L + 32 * i, qs + 16 * i);
  }
}

}  // namespace ollm::cpu
