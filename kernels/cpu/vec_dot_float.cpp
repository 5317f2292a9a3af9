// Compiled once per ISA: decode matmul row kernels for float weights (F32, F16, BF16) against f32
// activations: F16 widened with vcvtph2ps, BF16 by a 16-bit shift (exact), f32 FMAs.
#include <algorithm>
#include <cstring>

#if defined(OLLM_ISA_AVX512) || defined(OLLM_ISA_AVX2)
#include <immintrin.h>
#endif
// GCC 12's AVX-512 intrinsics pass _mm512_undefined_*() through and then warn that it is
// uninitialised wherever they are inlined (GCC bug 105593): silence that false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "cpu/gemv_kernels.hpp"
#include "cpu/quant_blocks.hpp"

namespace ollm::cpu::OLLM_ISA_NAMESPACE {
namespace {

constexpr int max_tile = 4;

#if defined(OLLM_ISA_AVX512)

constexpr int width = 16;
using VF = __m512;
struct LoadF32 {
  // Two 32-byte loads: a 64-byte load straddling cache lines in flight from DRAM is far slower.
  static VF full(const uint8_t* p) {
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_loadu_ps(reinterpret_cast<const float*>(p))),
                              _mm256_loadu_ps(reinterpret_cast<const float*>(p + 32)), 1);
  }
  static VF part(const uint8_t* p, __mmask16 k) { return _mm512_maskz_loadu_ps(k, p); }
  static constexpr size_t size = 4;
};
struct LoadF16 {
  static VF full(const uint8_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static VF part(const uint8_t* p, __mmask16 k) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, p)); }
  static constexpr size_t size = 2;
};
struct LoadBF16 {
  static VF widen(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }
  static VF full(const uint8_t* p) { return widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static VF part(const uint8_t* p, __mmask16 k) { return widen(_mm256_maskz_loadu_epi16(k, p)); }
  static constexpr size_t size = 2;
};

// w: one row of k elements · x: M f32 rows · out: M dots. Two accumulators per row hide the FMA
// latency when M is 1; masked loads take the tail without reading past the row.
template <class L, int M>
inline void row_dots(const uint8_t* w, int64_t k, const float* const* x, float* out) {
  VF acc0[M], acc1[M];
  for (int i = 0; i < M; ++i) acc0[i] = acc1[i] = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 2 * width <= k; j += 2 * width) {
    prefetch_ahead<2 * width * L::size>(w + j * L::size);
    const VF w0 = L::full(w + j * L::size), w1 = L::full(w + (j + width) * L::size);
    for (int i = 0; i < M; ++i) {
      acc0[i] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x[i] + j), acc0[i]);
      acc1[i] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x[i] + j + width), acc1[i]);
    }
  }
  for (; j < k; j += width) {
    const int64_t left = std::min<int64_t>(width, k - j);
    const __mmask16 mask = static_cast<__mmask16>((1u << left) - 1u);
    const VF w0 = L::part(w + j * L::size, mask);
    for (int i = 0; i < M; ++i) acc0[i] = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(mask, x[i] + j), acc0[i]);
  }
  for (int i = 0; i < M; ++i) out[i] = _mm512_reduce_add_ps(_mm512_add_ps(acc0[i], acc1[i]));
}

#elif defined(OLLM_ISA_AVX2)

