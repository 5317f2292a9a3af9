// Quantization of f32 rows to the K-quant super-blocks (Q2_K..Q6_K, Q8_K): our rendering of
// ggml's reference quantizers (quantize_row_*_ref with make_qkx2_quants / make_q3_quants /
// make_qx_quants), every float operation in ggml's order so the bytes come out identical.
#include <cmath>
#include <cstddef>

#include "cpu/quant_blocks.hpp"
#include "cpu/quant_search.hpp"
#include "cpu/quantize.hpp"

namespace ollm::cpu {
namespace {

constexpr float group_max_eps = 1e-15f;  // ggml's GROUP_MAX_EPS: below it a group is "all zero"

template <class Block>
uint8_t* block_at(void* blocks, int64_t i) {
  return static_cast<uint8_t*>(blocks) + static_cast<size_t>(i) * sizeof(Block);
}

inline void store_u16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
inline int imax(int a, int b) { return a > b ? a : b; }
inline int imin(int a, int b) { return a < b ? a : b; }

// Symmetric codes L in [0, 2*nmax) for x[0..n) with weights x^2 (ggml's make_qx_quants with
// rmse_type 1 and no importance weights), trying 18 scales around -nmax/max; returns the scale.
float make_qx_quants(int n, int nmax, const float* x, int8_t* L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) { amax = ax; max = x[i]; }
  }
  if (amax < group_max_eps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.f;
  }
  float iscale = static_cast<float>(-nmax) / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = nearest_int(iscale * x[i]);
    l = imax(-nmax, imin(nmax - 1, l));
    L[i] = static_cast<int8_t>(l + nmax);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * static_cast<float>(l);
    suml2 += w * static_cast<float>(l) * static_cast<float>(l);
  }
  float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is)) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearest_int(iscale * x[i]);
      l = imax(-nmax, imin(nmax - 1, l));
      const float w = x[i] * x[i];
      sumlx += w * x[i] * static_cast<float>(l);
      suml2 += w * static_cast<float>(l) * static_cast<float>(l);
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) {
        const int l = nearest_int(iscale * x[i]);
        L[i] = static_cast<int8_t>(nmax + imax(-nmax, imin(nmax - 1, l)));
      }
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// Symmetric 3-bit codes with iterative refinement (ggml's make_q3_quants, do_rmse = true).
float make_q3_quants(int n, int nmax, const float* x, int8_t* L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) { amax = ax; max = x[i]; }
  }
  if (amax < group_max_eps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.f;
  }
  const float iscale = static_cast<float>(-nmax) / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = nearest_int(iscale * x[i]);
    l = imax(-nmax, imin(nmax - 1, l));
    L[i] = static_cast<int8_t>(l);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * static_cast<float>(l);
    suml2 += w * static_cast<float>(l) * static_cast<float>(l);
  }
  for (int itry = 0; itry < 5; ++itry) {
    int n_changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      float slx = sumlx - w * x[i] * static_cast<float>(L[i]);
      if (slx > 0) {
        float sl2 = suml2 - w * static_cast<float>(L[i]) * static_cast<float>(L[i]);
        int new_l = nearest_int(x[i] * sl2 / slx);
        new_l = imax(-nmax, imin(nmax - 1, new_l));
        if (new_l != L[i]) {
          slx += w * x[i] * static_cast<float>(new_l);
          sl2 += w * static_cast<float>(new_l) * static_cast<float>(new_l);
          if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = static_cast<int8_t>(new_l);
            sumlx = slx;
            suml2 = sl2;
            ++n_changed;
          }
        }
      }
    }
    if (!n_changed) break;
  }
  for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(L[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

// Asymmetric codes L in [0, nmax] with a min (x ~ scale*L - the_min), searching nstep+1
// candidate scales and solving weighted least squares for each (ggml's make_qkx2_quants).
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min,
                       uint8_t* Laux, float rmin, float rdelta, int nstep, bool use_mad) {
  float min = x[0], max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *the_min = -min;
    return 0.f;
  }
  float iscale = static_cast<float>(nmax) / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    const int l = nearest_int(iscale * (x[i] - min));
    L[i] = static_cast<uint8_t>(imax(0, imin(nmax, l)));
    float diff = scale * static_cast<float>(L[i]) + min - x[i];
    diff = use_mad ? std::fabs(diff) : diff * diff;
    best_error += weights[i] * diff;
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * static_cast<float>(is) + static_cast<float>(nmax)) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearest_int(iscale * (x[i] - min));
      l = imax(0, imin(nmax, l));
      Laux[i] = static_cast<uint8_t>(l);
      const float w = weights[i];
      const float fl = static_cast<float>(l);
      sum_l += w * fl;
      sum_l2 += w * fl * fl;
      sum_xl += w * fl * x[i];
    }
    const float D = sum_w * sum_l2 - sum_l * sum_l;
    if (D > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float cur_error = 0;
      for (int i = 0; i < n; ++i) {
        float diff = this_scale * static_cast<float>(Laux[i]) + this_min - x[i];
        diff = use_mad ? std::fabs(diff) : diff * diff;
        cur_error += weights[i] * diff;
      }
      if (cur_error < best_error) {
        for (int i = 0; i < n; ++i) L[i] = Laux[i];
        best_error = cur_error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *the_min = -min;
  return scale;
}

inline void scale_min_k4(int j, const uint8_t* q, uint8_t& d, uint8_t& m) {
  if (j < 4) {
    d = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// Q4_K and Q5_K share everything but the code width and the search parameters.
template <int nmax>
void quantize_superblock_qkx(const float* x, uint8_t* scales_out, uint16_t& d_out, uint16_t& dmin_out, uint8_t* L,
                             float rmin, int nstep) {
  uint8_t Laux[32];
  float weights[32], mins[qk_k / 32], scales[qk_k / 32];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < qk_k / 32; ++j) {
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
    scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin, 0.1f, nstep, false);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  std::memset(scales_out, 0, k_scale_size);
  for (int j = 0; j < qk_k / 32; ++j) {
    // ggml stores nearest_int into a uint8_t before clamping: a negative scale wraps and
    // clamps to 63. Kept for identical bytes.
    uint8_t ls = static_cast<uint8_t>(nearest_int(inv_scale * scales[j]));
    uint8_t lm = static_cast<uint8_t>(nearest_int(inv_min * mins[j]));
    ls = ls < 63 ? ls : 63;
    lm = lm < 63 ? lm : 63;
    if (j < 4) {
      scales_out[j] = ls;
      scales_out[j + 4] = lm;
    } else {
      scales_out[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
      scales_out[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
      scales_out[j] |= static_cast<uint8_t>((lm >> 4) << 6);
    }
  }
  d_out = f32_to_fp16(max_scale / 63.f);
  dmin_out = f32_to_fp16(max_min / 63.f);
  const float d_all = fp16_to_f32(d_out), dmin_all = fp16_to_f32(dmin_out);
  for (int j = 0; j < qk_k / 32; ++j) {
    uint8_t sc, m;
    scale_min_k4(j, scales_out, sc, m);
    const float d = d_all * static_cast<float>(sc);
    if (d == 0) continue;
    const float dm = dmin_all * static_cast<float>(m);
    for (int ii = 0; ii < 32; ++ii) {
      const int l = nearest_int((x[32 * j + ii] + dm) / d);
      L[32 * j + ii] = static_cast<uint8_t>(imax(0, imin(nmax, l)));
    }
  }
}

}  // namespace

// x: [n] f32 · blocks: [n/256] Q2_K
void quantize_row_q2_k(const float* x, void* blocks, int64_t n) {
  constexpr float q4scale = 15.f;
  for (int64_t b = 0; b < n / qk_k; ++b, x += qk_k) {
    uint8_t* p = block_at<block_q2_K>(blocks, b);
    std::memset(p, 0, sizeof(block_q2_K));
    if (!all_finite(x, qk_k)) {
      store_u16(p + offsetof(block_q2_K, d), fp16_nan);
      continue;
    }
    uint8_t* y_scales = p + offsetof(block_q2_K, scales);
    uint8_t L[qk_k], Laux[16];
    float weights[16], mins[qk_k / 16], scales[qk_k / 16];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < qk_k / 16; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
      scales[j] = make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, true);
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }
    uint16_t d16 = f32_to_fp16(0.f), dmin16 = f32_to_fp16(0.f);
    if (max_scale > 0) {
      const float iscale = q4scale / max_scale;
      for (int j = 0; j < qk_k / 16; ++j) y_scales[j] = static_cast<uint8_t>(nearest_int(iscale * scales[j]));
      d16 = f32_to_fp16(max_scale / q4scale);
    }
    if (max_min > 0) {
      const float iscale = q4scale / max_min;
      for (int j = 0; j < qk_k / 16; ++j)
        y_scales[j] = static_cast<uint8_t>(y_scales[j] | (nearest_int(iscale * mins[j]) << 4));
      dmin16 = f32_to_fp16(max_min / q4scale);
    }
    store_u16(p + offsetof(block_q2_K, d), d16);
    store_u16(p + offsetof(block_q2_K, dmin), dmin16);
    const float d_all = fp16_to_f32(d16), dmin_all = fp16_to_f32(dmin16);
    for (int j = 0; j < qk_k / 16; ++j) {
      const float d = d_all * static_cast<float>(y_scales[j] & 0xF);
      if (d == 0) continue;
      const float dm = dmin_all * static_cast<float>(y_scales[j] >> 4);
      for (int ii = 0; ii < 16; ++ii) {
        const int l = nearest_int((x[16 * j + ii] + dm) / d);
        L[16 * j + ii] = static_cast<uint8_t>(imax(0, imin(3, l)));
      }
    }
    uint8_t* qs = p + offsetof(block_q2_K, qs);
    for (int j = 0; j < qk_k; j += 128)
      for (int l = 0; l < 32; ++l)
        qs[j / 4 + l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
  }
}

// x: [n] f32 · blocks: [n/256] Q3_K
void quantize_row_q3_k(const float* x, void* blocks, int64_t n) {
  for (int64_t b = 0; b < n / qk_k; ++b, x += qk_k) {
    uint8_t* p = block_at<block_q3_K>(blocks, b);
    std::memset(p, 0, sizeof(block_q3_K));
    if (!all_finite(x, qk_k)) {
      store_u16(p + offsetof(block_q3_K, d), fp16_nan);
      continue;
    }
    uint8_t* y_scales = p + offsetof(block_q3_K, scales);
    int8_t L[qk_k];
    float scales[qk_k / 16];
    float max_scale = 0, amax = 0;
    for (int j = 0; j < qk_k / 16; ++j) {
      scales[j] = make_q3_quants(16, 4, x + 16 * j, L + 16 * j);
      const float scale = std::fabs(scales[j]);
      if (scale > amax) { amax = scale; max_scale = scales[j]; }
    }
    uint16_t d16 = f32_to_fp16(0.f);
    if (max_scale != 0) {
      const float iscale = -32.f / max_scale;
      for (int j = 0; j < qk_k / 16; ++j) {
        int8_t l = static_cast<int8_t>(nearest_int(iscale * scales[j]));
        l = static_cast<int8_t>(imax(-32, imin(31, l)) + 32);
        if (j < 8) y_scales[j] = static_cast<uint8_t>(l & 0xF);
        else y_scales[j - 8] = static_cast<uint8_t>(y_scales[j - 8] | ((l & 0xF) << 4));
        l = static_cast<int8_t>(l >> 4);
        y_scales[j % 4 + 8] = static_cast<uint8_t>(y_scales[j % 4 + 8] | (l << (2 * (j / 4))));
      }
      d16 = f32_to_fp16(1 / iscale);
    }
    store_u16(p + offsetof(block_q3_K, d), d16);
    const float d_all = fp16_to_f32(d16);
    for (int j = 0; j < qk_k / 16; ++j) {
      int sc = j < 8 ? (y_scales[j] & 0xF) : (y_scales[j - 8] >> 4);
      sc = (sc | (((y_scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
      const float d = d_all * static_cast<float>(sc);
      if (d == 0) continue;
      for (int ii = 0; ii < 16; ++ii) {
        const int l = nearest_int(x[16 * j + ii] / d);
        L[16 * j + ii] = static_cast<int8_t>(imax(-4, imin(3, l)) + 4);
      }
    }
    // High bit of element j goes to bit j/32 of hmask[j%32]; a set bit means "no -4 offset".
    uint8_t* hmask = p + offsetof(block_q3_K, hmask);
    for (int j = 0; j < qk_k; ++j)
      if (L[j] > 3) {
        hmask[j % 32] = static_cast<uint8_t>(hmask[j % 32] | (1 << (j / 32)));
        L[j] = static_cast<int8_t>(L[j] - 4);
      }
    uint8_t* qs = p + offsetof(block_q3_K, qs);
    for (int j = 0; j < qk_k; j += 128)
      for (int l = 0; l < 32; ++l)
        qs[j / 4 + l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
  }
}

// x: [n] f32 · blocks: [n/256] Q4_K
void quantize_row_q4_k(const float* x, void* blocks, int64_t n) {
  for (int64_t b = 0; b < n / qk_k; ++b, x += qk_k) {
    uint8_t* p = block_at<block_q4_K>(blocks, b);
    std::memset(p, 0, sizeof(block_q4_K));
    if (!all_finite(x, qk_k)) {
      store_u16(p + offsetof(block_q4_K, d), fp16_nan);
      continue;
    }
    uint8_t L[qk_k];
    uint16_t d16, dmin16;
    quantize_superblock_qkx<15>(x, p + offsetof(block_q4_K, scales), d16, dmin16, L, -1.f, 20);
    store_u16(p + offsetof(block_q4_K, d), d16);
    store_u16(p + offsetof(block_q4_K, dmin), dmin16);
    uint8_t* q = p + offsetof(block_q4_K, qs);
    for (int j = 0; j < qk_k; j += 64, q += 32)
      for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
  }
}

// x: [n] f32 · blocks: [n/256] Q5_K
void quantize_row_q5_k(const float* x, void* blocks, int64_t n) {
  for (int64_t b = 0; b < n / qk_k; ++b, x += qk_k) {
    uint8_t* p = block_at<block_q5_K>(blocks, b);
    std::memset(p, 0, sizeof(block_q5_K));
    if (!all_finite(x, qk_k)) {
      store_u16(p + offsetof(block_q5_K, d), fp16_nan);
      continue;
    }
    uint8_t L[qk_k];
    uint16_t d16, dmin16;
    quantize_superblock_qkx<31>(x, p + offsetof(block_q5_K, scales), d16, dmin16, L, -0.5f, 15);
    store_u16(p + offsetof(block_q5_K, d), d16);
    store_u16(p + offsetof(block_q5_K, dmin), dmin16);
    uint8_t* qh = p + offsetof(block_q5_K, qh);
    uint8_t* ql = p + offsetof(block_q5_K, qs);
    uint8_t m1 = 1, m2 = 2;
    for (int nn = 0; nn < qk_k; nn += 64, ql += 32) {
      for (int j = 0; j < 32; ++j) {
        int l1 = L[nn + j], l2 = L[nn + j + 32];
        if (l1 > 15) { l1 -= 16; qh[j] |= m1; }
        if (l2 > 15) { l2 -= 16; qh[j] |= m2; }
        ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
      }
      m1 = static_cast<uint8_t>(m1 << 2);
      m2 = static_cast<uint8_t>(m2 << 2);
    }
  }
}

// x: [n] f32 · blocks: [n/256] Q6_K
void quantize_row_q6_k(const float* x, void* blocks, int64_t n) {
  for (int64_t b = 0; b < n / qk_k; ++b, x += qk_k) {
    uint8_t* p = block_at<block_q6_K>(blocks, b);
    std::memset(p, 0, sizeof(block_q6_K));
    if (!all_finite(x, qk_k)) {
      store_u16(p + offsetof(block_q6_K, d), fp16_nan);
      continue;
    }
    int8_t L[qk_k];
    float scales[qk_k / 16];
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < qk_k / 16; ++ib) {
      const float scale = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib);
      scales[ib] = scale;
      const float abs_scale = std::fabs(scale);
      if (abs_scale > max_abs_scale) { max_abs_scale = abs_scale; max_scale = scale; }
    }
    if (max_abs_scale < group_max_eps) continue;  // all-zero block: every byte 0, d = +0
    const float iscale = -128.f / max_scale;
    const uint16_t d16 = f32_to_fp16(1 / iscale);
    store_u16(p + offsetof(block_q6_K, d), d16);
    auto* y_scales = p + offsetof(block_q6_K, scales);
    for (int ib = 0; ib < qk_k / 16; ++ib)
      y_scales[ib] = static_cast<uint8_t>(static_cast<int8_t>(imin(127, nearest_int(iscale * scales[ib]))));
    const float d_all = fp16_to_f32(d16);
    for (int j = 0; j < qk_k / 16; ++j) {
      const float d = d_all * static_cast<float>(static_cast<int8_t>(y_scales[j]));
      if (d == 0) continue;
      for (int ii = 0; ii < 16; ++ii) {
        const int l = nearest_int(x[16 * j + ii] / d);
        L[16 * j + ii] = static_cast<int8_t>(imax(-32, imin(31, l)) + 32);
      }
    }
    uint8_t* ql = p + offsetof(block_q6_K, ql);
    uint8_t* qh = p + offsetof(block_q6_K, qh);
    for (int j = 0; j < qk_k; j += 128, ql += 64, qh += 32) {
      for (int l = 0; l < 32; ++l) {
        const int q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF;
        const int q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
        ql[l] = static_cast<uint8_t>(q1 | (q3 << 4));
        ql[l + 32] = static_cast<uint8_t>(q2 | (q4 << 4));
        qh[l] = static_cast<uint8_t>((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                                     ((L[j + l + 96] >> 4) << 6));
      }
    }
  }
}

// x: [n] f32 · blocks: [n/256] Q8_K — d = max_signed / -127 in f32, q = nearest(x/d), bsums
void quantize_row_q8_k(const float* x, void* blocks, int64_t n) {
  for (int64_t b = 0; b < n / qk_k; ++b, x += qk_k) {
    uint8_t* p = block_at<block_q8_K>(blocks, b);
    std::memset(p, 0, sizeof(block_q8_K));
    if (!all_finite(x, qk_k)) {
      const float nan = f32_from_bits(0x7fc00000u);
      std::memcpy(p + offsetof(block_q8_K, d), &nan, sizeof nan);
      continue;
    }
    float max = 0, amax = 0;
    for (int j = 0; j < qk_k; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) { amax = ax; max = x[j]; }
    }
    if (amax == 0) continue;  // d = 0, codes and sums 0
    const float iscale = -127.f / max;
    auto* qs = reinterpret_cast<int8_t*>(p + offsetof(block_q8_K, qs));
    for (int j = 0; j < qk_k; ++j) qs[j] = static_cast<int8_t>(imin(127, nearest_int(iscale * x[j])));
    for (int j = 0; j < qk_k / 16; ++j) {
      int sum = 0;
      for (int ii = 0; ii < 16; ++ii) sum += qs[j * 16 + ii];
      const auto s = static_cast<int16_t>(sum);
      std::memcpy(p + offsetof(block_q8_K, bsums) + 2 * j, &s, 2);
    }
    const float d = 1 / iscale;
    std::memcpy(p + offsetof(block_q8_K, d), &d, sizeof d);
  }
}

}  // namespace ollm::cpu
