// Compiled once per ISA: quantizes f32 activation rows to the int8 GEMM's tiles (symmetric int8
// with one scale per 256 elements, round to nearest even) and their per-sub-block sums.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "cpu/gemm_int8.hpp"
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

// One group of one row: xg[0, len) (len a multiple of 32) -> q[0, len) int8 and the sums of q
// per 16 elements; returns the scale d (legacy_scale: amax / 127, else 1 / (127 / amax); NaN
// when the group holds a NaN or an infinity, its q then all zero).
float quantize_group(const float* xg, int len, bool legacy_scale, int8_t* q, int32_t* sums16) {
  float amax = 0.0f;
  bool finite = true;
#if defined(OLLM_ISA_AVX512)
  __m512 vmax = _mm512_setzero_ps();
  __mmask16 bad = 0;
  for (int i = 0; i < len; i += 16) {
    // |v| with the sign cleared; a NaN or infinity has an all-ones exponent.
    const __m512i bits = _mm512_and_si512(_mm512_castps_si512(_mm512_loadu_ps(xg + i)), _mm512_set1_epi32(0x7fffffff));
    bad |= _mm512_cmpge_epi32_mask(bits, _mm512_set1_epi32(0x7f800000));
    vmax = _mm512_max_ps(vmax, _mm512_castsi512_ps(bits));
  }
  amax = _mm512_reduce_max_ps(vmax);
  finite = bad == 0;
#else
  for (int i = 0; i < len; ++i) {
    const float v = std::fabs(xg[i]);
    if (!(v <= 3.4028235e38f)) finite = false;  // NaN compares false
    amax = std::max(amax, v);
  }
#endif
  const float id = (finite && amax > 0.0f) ? 127.0f / amax : 0.0f;
#if defined(OLLM_ISA_AVX512)
  const __m512 vid = _mm512_set1_ps(id);
  for (int i = 0; i < len; i += 16) {
    // A non-finite group is all zeros (its scale is NaN): masked-off lanes convert 0.
    const __m512i qi = _mm512_cvtps_epi32(_mm512_maskz_mul_ps(finite ? 0xffff : 0, _mm512_loadu_ps(xg + i), vid));
    _mm_store_si128(reinterpret_cast<__m128i*>(q + i), _mm512_cvtsepi32_epi8(qi));
    sums16[i / 16] = _mm512_reduce_add_epi32(qi);
  }
#else
  for (int i = 0; i < len; ++i)  // a non-finite group is all zeros (its scale is NaN)
    q[i] = finite ? static_cast<int8_t>(std::clamp(static_cast<int>(std::nearbyint(xg[i] * id)), -127, 127)) : 0;
  for (int i = 0; i < len; i += 16) {
    sums16[i / 16] = 0;
    for (int j = 0; j < 16; ++j) sums16[i / 16] += q[i + j];
  }
#endif
  if (!finite) return std::numeric_limits<float>::quiet_NaN();
  // As the decode quantizers (quantize_activations.cpp) and ggml: amax / 127 for 32-element
  // (legacy) groups, 1 / (127 / amax) for 256-element (K-quant) groups.
  if (legacy_scale) return amax / 127.0f;
  return amax > 0.0f ? 1.0f / id : 0.0f;
}

#if defined(OLLM_ISA_AVX512)
static_assert(mr <= 8, "the interleave below takes the tile's rows from two zmm of 4 rows each");

// Dword indices into [rows 0-3 | rows 4-7] (16 int8 = 4 dwords per row) for the tile layout
// [step][row] of 16 elements: output dword i is step i / mr of row i % mr.
struct InterleaveIndex {
  alignas(64) int32_t idx[2][16];
  constexpr InterleaveIndex() : idx{} {
    for (int i = 0; i < 4 * mr; ++i) {
      const int step = i / mr, row = i % mr;
      idx[i / 16][i % 16] = (row < 4 ? row * 4 : 16 + (row - 4) * 4) + step;
    }
  }
};
constexpr InterleaveIndex interleave_index;
#endif