constexpr int width = 8;
using VF = __m256;
struct LoadF32 {
  static VF full(const uint8_t* p) { return _mm256_loadu_ps(reinterpret_cast<const float*>(p)); }
  static float one(const uint8_t* p) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  static constexpr size_t size = 4;
};
struct LoadF16 {
  static VF full(const uint8_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static float one(const uint8_t* p) { return fp16_to_f32(load_u16(p)); }
  static constexpr size_t size = 2;
};
struct LoadBF16 {
  static VF full(const uint8_t* p) {
    const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
  }
  static float one(const uint8_t* p) { return bf16_to_f32(load_u16(p)); }
  static constexpr size_t size = 2;
};

inline float hsum(VF a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

template <class L, int M>
inline void row_dots(const uint8_t* w, int64_t k, const float* const* x, float* out) {
  VF acc0[M], acc1[M];
  for (int i = 0; i < M; ++i) acc0[i] = acc1[i] = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 2 * width <= k; j += 2 * width) {
    prefetch_ahead<2 * width * L::size>(w + j * L::size);
    const VF w0 = L::full(w + j * L::size), w1 = L::full(w + (j + width) * L::size);
    for (int i = 0; i < M; ++i) {
      acc0[i] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[i] + j), acc0[i]);
      acc1[i] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x[i] + j + width), acc1[i]);
    }
  }
  for (; j + width <= k; j += width) {
    const VF w0 = L::full(w + j * L::size);
    for (int i = 0; i < M; ++i) acc0[i] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[i] + j), acc0[i]);
  }
  for (int i = 0; i < M; ++i) out[i] = hsum(_mm256_add_ps(acc0[i], acc1[i]));
  for (; j < k; ++j) {
    const float wj = L::one(w + j * L::size);
    for (int i = 0; i < M; ++i) out[i] += wj * x[i][j];
  }
}

#else

struct LoadF32 {
  static float one(const uint8_t* p) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  static constexpr size_t size = 4;
};
struct LoadF16 {
  static float one(const uint8_t* p) { return fp16_to_f32(load_u16(p)); }
  static constexpr size_t size = 2;
};
struct LoadBF16 {
  static float one(const uint8_t* p) { return bf16_to_f32(load_u16(p)); }
  static constexpr size_t size = 2;
};

template <class L, int M>
inline void row_dots(const uint8_t* w, int64_t k, const float* const* x, float* out) {
  float acc[M] = {};
  for (int64_t j = 0; j < k; ++j) {
    const float wj = L::one(w + j * L::size);
    for (int i = 0; i < M; ++i) acc[i] += wj * x[i][j];
  }
  for (int i = 0; i < M; ++i) out[i] = acc[i];
}

#endif

template <class L, int M>
void rows_tile(const uint8_t* w, size_t w_stride, int64_t r_begin, int64_t r_end, int64_t k, const float* const* x,
               float* const* y) {
  for (int64_t r = r_begin; r < r_end; ++r) {
    float out[M];
    row_dots<L, M>(w + static_cast<size_t>(r) * w_stride, k, x, out);
    for (int i = 0; i < M; ++i) y[i][r] = out[i];
  }
}

// w: rows of k elements (F32 / F16 / BF16) at w_stride · x: m f32 rows of k · y: m rows [n] f32
template <class L>
void gemv_float(const uint8_t* w, size_t w_stride, int64_t r_begin, int64_t r_end, int64_t k, const void* const* x,
                float* const* y, int64_t m) {
  for (int64_t i0 = 0; i0 < m; i0 += max_tile) {
    const float* xs[max_tile];
    const int mt = static_cast<int>(std::min<int64_t>(max_tile, m - i0));
    for (int i = 0; i < mt; ++i) xs[i] = static_cast<const float*>(x[i0 + i]);
    float* const* ys = y + i0;
    switch (mt) {
      case 1: rows_tile<L, 1>(w, w_stride, r_begin, r_end, k, xs, ys); break;
      case 2: rows_tile<L, 2>(w, w_stride, r_begin, r_end, k, xs, ys); break;
      case 3: rows_tile<L, 3>(w, w_stride, r_begin, r_end, k, xs, ys); break;
      default: rows_tile<L, 4>(w, w_stride, r_begin, r_end, k, xs, ys); break;
    }
  }
}

}  // namespace

GemvKernel gemv_float_kernel(DType type) noexcept {
  switch (type) {
    case DType::f32: return &gemv_float<LoadF32>;
    case DType::f16: return &gemv_float<LoadF16>;
    case DType::bf16: return &gemv_float<LoadBF16>;
    default: return nullptr;
  }
}

}  // namespace ollm::cpu::OLLM_ISA_NAMESPACE
