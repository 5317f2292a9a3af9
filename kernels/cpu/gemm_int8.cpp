// Compiled once per ISA: the int8 prefill GEMM's register tile (gemm_mr activation rows ×
// gemm_nr weight columns of int32 vpdpbusd accumulators, folded into f32 after every weight
// sub-block) and the loop that packs each weight panel once and sweeps it over all activation
// tiles. The avx512 tile is the fast one; scalar and avx2 run the same arithmetic in plain C++.
#include <algorithm>
#include <cstring>

#include "cpu/gemm_int8.hpp"
#include "cpu/gemm_simd.hpp"
#include "cpu/quant_blocks.hpp"

#if defined(OLLM_ISA_AVX512)
#include <immintrin.h>
#endif

// GCC 12's AVX-512 intrinsics pass _mm512_undefined_*() through and then warn that it is
// uninitialised wherever they are inlined (GCC bug 105593): silence that false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace ollm::cpu::OLLM_ISA_NAMESPACE {
namespace {

constexpr int mr = gemm_mr;
constexpr int nr = gemm_nr;

struct TileArgs {
  const int8_t* aq;       // tile's q at the first k of the panel: [kc/4][mr][4]
  const int32_t* corr;    // [kc/sub][mr]
  const float* qsum;      // [kc/sub][mr]
  const int16_t* qsum16;  // [kc/sub/2][mr][2] (integer mins only)
  const float* ascale;    // [groups][mr]
  int group;              // activation elements per scale: 32 or 256 (ActTiles::group)
  const uint8_t* panel;   // packed blocks (and unit tails), see gemm_int8.hpp
  int64_t kc;
  float* y;               // y[row0][col0], row stride y_stride
  int64_t y_stride;
  int rows, cols;         // valid rows (<= mr) and columns (<= nr) of this tile
  bool accumulate;        // add to y (a later k chunk) instead of overwriting it
};

enum MinKind { no_min = 0, float_min = 1, int_min = 2 };

#if defined(OLLM_ISA_AVX512)

template <int Sub, bool Bias, int Min>
void tile_kernel(const TileArgs& t) {
  constexpr int subs_per_block = gemm_block / Sub;
  constexpr int steps = Sub / 4;
  constexpr size_t block_bytes = gemm_block * nr + subs_per_block * nr * 4 * (Min == float_min ? 2 : 1);
  constexpr int min_pairs = gemm_group / Sub / 2;  // integer mins: sub-block pairs per unit (= group)
  const int8_t* aq = t.aq;
  const int32_t* corr = t.corr;
  const float* qsum = t.qsum;
  const int16_t* qsum16 = t.qsum16;
  const float* ascale = t.ascale;
  const uint8_t* panel = t.panel;

  __m512 out[mr][2];
  for (int r = 0; r < mr; ++r) out[r][0] = out[r][1] = _mm512_setzero_ps();
  for (int64_t g0 = 0; g0 < t.kc; g0 += t.group) {
    const int64_t glen = std::min<int64_t>(t.group, t.kc - g0);
    __m512 s[mr][2];
    for (int r = 0; r < mr; ++r) s[r][0] = s[r][1] = _mm512_setzero_ps();
    for (int64_t b = 0; b < glen; b += gemm_block) {
      const uint8_t* codes = panel;
      const float* sc = reinterpret_cast<const float*>(panel + gemm_block * nr);
      for (int u = 0; u < subs_per_block; ++u) {
        __m512i acc[mr][2];
        for (int r = 0; r < mr; ++r)
          acc[r][0] = acc[r][1] = Bias ? _mm512_set1_epi32(corr[r]) : _mm512_setzero_si512();
        for (int st = 0; st < steps; ++st) {
          const __m512i w0 = _mm512_load_si512(codes);
          const __m512i w1 = _mm512_load_si512(codes + 64);
          codes += 128;
          for (int r = 0; r < mr; ++r) {
            const __m512i a = _mm512_set1_epi32(static_cast<int>(load_u32(aq + 4 * r)));
            acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], w0, a);
            acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], w1, a);
          }
          aq += mr * 4;
        }
        const __m512 sc0 = _mm512_load_ps(sc + u * nr), sc1 = _mm512_load_ps(sc + u * nr + 16);
        for (int r = 0; r < mr; ++r) {
          s[r][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][0]), sc0, s[r][0]);
          s[r][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][1]), sc1, s[r][1]);
        }
        if constexpr (Min == float_min) {
          const float* mn = sc + (subs_per_block + u) * nr;
          const __m512 mn0 = _mm512_load_ps(mn), mn1 = _mm512_load_ps(mn + 16);
          for (int r = 0; r < mr; ++r) {
            const __m512 qs = _mm512_set1_ps(qsum[r]);
            s[r][0] = _mm512_fmadd_ps(mn0, qs, s[r][0]);
            s[r][1] = _mm512_fmadd_ps(mn1, qs, s[r][1]);
          }
        }
        corr += mr;
        qsum += mr;
      }
      panel += block_bytes;
    }
    if constexpr (Min == int_min) {  // the unit's tail: -dmin, then m of sub-block pairs
      const float* neg_dmin = reinterpret_cast<const float*>(panel);
      const uint8_t* m_pairs = panel + nr * 4;
      __m512i acc[mr][2];
      for (int r = 0; r < mr; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
      for (int j = 0; j < min_pairs; ++j) {
        const __m512i m0 = _mm512_load_si512(m_pairs + j * nr * 4);
        const __m512i m1 = _mm512_load_si512(m_pairs + j * nr * 4 + 64);
        for (int r = 0; r < mr; ++r) {
          const __m512i q2 = _mm512_set1_epi32(static_cast<int>(load_u32(qsum16 + 2 * r)));
          acc[r][0] = _mm512_dpwssd_epi32(acc[r][0], m0, q2);
          acc[r][1] = _mm512_dpwssd_epi32(acc[r][1], m1, q2);
        }
        qsum16 += 2 * mr;
      }
      const __m512 nd0 = _mm512_load_ps(neg_dmin), nd1 = _mm512_load_ps(neg_dmin + 16);
      for (int r = 0; r < mr; ++r) {
        s[r][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][0]), nd0, s[r][0]);
        s[r][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][1]), nd1, s[r][1]);
      }
      panel += nr * 4 + min_pairs * nr * 4;
    }
    for (int r = 0; r < mr; ++r) {
      const __m512 d = _mm512_set1_ps(ascale[r]);
      out[r][0] = _mm512_fmadd_ps(s[r][0], d, out[r][0]);
      out[r][1] = _mm512_fmadd_ps(s[r][1], d, out[r][1]);
    }
    ascale += mr;
  }
  const __mmask16 m0 = column_mask(t.cols, 0), m1 = column_mask(t.cols, 1);
  for (int r = 0; r < t.rows; ++r) {
    float* yr = t.y + r * t.y_stride;
    __m512 v0 = out[r][0], v1 = out[r][1];
    if (t.accumulate) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, yr));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, yr + 16));
    }
    _mm512_mask_storeu_ps(yr, m0, v0);
    _mm512_mask_storeu_ps(yr + 16, m1, v1);
  }
}

