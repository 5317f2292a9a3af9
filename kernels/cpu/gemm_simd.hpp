// AVX-512 helpers shared by the per-ISA GEMM sources (included only by files compiled per ISA):
// the 16×16 32-bit transpose that turns weight rows into column-interleaved panels, and the
// column masks of a partial 32-column tile.
#pragma once

#if defined(OLLM_ISA_AVX512)
#include <immintrin.h>

namespace ollm::cpu::OLLM_ISA_NAMESPACE {

// In place: r[c] lane i becomes the old r[i] lane c (works on any 32-bit data viewed as f32).
inline void transpose16(__m512 r[16]) {
  __m512 a[16], b[16];
  for (int i = 0; i < 8; ++i) {
    a[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    a[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    b[4 * i + 0] = _mm512_shuffle_ps(a[4 * i], a[4 * i + 2], 0x44);
    b[4 * i + 1] = _mm512_shuffle_ps(a[4 * i], a[4 * i + 2], 0xee);
    b[4 * i + 2] = _mm512_shuffle_ps(a[4 * i + 1], a[4 * i + 3], 0x44);
    b[4 * i + 3] = _mm512_shuffle_ps(a[4 * i + 1], a[4 * i + 3], 0xee);
  }
  for (int q = 0; q < 4; ++q) {
    const __m512 c1 = _mm512_shuffle_f32x4(b[q], b[4 + q], 0x88);
    const __m512 c2 = _mm512_shuffle_f32x4(b[q], b[4 + q], 0xdd);
    const __m512 d1 = _mm512_shuffle_f32x4(b[8 + q], b[12 + q], 0x88);
    const __m512 d2 = _mm512_shuffle_f32x4(b[8 + q], b[12 + q], 0xdd);
    r[q] = _mm512_shuffle_f32x4(c1, d1, 0x88);
    r[8 + q] = _mm512_shuffle_f32x4(c1, d1, 0xdd);
    r[4 + q] = _mm512_shuffle_f32x4(c2, d2, 0x88);
    r[12 + q] = _mm512_shuffle_f32x4(c2, d2, 0xdd);
  }
}

// Masks of the valid columns of a 32-column tile, as two 16-lane halves.
inline __mmask16 column_mask(int cols, int half) {
  const int c = cols - 16 * half;
  return c >= 16 ? static_cast<__mmask16>(0xffff) : c > 0 ? static_cast<__mmask16>((1u << c) - 1) : 0;
}

}  // namespace ollm::cpu::OLLM_ISA_NAMESPACE
#endif
