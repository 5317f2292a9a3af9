// Rotary position embeddings applied in place, compiled once per ISA. Per token, cos/sin of the
// f32 angles pos * inv_freq are computed once (in f64, range-reduced exactly enough for any int32
// position) and applied to every head.
#include <cmath>
#include <vector>

#include "cpu/ops_isa.hpp"
#include "cpu/ops_simd.hpp"

namespace ollm::cpu::OLLM_ISA_NAMESPACE {
namespace {

using namespace simd;

// cos and sin of a[0..n) (f32 angles) times mscale, rounded to f32.
#if defined(OLLM_ISA_AVX512) || defined(OLLM_ISA_AVX2)

#if defined(OLLM_ISA_AVX512)
using D = __m512d;
constexpr int dwidth = 8;
inline D dset1(double x) { return _mm512_set1_pd(x); }
inline D dfma(D a, D b, D c) { return _mm512_fmadd_pd(a, b, c); }
inline D dfnma(D a, D b, D c) { return _mm512_fnmadd_pd(a, b, c); }
inline D dmul(D a, D b) { return _mm512_mul_pd(a, b); }
inline D dload_f32(const float* p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
inline void dstore_f32(float* p, D v, float m) {
  _mm256_storeu_ps(p, _mm256_mul_ps(_mm512_cvtpd_ps(v), _mm256_set1_ps(m)));
}
inline D dround(D a) { return _mm512_roundscale_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
// Quadrant logic on the low bits of k.
inline void quadrant(D k, D s, D c, D* sin_out, D* cos_out) {
  const __m512i q = _mm512_cvtpd_epi64(k);
  const __mmask8 odd = _mm512_test_epi64_mask(q, _mm512_set1_epi64(1));
  const __mmask8 sin_neg = _mm512_test_epi64_mask(q, _mm512_set1_epi64(2));
  const __mmask8 cos_neg = _mm512_test_epi64_mask(_mm512_add_epi64(q, _mm512_set1_epi64(1)), _mm512_set1_epi64(2));
  const D sv = _mm512_mask_blend_pd(odd, s, c), cv = _mm512_mask_blend_pd(odd, c, s);
  const D neg = _mm512_set1_pd(-0.0);
  *sin_out = _mm512_mask_xor_pd(sv, sin_neg, sv, neg);
  *cos_out = _mm512_mask_xor_pd(cv, cos_neg, cv, neg);
}
#else
using D = __m256d;
constexpr int dwidth = 4;
inline D dset1(double x) { return _mm256_set1_pd(x); }
inline D dfma(D a, D b, D c) { return _mm256_fmadd_pd(a, b, c); }
inline D dfnma(D a, D b, D c) { return _mm256_fnmadd_pd(a, b, c); }
inline D dmul(D a, D b) { return _mm256_mul_pd(a, b); }
inline D dload_f32(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
inline void dstore_f32(float* p, D v, float m) { _mm_storeu_ps(p, _mm_mul_ps(_mm256_cvtpd_ps(v), _mm_set1_ps(m))); }
inline D dround(D a) { return _mm256_round_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
inline D lanes_where(__m128i bits_set) {  // 32-bit lane masks widened to 64-bit lanes
  return _mm256_castsi256_pd(_mm256_cvtepi32_epi64(bits_set));
}
inline void quadrant(D k, D s, D c, D* sin_out, D* cos_out) {
  const __m128i q = _mm256_cvtpd_epi32(k);
  const __m128i one = _mm_set1_epi32(1), two = _mm_set1_epi32(2);
  const D odd = lanes_where(_mm_cmpeq_epi32(_mm_and_si128(q, one), one));
  const D sin_neg = lanes_where(_mm_cmpeq_epi32(_mm_and_si128(q, two), two));
  const D cos_neg = lanes_where(_mm_cmpeq_epi32(_mm_and_si128(_mm_add_epi32(q, one), two), two));
  const D sv = _mm256_blendv_pd(s, c, odd), cv = _mm256_blendv_pd(c, s, odd);
  const D neg = _mm256_set1_pd(-0.0);
  *sin_out = _mm256_xor_pd(sv, _mm256_and_pd(sin_neg, neg));
  *cos_out = _mm256_xor_pd(cv, _mm256_and_pd(cos_neg, neg));
}
#endif

void sincos_block(const float* a, float* cos_out, float* sin_out, float mscale) {
  const D x = dload_f32(a);
  const D k = dround(dmul(x, dset1(0.63661977236758134308)));  // 2/pi
  D r = dfnma(k, dset1(1.5707963267948966), x);                  // pi/2, head
  r = dfnma(k, dset1(6.123233995736766e-17), r);                 // pi/2, tail
  const D r2 = dmul(r, r);
  // Taylor series on |r| <= pi/4: truncation below 3e-14 for both.
  D sp = dset1(1.0 / 6227020800.0);
  sp = dfma(sp, r2, dset1(-1.0 / 39916800.0));
  sp = dfma(sp, r2, dset1(1.0 / 362880.0));
  sp = dfma(sp, r2, dset1(-1.0 / 5040.0));
  sp = dfma(sp, r2, dset1(1.0 / 120.0));
  sp = dfma(sp, r2, dset1(-1.0 / 6.0));
  const D s = dfma(dmul(sp, r2), r, r);
  D cp = dset1(1.0 / 87178291200.0);
  cp = dfma(cp, r2, dset1(-1.0 / 479001600.0));
  cp = dfma(cp, r2, dset1(1.0 / 3628800.0));
  cp = dfma(cp, r2, dset1(-1.0 / 40320.0));
  cp = dfma(cp, r2, dset1(1.0 / 720.0));
  cp = dfma(cp, r2, dset1(-1.0 / 24.0));
  cp = dfma(cp, r2, dset1(0.5));
  const D c = dfnma(cp, r2, dset1(1.0));
  D sn, cs;
  quadrant(k, s, c, &sn, &cs);
  dstore_f32(sin_out, sn, mscale);
  dstore_f32(cos_out, cs, mscale);
}

void sincos(const float* a, int n, float* cos_out, float* sin_out, float mscale) {
  int i = 0;
  for (; i + dwidth <= n; i += dwidth) sincos_block(a + i, cos_out + i, sin_out + i, mscale);
  if (i < n) {
    float ta[dwidth] = {}, tc[dwidth], ts[dwidth];
    for (int j = 0; j < n - i; ++j) ta[j] = a[i + j];
    sincos_block(ta, tc, ts, mscale);
    for (int j = 0; j < n - i; ++j) {
      cos_out[i + j] = tc[j];
      sin_out[i + j] = ts[j];
    }
  }
}

#else

void sincos(const float* a, int n, float* cos_out, float* sin_out, float mscale) {
  for (int i = 0; i < n; ++i) {
    cos_out[i] = static_cast<float>(std::cos(static_cast<double>(a[i]))) * mscale;
    sin_out[i] = static_cast<float>(std::sin(static_cast<double>(a[i]))) * mscale;
  }
}

#endif

// Pair (i, i + half) of each head: y_i = x_i c - x_{i+half} s, y_{i+half} = x_{i+half} c + x_i s.
void apply_neox(float* h, int half, const float* c, const float* s) {
  int i = 0;
  for (; i + width <= half; i += width) {
    const V x0 = load(h + i), x1 = load(h + half + i), cv = load(c + i), sv = load(s + i);
    store(h + i, fnmadd(x1, sv, mul(x0, cv)));
    store(h + half + i, fmadd(x0, sv, mul(x1, cv)));
  }
  if (i < half) {
    const int rest = half - i;
    const V x0 = load_part(h + i, rest), x1 = load_part(h + half + i, rest);
    const V cv = load_part(c + i, rest), sv = load_part(s + i, rest);
    store_part(h + i, fnmadd(x1, sv, mul(x0, cv)), rest);
    store_part(h + half + i, fmadd(x0, sv, mul(x1, cv)), rest);
  }
}

// Pair (2i, 2i+1): y = x * cc + swap_pairs(x) * ss with cc = (c_i, c_i), ss = (-s_i, s_i).
void apply_normal(float* h, int rot, const float* cc, const float* ss) {
#if defined(OLLM_ISA_AVX512) || defined(OLLM_ISA_AVX2)
  auto swap_pairs = [](V v) {
#if defined(OLLM_ISA_AVX512)
    return _mm512_permute_ps(v, 0xb1);
#else
    return _mm256_permute_ps(v, 0xb1);
#endif
  };
  int i = 0;
  for (; i + width <= rot; i += width) {
    const V x = load(h + i);
    store(h + i, fmadd(swap_pairs(x), load(ss + i), mul(x, load(cc + i))));
  }
  if (i < rot) {  // rot is even and so is i: the pairs stay whole
    const int rest = rot - i;
    const V x = load_part(h + i, rest);
    store_part(h + i, fmadd(swap_pairs(x), load_part(ss + i, rest), mul(x, load_part(cc + i, rest))), rest);
  }
#else
  for (int i = 0; i < rot; i += 2) {
    const float x0 = h[i], x1 = h[i + 1];
    h[i] = x0 * cc[i] + x1 * ss[i];
    h[i + 1] = x1 * cc[i + 1] + x0 * ss[i + 1];
  }
#endif
}

}  // namespace

void rope(const RopeParams& p, const RopeTable& t, float* x, int64_t n_tok, int n_heads, const int32_t* pos) {
  const int half = p.rot_dims / 2;
  std::vector<float> buf(static_cast<size_t>(half) * 3 + static_cast<size_t>(p.rot_dims) * 2);
  float* angle = buf.data();
  float* c = angle + half;
  float* s = c + half;
  float* cc = s + half;
  float* ss = cc + p.rot_dims;
  for (int64_t tok = 0; tok < n_tok; ++tok) {
    const float pf = static_cast<float>(pos[tok]);
    for (int i = 0; i < half; ++i) angle[i] = pf * t.inv_freq[static_cast<size_t>(i)];
    sincos(angle, half, c, s, t.mscale);
    float* xt = x + tok * static_cast<int64_t>(n_heads) * p.head_dim;
    if (p.layout == RopeLayout::neox) {
      for (int h = 0; h < n_heads; ++h) apply_neox(xt + static_cast<int64_t>(h) * p.head_dim, half, c, s);
    } else {
      for (int i = 0; i < half; ++i) {
        cc[2 * i] = cc[2 * i + 1] = c[i];
        ss[2 * i] = -s[i];
        ss[2 * i + 1] = s[i];
      }
      for (int h = 0; h < n_heads; ++h) apply_normal(xt + static_cast<int64_t>(h) * p.head_dim, p.rot_dims, cc, ss);
    }
  }
}

}  // namespace ollm::cpu::OLLM_ISA_NAMESPACE
