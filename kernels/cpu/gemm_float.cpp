// Compiled once per ISA: the own float prefill GEMM — activation tiles, weight panels converted
// to f32 (F32/F16/BF16) with a 16×16 transpose, a gemm_mr_float × gemm_nr FMA register tile,
// and (avx512 with AVX512-BF16) the bf16 variant on vdpbf16ps with weights kept as bf16 pairs.
#include <algorithm>
#include <cstring>
#include <vector>

#include "cpu/cpu_features.hpp"
#include "cpu/gemm_float.hpp"
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

constexpr int mr = gemm_mr_float;
constexpr int nr = gemm_nr;

inline float weight_f32(DType type, const uint8_t* row, int64_t i) {
  switch (type) {
    case DType::f16: return fp16_to_f32(load_u16(row + 2 * i));
    case DType::bf16: return bf16_to_f32(load_u16(row + 2 * i));
    default: {
      float v;
      std::memcpy(&v, row + 4 * i, 4);
      return v;
    }
  }
}

#if defined(OLLM_ISA_AVX512)

inline __m512 load16_f32(DType type, const uint8_t* row, int64_t i) {
  switch (type) {
    case DType::f16:
      return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * i)));
    case DType::bf16:
      return _mm512_castsi512_ps(_mm512_slli_epi32(
          _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * i))), 16));
    default: return _mm512_loadu_ps(row + 4 * i);
  }
}

#endif

// w rows [col0, col0 + nr), elements [k0, k0 + kc) -> panel [kc][nr] f32 (rows past n: zeros)
void pack_panel_f32(const WeightMatrix& w, int64_t col0, int64_t k0, int64_t kc, float* panel) {
  const int64_t cols = std::min<int64_t>(nr, w.n_rows - col0);
  const auto* base = static_cast<const uint8_t*>(w.data);
  int64_t done = 0;
#if defined(OLLM_ISA_AVX512)
  // (F16C conversion quiets NaN payloads; a product with a NaN is NaN either way.)
  if (cols == nr) done = kc / 16 * 16;
  for (int half = 0; half < 2 && done > 0; ++half) {
    for (int64_t kk = 0; kk < done; kk += 16) {
      __m512 r[16];
      for (int i = 0; i < 16; ++i)
        r[i] = load16_f32(w.type, base + static_cast<size_t>(col0 + half * 16 + i) * w.row_stride, k0 + kk);
      transpose16(r);
      for (int i = 0; i < 16; ++i) _mm512_store_ps(panel + (kk + i) * nr + half * 16, r[i]);
    }
  }
#endif
  for (int64_t kk = done; kk < kc; ++kk)
    for (int c = 0; c < nr; ++c)
      panel[kk * nr + c] =
          c < cols ? weight_f32(w.type, base + static_cast<size_t>(col0 + c) * w.row_stride, k0 + kk) : 0.0f;
}

// xt: [kc][mr] (the tile at k0) · panel: [kc][nr] · y: rows x cols of output
void f32_tile(const float* xt, const float* panel, int64_t kc, float* y, int64_t y_stride, int rows,
              int cols, bool accumulate) {
#if defined(OLLM_ISA_AVX512)
  __m512 acc[mr][2];
  for (int r = 0; r < mr; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t kk = 0; kk < kc; ++kk) {
    // The activation tile streams from L2 (it is used once per panel): fetch ahead of the loads.
    _mm_prefetch(reinterpret_cast<const char*>(xt + 8 * mr), _MM_HINT_T0);
    const __m512 w0 = _mm512_load_ps(panel), w1 = _mm512_load_ps(panel + 16);
    panel += nr;
    for (int r = 0; r < mr; ++r) {
      const __m512 a = _mm512_set1_ps(xt[r]);
      acc[r][0] = _mm512_fmadd_ps(a, w0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(a, w1, acc[r][1]);
    }
    xt += mr;
  }
  const __mmask16 m0 = column_mask(cols, 0), m1 = column_mask(cols, 1);
  for (int r = 0; r < rows; ++r) {
    float* yr = y + r * y_stride;
    __m512 v0 = acc[r][0], v1 = acc[r][1];
    if (accumulate) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, yr));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, yr + 16));
    }
    _mm512_mask_storeu_ps(yr, m0, v0);
    _mm512_mask_storeu_ps(yr + 16, m1, v1);
  }