// rows[r][0, len) int8 -> the tile's q at element g0 ([k/4][mr][4]).
void interleave(const int8_t (*rows)[gemm_group], int len, int8_t* q) {
#if defined(OLLM_ISA_AVX512)
  const __m512i idx0 = _mm512_load_si512(interleave_index.idx[0]);
  const __m512i idx1 = _mm512_load_si512(interleave_index.idx[1]);
  constexpr int tail = 4 * mr - 16;  // dwords past the first 16 (8 for mr = 6)
  for (int i = 0; i < len; i += 16) {
    // Row r's 16 bytes into 128-bit lane r % 4 of lo (rows 0-3) or hi (rows 4-7); rows past mr
    // read row 0 (their dwords are never selected). Lane numbers must be constants.
    const auto row = [&](int r) { return _mm_load_si128(reinterpret_cast<const __m128i*>(rows[r < mr ? r : 0] + i)); };
    __m512i lo = _mm512_castsi128_si512(row(0)), hi = _mm512_castsi128_si512(row(4));
    lo = _mm512_inserti32x4(lo, row(1), 1);
    lo = _mm512_inserti32x4(lo, row(2), 2);
    lo = _mm512_inserti32x4(lo, row(3), 3);
    hi = _mm512_inserti32x4(hi, row(5), 1);
    hi = _mm512_inserti32x4(hi, row(6), 2);
    hi = _mm512_inserti32x4(hi, row(7), 3);
    int8_t* dst = q + (i / 4) * (mr * 4);
    _mm512_storeu_si512(dst, _mm512_permutex2var_epi32(lo, idx0, hi));
    if constexpr (tail > 0)
      _mm512_mask_storeu_epi32(dst + 64, static_cast<__mmask16>((1u << tail) - 1), _mm512_permutex2var_epi32(lo, idx1, hi));
  }
#else
  for (int i = 0; i < len; i += 4)
    for (int r = 0; r < mr; ++r) std::memcpy(q + (i / 4) * (mr * 4) + r * 4, rows[r] + i, 4);
#endif
}

}  // namespace

// x: [m, k] f32 row-major (stride x_stride) · a: tiles [tile_begin, tile_end) of gemm_mr rows
void gemm_quantize_tiles(const float* x, int64_t x_stride, int64_t m, int64_t tile_begin,
                         int64_t tile_end, const ActTiles& a) {
  const int64_t k = a.k, subs = k / a.sub, groups = gemm_groups(k, a.group);
  alignas(64) int8_t rows[mr][gemm_group];
  int32_t sums16[mr][gemm_group / 16];
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    int8_t* q = a.q + t * mr * k;
    int32_t* corr = a.corr + t * mr * subs;
    float* qsum = a.qsum + t * mr * subs;
    int16_t* qsum16 = a.qsum16 != nullptr ? a.qsum16 + t * mr * subs : nullptr;
    float* scale = a.scale + t * mr * groups;
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t g0 = g * a.group;
      const int len = static_cast<int>(std::min<int64_t>(a.group, k - g0));
      for (int r = 0; r < mr; ++r) {
        const int64_t row = t * mr + r;
        if (row < m) {
          const float d = quantize_group(x + row * x_stride + g0, len, a.group == 32, rows[r], sums16[r]);
          scale[g * mr + r] = a.f16_scales ? fp16_to_f32(f32_to_fp16(d)) : d;
        } else {  // rows past m: zeros
          std::memset(rows[r], 0, static_cast<size_t>(len));
          std::fill(sums16[r], sums16[r] + len / 16, 0);
          scale[g * mr + r] = 0.0f;
        }
        for (int s0 = 0; s0 < len; s0 += a.sub) {
          const int32_t sum = a.sub == 16 ? sums16[r][s0 / 16] : sums16[r][s0 / 16] + sums16[r][s0 / 16 + 1];
          const int64_t s = (g0 + s0) / a.sub;
          corr[s * mr + r] = -a.bias * sum;
          qsum[s * mr + r] = static_cast<float>(sum);
          if (qsum16 != nullptr) qsum16[(s / 2) * mr * 2 + r * 2 + s % 2] = static_cast<int16_t>(sum);  // |sum| <= 32*127
        }
      }
      interleave(rows, len, q + g0 * mr);
    }
  }
}

}  // namespace ollm::cpu::OLLM_ISA_NAMESPACE
