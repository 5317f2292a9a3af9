// The vector vocabulary of the per-ISA transformer-op and attention kernels: one f32 vector type
// per compiled variant (16 lanes on avx512, 8 on avx2, 1 on scalar), loads of f32/f16/bf16 with
// partial tails, and the vector math those kernels need (exp, tanh, erfc-based GELU, silu).
// Include only from sources compiled per ISA (it opens namespace ollm::cpu::OLLM_ISA_NAMESPACE).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#if defined(OLLM_ISA_AVX512) || defined(OLLM_ISA_AVX2)
#include <immintrin.h>
#endif

// GCC 12's AVX-512 intrinsics pass _mm512_undefined_*() as the pass-through operand and then warn
// that it is uninitialised wherever they are inlined (GCC bug 105593); silence that false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "cpu/quant_blocks.hpp"

namespace ollm::cpu::OLLM_ISA_NAMESPACE::simd {

// ---------------------------------------------------------------------------------------------
// Per-ISA primitives. min/max keep x86's operand order on purpose: min(a, b) and max(a, b) return
// b when either is NaN, so `min(limit, x)` lets a NaN in x through (vector math propagates NaN).
#if defined(OLLM_ISA_AVX512)

inline constexpr int width = 16;
using V = __m512;
using M = __mmask16;

inline V zero() { return _mm512_setzero_ps(); }
inline V set1(float x) { return _mm512_set1_ps(x); }
inline V load(const float* p) { return _mm512_loadu_ps(p); }
inline void store(float* p, V v) { _mm512_storeu_ps(p, v); }
inline M first_n(int n) { return static_cast<M>((1u << n) - 1u); }  // n in [0, 16]
inline V load_part(const float* p, int n) { return _mm512_maskz_loadu_ps(first_n(n), p); }
inline void store_part(float* p, V v, int n) { _mm512_mask_storeu_ps(p, first_n(n), v); }
inline V load_f16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline V load_f16_part(const uint16_t* p, int n) {
  return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(first_n(n), p));
}
inline V bf16_widen(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }
inline V load_bf16(const uint16_t* p) { return bf16_widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
inline V load_bf16_part(const uint16_t* p, int n) { return bf16_widen(_mm256_maskz_loadu_epi16(first_n(n), p)); }

inline V add(V a, V b) { return _mm512_add_ps(a, b); }
inline V sub(V a, V b) { return _mm512_sub_ps(a, b); }
inline V mul(V a, V b) { return _mm512_mul_ps(a, b); }
inline V div(V a, V b) { return _mm512_div_ps(a, b); }
inline V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }    // a*b + c
inline V fnmadd(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a*b
inline V min(V a, V b) { return _mm512_min_ps(a, b); }
inline V max(V a, V b) { return _mm512_max_ps(a, b); }
inline V abs(V a) { return _mm512_abs_ps(a); }
inline V copy_sign(V magnitude, V sign) {
  const V sign_bit = set1(-0.0f);
  return _mm512_or_ps(_mm512_andnot_ps(sign_bit, magnitude), _mm512_and_ps(sign_bit, sign));
}
inline V round_nearest(V a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
inline M lt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
inline M gt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
inline V select(M m, V if_false, V if_true) { return _mm512_mask_blend_ps(m, if_false, if_true); }
inline float reduce_add(V a) { return _mm512_reduce_add_ps(a); }
inline float reduce_max(V a) { return _mm512_reduce_max_ps(a); }
// a * 2^n for integral-valued n, exact over the whole range (gradual underflow, overflow to inf).
inline V scale_pow2(V a, V n) { return _mm512_scalef_ps(a, n); }

// The four horizontal sums of a, b, c, d (one dot product each) as four consecutive floats.
inline void hsum4(V a, V b, V c, V d, float* out) {
  const V ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
  const V cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
  const __m512d abd = _mm512_castps_pd(ab), cdd = _mm512_castps_pd(cd);
  V s = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(abd, cdd)),
                      _mm512_castpd_ps(_mm512_unpackhi_pd(abd, cdd)));  // [A B C D] per 128-bit lane
  s = _mm512_add_ps(s, _mm512_shuffle_f32x4(s, s, 0x4e));
  s = _mm512_add_ps(s, _mm512_shuffle_f32x4(s, s, 0xb1));
  _mm_storeu_ps(out, _mm512_castps512_ps128(s));
}

#elif defined(OLLM_ISA_AVX2)

inline constexpr int width = 8;
using V = __m256;
using M = __m256;