#else
  float acc[mr][nr] = {};
  for (int64_t kk = 0; kk < kc; ++kk) {
    for (int r = 0; r < mr; ++r)
      for (int c = 0; c < nr; ++c) acc[r][c] += xt[r] * panel[c];
    panel += nr;
    xt += mr;
  }
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) y[r * y_stride + c] = accumulate ? y[r * y_stride + c] + acc[r][c] : acc[r][c];
#endif
}

// Prefetches, spread over the tiles of one pack, the weight bytes the next pack will read.
class NextPackPrefetch {
 public:
  NextPackPrefetch(const WeightMatrix& w, size_t elem, int64_t col0, int64_t k0, int64_t kc, int64_t tiles)
      : w_(w), rows_(col0 >= 0 ? std::min<int64_t>(nr, w.n_rows - col0) : 0),
        lines_(static_cast<int64_t>(static_cast<size_t>(kc) * elem / 64 + 2)),
        base_(static_cast<const uint8_t*>(w.data) + static_cast<size_t>(std::max<int64_t>(col0, 0)) * w.row_stride +
              static_cast<size_t>(k0) * elem),
        per_tile_((rows_ * lines_ + tiles - 1) / tiles) {}
  void step() {
    for (int64_t i = 0; i < per_tile_ && row_ < rows_; ++i) {
      __builtin_prefetch(base_ + static_cast<size_t>(row_) * w_.row_stride + static_cast<size_t>(line_) * 64, 0, 3);
      if (++line_ == lines_) line_ = 0, ++row_;
    }
  }

 private:
  const WeightMatrix& w_;
  int64_t rows_, lines_;
  const uint8_t* base_;
  int64_t per_tile_, row_ = 0, line_ = 0;
};

size_t element_bytes(DType type) { return type == DType::f32 ? 4 : 2; }

}  // namespace

// w: [n, k] F32/F16/BF16 · out: [r1 - r0][k] f32
void gemm_weight_rows_f32(const WeightMatrix& w, int64_t r0, int64_t r1, float* out) {
  const int64_t k = w.n_cols;
  for (int64_t r = r0; r < r1; ++r, out += k) {
    const auto* row = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(r) * w.row_stride;
    int64_t i = 0;
#if defined(OLLM_ISA_AVX512)
    for (; i + 16 <= k; i += 16) _mm512_storeu_ps(out + i, load16_f32(w.type, row, i));
#endif
    for (; i < k; ++i) out[i] = weight_f32(w.type, row, i);
  }
}

// x: [rows, k] f32 · out: [rows, k] bf16
void gemm_rows_to_bf16(const float* x, int64_t x_stride, int64_t rows, int64_t k, uint16_t* out, int64_t out_stride) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * x_stride;
    uint16_t* o = out + r * out_stride;
    int64_t i = 0;
#if defined(OLLM_ISA_AVX512)
    for (; i + 16 <= k; i += 16) {
      const __m512i u = _mm512_castps_si512(_mm512_loadu_ps(xr + i));
      const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
      __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
      const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)),
                                                    _mm512_set1_epi32(0x7f800000));
      rounded = _mm512_mask_mov_epi32(rounded, nan, _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(64)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + i), _mm512_cvtepi32_epi16(rounded));
    }
#endif
    for (; i < k; ++i) o[i] = f32_to_bf16(xr[i]);
  }
}

