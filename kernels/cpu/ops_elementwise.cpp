// Elementwise and row-wise f32 ops compiled once per ISA: activations (plain and gated), softmax,
// residual add, scaling, soft-capping. Tails use masked loads/stores, never reads past the end.
#include <cmath>
#include <limits>

#include "cpu/ops_isa.hpp"
#include "cpu/ops_simd.hpp"

namespace ollm::cpu::OLLM_ISA_NAMESPACE {
namespace {

using namespace simd;

template <class F>
void map1(const float* x, float* y, int64_t count, F f) {
  int64_t i = 0;
  for (; i + width <= count; i += width) store(y + i, f(load(x + i)));
  if (i < count) {
    const int rest = static_cast<int>(count - i);
    store_part(y + i, f(load_part(x + i, rest)), rest);
  }
}

template <class F>
void map2(const float* a, const float* b, float* y, int64_t count, F f) {
  int64_t i = 0;
  for (; i + width <= count; i += width) store(y + i, f(load(a + i), load(b + i)));
  if (i < count) {
    const int rest = static_cast<int>(count - i);
    store_part(y + i, f(load_part(a + i, rest), load_part(b + i, rest)), rest);
  }
}

template <class Act>
void gated_rows(Act act, const float* gate, const float* up, float* out, int64_t rows, int64_t n, int64_t gate_stride,
                int64_t up_stride) {
  for (int64_t r = 0; r < rows; ++r)
    map2(gate + r * gate_stride, up + r * up_stride, out + r * n, n, [&](V g, V u) { return mul(act(g), u); });
}

constexpr float neg_inf = -std::numeric_limits<float>::infinity();

// The tail of a row [rest < width] as a full vector, the missing lanes -inf.
V load_tail_neg_inf(const float* x, int rest) {
  float tmp[width];
  for (int j = 0; j < width; ++j) tmp[j] = j < rest ? x[j] : neg_inf;
  return load(tmp);
}

void softmax_row(float* x, int64_t n) {
  V mv = set1(neg_inf);
  int64_t i = 0;
  for (; i + width <= n; i += width) mv = max(load(x + i), mv);  // a NaN lane keeps mv (see below)
  const int rest = static_cast<int>(n - i);
  if (rest > 0) mv = max(load_tail_neg_inf(x + i, rest), mv);
  const float m = reduce_max(mv);
  if (m == neg_inf) {  // every entry -inf: no probability mass anywhere
    for (int64_t j = 0; j < n; ++j) x[j] = 0.0f;
    return;
  }
  // exp(NaN - m) is NaN, so a NaN entry (skipped by the max) still poisons the sum and the row.
  const V mvv = set1(m);
  V s0 = zero(), s1 = zero();
  i = 0;
  for (; i + 2 * width <= n; i += 2 * width) {
    const V e0 = exp(sub(load(x + i), mvv)), e1 = exp(sub(load(x + i + width), mvv));
    store(x + i, e0);
    store(x + i + width, e1);
    s0 = add(s0, e0);
    s1 = add(s1, e1);
  }
  for (; i + width <= n; i += width) {
    const V e = exp(sub(load(x + i), mvv));
    store(x + i, e);
    s0 = add(s0, e);
  }
  if (rest > 0) {
    const V e = exp(sub(load_tail_neg_inf(x + i, rest), mvv));  // -inf lanes give 0
    store_part(x + i, e, rest);
    s1 = add(s1, e);
  }
  const V inv = set1(1.0f / reduce_add(add(s0, s1)));
  map1(x, x, n, [&](V v) { return mul(v, inv); });
}

}  // namespace

void activation(Activation act, const float* x, float* y, int64_t count) {
  switch (act) {
    case Activation::silu: return map1(x, y, count, [](V v) { return silu(v); });
    case Activation::gelu_tanh: return map1(x, y, count, [](V v) { return gelu_tanh(v); });
    case Activation::gelu_erf: return map1(x, y, count, [](V v) { return gelu_erf(v); });
  }
}

void gated_activation(Activation act, const float* gate, const float* up, float* out, int64_t rows, int64_t n,
                      int64_t gate_stride, int64_t up_stride) {
  switch (act) {
    case Activation::silu:
      return gated_rows([](V v) { return silu(v); }, gate, up, out, rows, n, gate_stride, up_stride);
    case Activation::gelu_tanh:
      return gated_rows([](V v) { return gelu_tanh(v); }, gate, up, out, rows, n, gate_stride, up_stride);
    case Activation::gelu_erf:
      return gated_rows([](V v) { return gelu_erf(v); }, gate, up, out, rows, n, gate_stride, up_stride);
  }
}

void softmax(float* x, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) softmax_row(x + r * n, n);
}

void add(const float* a, const float* b, float* y, int64_t count) {
  map2(a, b, y, count, [](V u, V v) { return simd::add(u, v); });
}

void scale(float* x, float s, int64_t count) {
  const V sv = set1(s);
  map1(x, x, count, [&](V v) { return mul(v, sv); });
}

void softcap(float* x, float cap, int64_t count) {
  const V c = set1(cap), inv = set1(1.0f / cap);
  map1(x, x, count, [&](V v) { return mul(c, simd::tanh(mul(v, inv))); });
}

}  // namespace ollm::cpu::OLLM_ISA_NAMESPACE