#else

// The same arithmetic in plain C++ (the compiler vectorizes what it can for avx2).
template <int Sub, bool Bias, int Min>
void tile_kernel(const TileArgs& t) {
  constexpr int subs_per_block = gemm_block / Sub;
  constexpr int steps = Sub / 4;
  constexpr size_t block_bytes = gemm_block * nr + subs_per_block * nr * 4 * (Min == float_min ? 2 : 1);
  constexpr int min_pairs = gemm_group / Sub / 2;
  const int8_t* aq = t.aq;
  const int32_t* corr = t.corr;
  const float* qsum = t.qsum;
  const int16_t* qsum16 = t.qsum16;
  const float* ascale = t.ascale;
  const uint8_t* panel = t.panel;

  float out[mr][nr] = {};
  for (int64_t g0 = 0; g0 < t.kc; g0 += t.group) {
    const int64_t glen = std::min<int64_t>(t.group, t.kc - g0);
    float s[mr][nr] = {};
    for (int64_t b = 0; b < glen; b += gemm_block) {
      const uint8_t* codes = panel;
      const float* sc = reinterpret_cast<const float*>(panel + gemm_block * nr);
      for (int u = 0; u < subs_per_block; ++u) {
        int32_t acc[mr][nr];
        for (int r = 0; r < mr; ++r)
          for (int c = 0; c < nr; ++c) acc[r][c] = Bias ? corr[r] : 0;
        for (int st = 0; st < steps; ++st) {
          for (int r = 0; r < mr; ++r)
            for (int c = 0; c < nr; ++c) {
              const uint8_t* w4 = codes + (c / 16) * 64 + (c % 16) * 4;
              const int8_t* a4 = aq + 4 * r;
              acc[r][c] += w4[0] * a4[0] + w4[1] * a4[1] + w4[2] * a4[2] + w4[3] * a4[3];
            }
          codes += 128;
          aq += mr * 4;
        }
        for (int r = 0; r < mr; ++r)
          for (int c = 0; c < nr; ++c) {
            s[r][c] += static_cast<float>(acc[r][c]) * sc[u * nr + c];
            if constexpr (Min == float_min) s[r][c] += sc[(subs_per_block + u) * nr + c] * qsum[r];
          }
        corr += mr;
        qsum += mr;
      }
      panel += block_bytes;
    }
    if constexpr (Min == int_min) {
      const float* neg_dmin = reinterpret_cast<const float*>(panel);
      const int16_t* m_pairs = reinterpret_cast<const int16_t*>(panel + nr * 4);
      int32_t acc[mr][nr] = {};
      for (int j = 0; j < min_pairs; ++j) {
        for (int r = 0; r < mr; ++r)
          for (int c = 0; c < nr; ++c)
            acc[r][c] += m_pairs[(j * nr + c) * 2] * qsum16[2 * r] + m_pairs[(j * nr + c) * 2 + 1] * qsum16[2 * r + 1];
        qsum16 += 2 * mr;
      }
      for (int r = 0; r < mr; ++r)
        for (int c = 0; c < nr; ++c) s[r][c] += static_cast<float>(acc[r][c]) * neg_dmin[c];
      panel += nr * 4 + min_pairs * nr * 4;
    }
    for (int r = 0; r < mr; ++r)
      for (int c = 0; c < nr; ++c) out[r][c] += s[r][c] * ascale[r];
    ascale += mr;
  }
  for (int r = 0; r < t.rows; ++r) {
    float* yr = t.y + r * t.y_stride;
    for (int c = 0; c < t.cols; ++c) yr[c] = t.accumulate ? yr[c] + out[r][c] : out[r][c];
  }
}