// x: [m, k] f32 · xt: [tiles][k][mr] f32
void gemm_pack_rows_f32(const float* x, int64_t x_stride, int64_t m, int64_t k, int64_t tile_begin,
                        int64_t tile_end, float* xt) {
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    float* out = xt + t * k * mr;
    for (int r = 0; r < mr; ++r) {
      const int64_t row = t * mr + r;
      if (row < m) {
        const float* xr = x + row * x_stride;
        for (int64_t kk = 0; kk < k; ++kk) out[kk * mr + r] = xr[kk];
      } else {
        for (int64_t kk = 0; kk < k; ++kk) out[kk * mr + r] = 0.0f;
      }
    }
  }
}


// w: [n, k] F32/F16/BF16 · xt: [tiles][k][mr] · y: [m, n] f32, columns of the panels taken
void gemm_f32_panels(const WeightMatrix& w, const float* xt, int64_t m, PanelQueue& panels,
                     int64_t kc_max, float* y, int64_t y_stride, float* scratch) {
  const int64_t k = w.n_cols, tiles = (m + mr - 1) / mr;
  int64_t p = panels.take();
  while (p >= 0) {
    const int64_t next_p = panels.take();
    const int64_t col0 = p * nr;
    const int cols = static_cast<int>(std::min<int64_t>(nr, w.n_rows - col0));
    for (int64_t k0 = 0; k0 < k; k0 += kc_max) {
      const int64_t kc = std::min(kc_max, k - k0);
      pack_panel_f32(w, col0, k0, kc, scratch);
      const bool same = k0 + kc < k;
      NextPackPrefetch prefetch(w, element_bytes(w.type), same ? col0 : (next_p >= 0 ? next_p * nr : -1),
                                same ? k0 + kc : 0, std::min(kc_max, same ? k - k0 - kc : k), tiles);
      for (int64_t t = 0; t < tiles; ++t) {
        prefetch.step();
        f32_tile(xt + t * k * mr + k0 * mr, scratch, kc, y + t * mr * y_stride + col0, y_stride,
                 static_cast<int>(std::min<int64_t>(mr, m - t * mr)), cols, k0 > 0);
      }
    }
    p = next_p;
  }
}

#if defined(OLLM_ISA_AVX512)

namespace {

// w rows [col0, col0 + nr), elements [k0, k0 + kc) (kc even, or the row's odd end) ->
// panel [ceil(kc/2)][nr][2] bf16; rows past n and the element past an odd k are zeros.
void pack_panel_bf16(const WeightMatrix& w, int64_t col0, int64_t k0, int64_t kc, uint16_t* panel) {
  const int64_t cols = std::min<int64_t>(nr, w.n_rows - col0);
  const auto* base = static_cast<const uint8_t*>(w.data);
  const int64_t done = cols == nr ? kc / 32 * 32 : 0;
  for (int half = 0; half < 2 && done > 0; ++half) {
    for (int64_t kk = 0; kk < done; kk += 32) {  // 16 pairs of 16 rows: one dword transpose
      __m512 r[16];
      for (int i = 0; i < 16; ++i)
        r[i] = _mm512_loadu_ps(base + static_cast<size_t>(col0 + half * 16 + i) * w.row_stride + 2 * (k0 + kk));
      transpose16(r);
      for (int i = 0; i < 16; ++i) _mm512_store_ps(panel + ((kk / 2 + i) * nr + half * 16) * 2, r[i]);
    }
  }
  for (int64_t kk = done; kk < kc; kk += 2)
    for (int c = 0; c < nr; ++c)
      for (int j = 0; j < 2; ++j) {
        const bool valid = c < cols && kk + j < kc;
        panel[((kk / 2) * nr + c) * 2 + j] =
            valid ? load_u16(base + static_cast<size_t>(col0 + c) * w.row_stride + 2 * (k0 + kk + j)) : 0;
      }
}

__attribute__((target("avx512bf16"))) void bf16_tile(const uint16_t* xb, const uint16_t* panel,
                                                      int64_t pairs, float* y, int64_t y_stride,
                                                      int rows, int cols, bool accumulate) {
  __m512 acc[mr][2];
  for (int r = 0; r < mr; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t kp = 0; kp < pairs; ++kp) {
    _mm_prefetch(reinterpret_cast<const char*>(xb + 16 * mr), _MM_HINT_T0);
    const __m512bh w0 = reinterpret_cast<__m512bh>(_mm512_load_si512(panel));
    const __m512bh w1 = reinterpret_cast<__m512bh>(_mm512_load_si512(panel + 32));
    panel += 2 * nr;
    for (int r = 0; r < mr; ++r) {
      const __m512bh a = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(load_u32(xb + 2 * r))));
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], a, w0);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], a, w1);
    }
    xb += 2 * mr;
  }
  const __mmask16 m0 = column_mask(cols, 0), m1 = column_mask(cols, 1);
  for (int r = 0; r < rows; ++r) {
    float* yr = y + r * y_stride;
    __m512 v0 = acc[r][0], v1 = acc[r][1];
    if (accumulate) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, yr));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, yr + 16));
    }
    _mm512_mask_storeu_ps(yr, m0, v0);
    _mm512_mask_storeu_ps(yr + 16, m1, v1);
  }
}

}  // namespace

