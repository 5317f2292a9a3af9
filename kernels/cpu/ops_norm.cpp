// RMSNorm and LayerNorm over rows of f32, compiled once per ISA (cmake/OllmCpuIsa.cmake).
// Sums use four vector accumulators (pairwise-like error growth, and no FMA latency chain).
#include <cmath>

#include "cpu/ops_isa.hpp"
#include "cpu/ops_simd.hpp"

namespace ollm::cpu::OLLM_ISA_NAMESPACE {
namespace {

using namespace simd;

// Sum of (x[i] - c)^2 over [n].
float sum_sq_dev(const float* x, int64_t n, float c) {
  const V cv = set1(c);
  V a0 = zero(), a1 = zero(), a2 = zero(), a3 = zero();
  int64_t i = 0;
  for (; i + 4 * width <= n; i += 4 * width) {
    const V d0 = sub(load(x + i), cv), d1 = sub(load(x + i + width), cv);
    const V d2 = sub(load(x + i + 2 * width), cv), d3 = sub(load(x + i + 3 * width), cv);
    a0 = fmadd(d0, d0, a0);
    a1 = fmadd(d1, d1, a1);
    a2 = fmadd(d2, d2, a2);
    a3 = fmadd(d3, d3, a3);
  }
  for (; i + width <= n; i += width) {
    const V d = sub(load(x + i), cv);
    a0 = fmadd(d, d, a0);
  }
  float tail = 0.0f;
  for (; i < n; ++i) tail += (x[i] - c) * (x[i] - c);
  return reduce_add(add(add(a0, a1), add(a2, a3))) + tail;
}

float sum(const float* x, int64_t n) {
  V a0 = zero(), a1 = zero(), a2 = zero(), a3 = zero();
  int64_t i = 0;
  for (; i + 4 * width <= n; i += 4 * width) {
    a0 = add(a0, load(x + i));
    a1 = add(a1, load(x + i + width));
    a2 = add(a2, load(x + i + 2 * width));
    a3 = add(a3, load(x + i + 3 * width));
  }
  for (; i + width <= n; i += width) a0 = add(a0, load(x + i));
  if (i < n) a1 = add(a1, load_part(x + i, static_cast<int>(n - i)));
  return reduce_add(add(add(a0, a1), add(a2, a3)));
}

// y = (x - c) * s * w + b over [n]; w, b may be null.
void normalize_row(const float* x, const float* w, const float* b, float* y, int64_t n, float c, float s) {
  const V cv = set1(c), sv = set1(s);
  int64_t i = 0;
  auto one = [&](V xv, int64_t at, int rest) {
    V r = mul(sub(xv, cv), sv);
    if (w) r = mul(r, rest == width ? load(w + at) : load_part(w + at, rest));
    if (b) r = add(r, rest == width ? load(b + at) : load_part(b + at, rest));
    return r;
  };
  for (; i + width <= n; i += width) store(y + i, one(load(x + i), i, width));
  if (i < n) {
    const int rest = static_cast<int>(n - i);
    store_part(y + i, one(load_part(x + i, rest), i, rest), rest);
  }
}

}  // namespace

void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    const float mean_sq = sum_sq_dev(xr, n, 0.0f) / static_cast<float>(n);
    const float inv = 1.0f / std::sqrt(mean_sq + eps);
    normalize_row(xr, w, nullptr, y + r * n, n, 0.0f, inv);
  }
}

void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t rows, int64_t n, float eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    const float mean = sum(xr, n) / static_cast<float>(n);
    const float var = sum_sq_dev(xr, n, mean) / static_cast<float>(n);
    const float inv = 1.0f / std::sqrt(var + eps);
    normalize_row(xr, w, b, y + r * n, n, mean, inv);
  }
}

}  // namespace ollm::cpu::OLLM_ISA_NAMESPACE