#endif

using TileFn = void (*)(const TileArgs&);

TileFn tile_fn(const Int8Format& f) noexcept {
  if (f.sub == 32) {
    if (f.int_min) return tile_kernel<32, false, int_min>;
    return f.has_min ? tile_kernel<32, false, float_min> : tile_kernel<32, true, no_min>;
  }
  if (f.int_min) return tile_kernel<16, false, int_min>;
  return f.has_min ? tile_kernel<16, false, float_min> : tile_kernel<16, true, no_min>;
}

}  // namespace

// w: [n, k] of w.type · a: quantized x, tiles of mr rows · y: [m, n] f32 (stride y_stride),
// the columns of the panel groups taken from `groups`
void gemm_int8_panels(const WeightMatrix& w, const Int8Format& f, const ActTiles& a, int64_t m,
                      PanelQueue& groups, int64_t kc_max, float* y, int64_t y_stride, uint8_t* scratch) {
  const TileFn tile = tile_fn(f);
  const int64_t k = a.k, subs = k / a.sub, act_groups = gemm_groups(k, a.group);
  const int64_t tiles = (m + mr - 1) / mr;
  const int64_t group_cols = gemm_panel_group * nr;
  const size_t unit_bytes = dtype_traits(w.type)->block_bytes;
  const size_t panel_bytes = int8_panel_bytes(f, kc_max);
  int64_t g = groups.take();
  while (g >= 0) {
    const int64_t next_g = groups.take();  // taken now so that its weights can be prefetched
    const int64_t col0 = g * group_cols;
    const int panels = static_cast<int>(std::min<int64_t>(gemm_panel_group, (w.n_rows - col0 + nr - 1) / nr));
    for (int64_t k0 = 0; k0 < k; k0 += kc_max) {
      const int64_t kc = std::min(kc_max, k - k0);
      for (int i = 0; i < panels; ++i) gemm_pack_panel(w, f, col0 + i * nr, k0, kc, scratch + i * panel_bytes);
      // While the tiles run, pull the weight bytes of the next pack into cache: the pack reads
      // short row pieces, a pattern the hardware prefetchers do not pick up in time.
      const bool same_group = k0 + kc < k;
      const int64_t next_k0 = same_group ? k0 + kc : 0;
      const int64_t next_col0 = same_group ? col0 : std::max<int64_t>(next_g, 0) * group_cols;
      const int64_t next_rows = same_group || next_g >= 0 ? std::min<int64_t>(group_cols, w.n_rows - next_col0) : 0;
      const int64_t piece_lines =
          static_cast<int64_t>((static_cast<size_t>(std::min(kc_max, k - next_k0) / f.unit) * unit_bytes + 63) / 64 + 1);
      const auto* next_base = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(next_k0 / f.unit) * unit_bytes +
                              static_cast<size_t>(next_col0) * w.row_stride;
      const int64_t per_tile = (next_rows * piece_lines + tiles - 1) / tiles;
      int64_t pf_row = 0, pf_line = 0;
      for (int64_t t = 0; t < tiles; ++t) {
        for (int64_t i = 0; i < per_tile && pf_row < next_rows; ++i) {
          __builtin_prefetch(next_base + static_cast<size_t>(pf_row) * w.row_stride + static_cast<size_t>(pf_line) * 64, 0, 3);
          if (++pf_line == piece_lines) pf_line = 0, ++pf_row;
        }
        // The group's panels one after the other over the same activation tile, which the
        // first panel brought into L1: one pass over the activations per group, not per panel.
        TileArgs args;
        args.aq = a.q + t * mr * k + k0 * mr;
        args.corr = a.corr + t * mr * subs + (k0 / a.sub) * mr;
        args.qsum = a.qsum + t * mr * subs + (k0 / a.sub) * mr;
        args.qsum16 = a.qsum16 != nullptr ? a.qsum16 + t * mr * subs + (k0 / a.sub) * mr : nullptr;
        args.ascale = a.scale + t * mr * act_groups + (k0 / a.group) * mr;
        args.group = a.group;
        args.kc = kc;
        args.y_stride = y_stride;
        args.rows = static_cast<int>(std::min<int64_t>(mr, m - t * mr));
        args.accumulate = k0 > 0;
        for (int i = 0; i < panels; ++i) {
          args.panel = scratch + i * panel_bytes;
          args.y = y + t * mr * y_stride + col0 + i * nr;
          args.cols = static_cast<int>(std::min<int64_t>(nr, w.n_rows - col0 - i * nr));
          tile(args);
        }
      }
    }
    g = next_g;
  }
}

}  // namespace ollm::cpu::OLLM_ISA_NAMESPACE