// x: [m, k] f32 · xb: [tiles][kp/2][mr][2] bf16, round to nearest even (NaN stays NaN)
void gemm_pack_rows_bf16(const float* x, int64_t x_stride, int64_t m, int64_t k, int64_t tile_begin,
                         int64_t tile_end, uint16_t* xb) {
  const int64_t kp = (k + 1) / 2 * 2;
  std::vector<uint16_t> row(static_cast<size_t>(kp), 0);  // one row in bf16, then 2 at a time into the tile
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    uint16_t* out = xb + t * kp * mr;
    for (int r = 0; r < mr; ++r) {
      const int64_t rr = t * mr + r;
      if (rr < m)
        gemm_rows_to_bf16(x + rr * x_stride, x_stride, 1, k, row.data(), kp);
      else
        std::fill(row.begin(), row.end(), uint16_t{0});
      for (int64_t j = 0; j < kp / 2; ++j) std::memcpy(out + (j * mr + r) * 2, row.data() + 2 * j, 4);
    }
  }
}

// w: [n, k] BF16 · xb: packed bf16 activations · y: [m, n] f32, columns of the panels taken
void gemm_bf16_panels(const WeightMatrix& w, const uint16_t* xb, int64_t m, PanelQueue& panels, int64_t kc_max,
                      float* y, int64_t y_stride, uint16_t* scratch) {
  const int64_t k = w.n_cols, kp = (k + 1) / 2 * 2, tiles = (m + mr - 1) / mr;
  int64_t p = panels.take();
  while (p >= 0) {
    const int64_t next_p = panels.take();
    const int64_t col0 = p * nr;
    const int cols = static_cast<int>(std::min<int64_t>(nr, w.n_rows - col0));
    for (int64_t k0 = 0; k0 < k; k0 += kc_max) {
      const int64_t kc = std::min(kc_max, k - k0);
      pack_panel_bf16(w, col0, k0, kc, scratch);
      const bool same = k0 + kc < k;
      NextPackPrefetch prefetch(w, 2, same ? col0 : (next_p >= 0 ? next_p * nr : -1), same ? k0 + kc : 0,
                                std::min(kc_max, same ? k - k0 - kc : k), tiles);
      for (int64_t t = 0; t < tiles; ++t) {
        prefetch.step();
        bf16_tile(xb + t * kp * mr + k0 * mr, scratch, (kc + 1) / 2, y + t * mr * y_stride + col0, y_stride,
                  static_cast<int>(std::min<int64_t>(mr, m - t * mr)), cols, k0 > 0);
      }
    }
    p = next_p;
  }
}

#endif

}  // namespace ollm::cpu::OLLM_ISA_NAMESPACE