inline V zero() { return _mm256_setzero_ps(); }
inline V set1(float x) { return _mm256_set1_ps(x); }
inline V load(const float* p) { return _mm256_loadu_ps(p); }
inline void store(float* p, V v) { _mm256_storeu_ps(p, v); }
inline __m256i first_n(int n) {  // n in [0, 8]: lanes below n all-ones
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline V load_part(const float* p, int n) { return _mm256_maskload_ps(p, first_n(n)); }
inline void store_part(float* p, V v, int n) { _mm256_maskstore_ps(p, first_n(n), v); }
inline V load_f16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
inline V load_f16_part(const uint16_t* p, int n) {
  uint16_t tmp[8] = {};
  std::memcpy(tmp, p, static_cast<size_t>(n) * 2);
  return load_f16(tmp);
}
inline V bf16_widen(__m128i h) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)); }
inline V load_bf16(const uint16_t* p) { return bf16_widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
inline V load_bf16_part(const uint16_t* p, int n) {
  uint16_t tmp[8] = {};
  std::memcpy(tmp, p, static_cast<size_t>(n) * 2);
  return load_bf16(tmp);
}

inline V add(V a, V b) { return _mm256_add_ps(a, b); }
inline V sub(V a, V b) { return _mm256_sub_ps(a, b); }
inline V mul(V a, V b) { return _mm256_mul_ps(a, b); }
inline V div(V a, V b) { return _mm256_div_ps(a, b); }
inline V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
inline V fnmadd(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }
inline V min(V a, V b) { return _mm256_min_ps(a, b); }
inline V max(V a, V b) { return _mm256_max_ps(a, b); }
inline V abs(V a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
inline V copy_sign(V magnitude, V sign) {
  const V sign_bit = set1(-0.0f);
  return _mm256_or_ps(_mm256_andnot_ps(sign_bit, magnitude), _mm256_and_ps(sign_bit, sign));
}
inline V round_nearest(V a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
inline M lt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
inline M gt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
inline V select(M m, V if_false, V if_true) { return _mm256_blendv_ps(if_false, if_true, m); }
inline float reduce_add(V a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline float reduce_max(V a) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
// a * 2^n for integral n in [-252, 254]: two exponent factors keep each one a normal float.
inline V scale_pow2(V a, V n) {
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i n1 = _mm256_srai_epi32(ni, 1);
  const __m256i n2 = _mm256_sub_epi32(ni, n1);
  const V f1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
  const V f2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
  return _mm256_mul_ps(_mm256_mul_ps(a, f1), f2);
}

inline void hsum4(V a, V b, V c, V d, float* out) {
  const V ab = _mm256_add_ps(_mm256_unpacklo_ps(a, b), _mm256_unpackhi_ps(a, b));
  const V cd = _mm256_add_ps(_mm256_unpacklo_ps(c, d), _mm256_unpackhi_ps(c, d));
  const __m256d abd = _mm256_castps_pd(ab), cdd = _mm256_castps_pd(cd);
  const V s = _mm256_add_ps(_mm256_castpd_ps(_mm256_unpacklo_pd(abd, cdd)),
                            _mm256_castpd_ps(_mm256_unpackhi_pd(abd, cdd)));
  _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1)));
}

#else  // scalar: one lane, plain C++ (the portable reference variant)

inline constexpr int width = 1;
using V = float;
using M = bool;

inline V zero() { return 0.0f; }
inline V set1(float x) { return x; }
inline V load(const float* p) { return *p; }
inline void store(float* p, V v) { *p = v; }
inline V load_part(const float* p, int n) { return n > 0 ? *p : 0.0f; }
inline void store_part(float* p, V v, int n) {
  if (n > 0) *p = v;
}
inline V load_f16(const uint16_t* p) { return fp16_to_f32(load_u16(p)); }
inline V load_f16_part(const uint16_t* p, int n) { return n > 0 ? load_f16(p) : 0.0f; }
inline V load_bf16(const uint16_t* p) { return bf16_to_f32(load_u16(p)); }
inline V load_bf16_part(const uint16_t* p, int n) { return n > 0 ? load_bf16(p) : 0.0f; }

inline V add(V a, V b) { return a + b; }
inline V sub(V a, V b) { return a - b; }
inline V mul(V a, V b) { return a * b; }
inline V div(V a, V b) { return a / b; }
inline V fmadd(V a, V b, V c) { return a * b + c; }
inline V fnmadd(V a, V b, V c) { return c - a * b; }
inline V min(V a, V b) { return a < b ? a : b; }  // b when either is NaN, as minps
inline V max(V a, V b) { return a > b ? a : b; }
inline V abs(V a) { return std::fabs(a); }
inline V copy_sign(V magnitude, V sign) { return std::copysign(magnitude, sign); }
inline V round_nearest(V a) { return std::nearbyint(a); }
inline M lt(V a, V b) { return a < b; }
inline M gt(V a, V b) { return a > b; }
inline V select(M m, V if_false, V if_true) { return m ? if_true : if_false; }
inline float reduce_add(V a) { return a; }
inline float reduce_max(V a) { return a; }
inline V scale_pow2(V a, V n) { return std::ldexp(a, static_cast<int>(n)); }
inline void hsum4(V a, V b, V c, V d, float* out) {
  out[0] = a;
  out[1] = b;
  out[2] = c;
  out[3] = d;
}

#endif

// ---------------------------------------------------------------------------------------------
// Vector math. The scalar variant calls the C library (correctly rounded or nearly so) and is the
// accuracy reference; the SIMD variants use polynomials good to a few ulp over the whole range.

#if defined(OLLM_ISA_AVX512) || defined(OLLM_ISA_AVX2)

// e^x: x = n ln2 + r with |r| <= ln2/2, e^r by a degree-7 polynomial (Cephes expf's
// coefficients), scaled by 2^n. NaN stays NaN, -inf and x < -103.9 give 0, x > ln(FLT_MAX) inf.
inline V exp(V x) {
  const V hi = set1(88.7228394f), lo = set1(-103.972084f);
  const V xc = max(lo, min(hi, x));
  const V n = round_nearest(mul(xc, set1(1.44269504088896341f)));
  V r = fnmadd(n, set1(0.693359375f), xc);
  r = fnmadd(n, set1(-2.12194440e-4f), r);
  V p = set1(1.9875691500e-4f);
  p = fmadd(p, r, set1(1.3981999507e-3f));
  p = fmadd(p, r, set1(8.3334519073e-3f));
  p = fmadd(p, r, set1(4.1665795894e-2f));
  p = fmadd(p, r, set1(1.6666665459e-1f));
  p = fmadd(p, r, set1(5.0000001201e-1f));
  const V y = fmadd(mul(p, r), r, add(r, set1(1.0f)));
  V result = scale_pow2(y, n);
  result = select(lt(x, lo), result, zero());
  return select(gt(x, hi), result, set1(std::numeric_limits<float>::infinity()));
}

// tanh: an odd polynomial below |x| = 0.625 (Cephes tanhf), 1 - 2/(e^{2|x|} + 1) above.
inline V tanh(V x) {
  const V ax = abs(x);
  const V z = mul(x, x);
  V p = set1(-5.70498872745e-3f);
  p = fmadd(p, z, set1(2.06390887954e-2f));
  p = fmadd(p, z, set1(-5.37397155531e-2f));
  p = fmadd(p, z, set1(1.33314422036e-1f));
  p = fmadd(p, z, set1(-3.33332819422e-1f));
  const V small = fmadd(mul(p, z), x, x);
  const V e = exp(add(ax, ax));
  const V big = copy_sign(sub(set1(1.0f), div(set1(2.0f), add(e, set1(1.0f)))), x);
  return select(lt(ax, set1(0.625f)), big, small);
}

// x * erfc(-x/sqrt2) / 2, the exact GELU: erfc by Numerical Recipes' Chebyshev fit (relative
// error < 1.2e-7 everywhere), so the negative tail keeps its relative accuracy.
inline V gelu_erf(V x) {
  const V z = mul(abs(x), set1(0.70710678118654752f));
  const V t = div(set1(1.0f), fmadd(z, set1(0.5f), set1(1.0f)));
  V p = set1(0.17087277f);
  p = fmadd(p, t, set1(-0.82215223f));
  p = fmadd(p, t, set1(1.48851587f));
  p = fmadd(p, t, set1(-1.13520398f));
  p = fmadd(p, t, set1(0.27886807f));
  p = fmadd(p, t, set1(-0.18628806f));
  p = fmadd(p, t, set1(0.09678418f));
  p = fmadd(p, t, set1(0.37409196f));
  p = fmadd(p, t, set1(1.00002368f));
  p = fmadd(p, t, set1(-1.26551223f));
  const V tail = mul(t, exp(fnmadd(z, z, p)));  // erfc(|x|/sqrt2)
  const V c = select(lt(x, zero()), sub(set1(2.0f), tail), tail);
  return mul(mul(set1(0.5f), x), c);
}

#else

inline V exp(V x) { return std::exp(x); }
inline V tanh(V x) { return std::tanh(x); }
inline V gelu_erf(V x) { return 0.5f * x * std::erfc(-x * 0.70710678118654752f); }

#endif

// x * sigmoid(x).
inline V silu(V x) { return div(x, add(set1(1.0f), exp(sub(zero(), x)))); }

// 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), written as x * sigmoid(2u): the same
// function without the cancellation of 1 + tanh(u) for negative x.
inline V gelu_tanh(V x) {
  const V x3 = mul(mul(x, x), x);
  const V two_u = mul(set1(2.0f * 0.7978845608028654f), fmadd(set1(0.044715f), x3, x));
  return div(x, add(set1(1.0f), exp(sub(zero(), two_u))));
}

}  // namespace ollm::cpu::OLLM_ISA_NAMESPACE::simd
