// Small helpers shared by the quantizers: ggml's rounding trick and the nearest-level search
// of the non-linear IQ4 grid. Kept bit-identical to ggml-quants.c, whose outputs we reproduce.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace ollm::cpu {

// Round to nearest, ties to even, by adding 1.5 * 2^23 and reading the mantissa: ggml's
// nearest_int. Valid for |x| < 2^22; outside that (or for NaN) it returns the same garbage as
// ggml would, which keeps our output byte-identical even on degenerate input.
inline int nearest_int(float x) {
  const float v = x + 12582912.f;
  int32_t i;
  std::memcpy(&i, &v, sizeof i);
  return (i & 0x007fffff) - 0x00400000;
}

// Index of the level of `values` (n sorted levels) closest to x; ties go to the lower level
// unless strictly nearer the upper one, as ggml's best_index_int8.
inline int best_index_int8(int n, const int8_t* values, float x) {
  if (x <= values[0]) return 0;
  if (x >= values[n - 1]) return n - 1;
  int ml = 0, mu = n - 1;
  while (mu - ml > 1) {
    const int mid = (ml + mu) / 2;
    if (x < values[mid]) mu = mid; else ml = mid;
  }
  return x - values[mu - 1] < values[mu] - x ? mu - 1 : mu;
}

// True when every one of the n values is finite (no NaN, no infinity).
inline bool all_finite(const float* x, int n) {
  for (int i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) return false;
  return true;
}

inline constexpr uint16_t fp16_nan = 0x7e00;  // written as the scale of a "NaN block"

}  // namespace ollm::cpu
