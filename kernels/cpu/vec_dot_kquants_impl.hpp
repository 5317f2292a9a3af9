// Included only by the per-ISA K-quant sources (vec_dot_kquants*.cpp): the super-block loop shared
// by Q2_K..Q6_K and IQ4_XS against XqKBlock activations, and the vector primitives it needs.
//
// A type's decoder turns one 256-element super-block into: chunks of weight codes in the order of
// the activation format (natural; AVX-512 Q4_K / Q5_K: nibble order), unsigned and < 128
// (IQ4_XS: signed values), the signed 16-bit scale of every lane pair of a chunk, a 16-bit
// multiplier of each 16-element group's activation sum (m16: a min, or the code offset times the
// scale) and the f16 super-scales d, dmin. Per activation row the inner loop is vpmaddubsw (u8
// codes x i8 activations, exact: codes < 128) and vpdpwssd / vpmaddwd with the scales into i32,
// then one f32 FMA per super-block (two with a min).
#pragma once

#include <algorithm>
#include <cstdint>

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

constexpr int kq_max_tile = 4;  // activation rows that share one decode of a weight row

#if defined(OLLM_ISA_AVX512) || defined(OLLM_ISA_AVX2)

#if defined(OLLM_ISA_AVX512)
using KI = __m512i;
using KF = __m512;
constexpr int kq_chunk = 64;  // elements per vector
inline KI kq_load(const int8_t* p) { return _mm512_load_si512(p); }
inline KI kq_set1_8(int c) { return _mm512_set1_epi8(static_cast<char>(c)); }
inline KI kq_and(KI a, KI b) { return _mm512_and_si512(a, b); }
inline KI kq_or(KI a, KI b) { return _mm512_or_si512(a, b); }
inline KI kq_zero() { return _mm512_setzero_si512(); }
inline KF kq_zerof() { return _mm512_setzero_ps(); }
// Two 32-byte halves into one vector.
inline KI kq_join(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }
// 64 weight bytes at any alignment as two 32-byte loads: a 64-byte load straddling two cache
// lines still in flight from DRAM is far slower (measured 2-3x on a streaming core).
inline KI kq_weight_load64(const uint8_t* p) {
  return kq_join(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)),
                 _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)));
}
// acc + sum over pairs of (sum over pairs of u8(q) * i8(x)) * i16(s).
inline KI kq_dot(KI acc, KI q, KI x, KI s) { return _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(q, x), s); }
// acc + pairs of i16 products, from 16-lane (256-bit) operands.
inline KI kq_madd_add(KI acc, __m256i a, __m256i b) {
  return _mm512_add_epi32(acc, _mm512_zextsi256_si512(_mm256_madd_epi16(a, b)));
}
inline KF kq_cvt(KI a) { return _mm512_cvtepi32_ps(a); }
inline KF kq_fma(KF a, KF b, KF c) { return _mm512_fmadd_ps(a, b, c); }
inline KF kq_fnma(KF a, KF b, KF c) { return _mm512_fnmadd_ps(a, b, c); }
inline KF kq_lane0(__m128 v) { return _mm512_broadcastss_ps(v); }
inline KF kq_lane1(__m128 v) { return _mm512_broadcastss_ps(_mm_movehdup_ps(v)); }
inline float kq_hsum(KF a) { return _mm512_reduce_add_ps(a); }

// Scale of the group of each 16-bit lane of chunk c (lane j covers elements 64c + 2j, +1).
inline KI kq_expand(__m256i s16, int c) {
  const KI lane = _mm512_setr_epi64(0, 0, 0x0001000100010001ll, 0x0001000100010001ll, 0x0002000200020002ll,
                                    0x0002000200020002ll, 0x0003000300030003ll, 0x0003000300030003ll);
  const KI base = _mm512_set1_epi16(static_cast<short>(4 * c));
  return _mm512_permutexvar_epi16(_mm512_add_epi16(base, lane), _mm512_castsi256_si512(s16));
}
// The same for 32-element groups from eight i16 scales: lane j of chunk c is in group 2c + j/16.
inline KI kq_expand32(__m128i s8, int c) {
  const KI lane = _mm512_setr_epi64(0, 0, 0, 0, 0x0001000100010001ll, 0x0001000100010001ll, 0x0001000100010001ll,
                                    0x0001000100010001ll);
  return _mm512_permutexvar_epi16(_mm512_add_epi16(_mm512_set1_epi16(static_cast<short>(2 * c)), lane),
                                  _mm512_castsi128_si512(s8));
}
// Lanes 0..15 of a chunk in group s0 and lanes 16..31 in group s0 + 2 (of eight i16 scales).
inline KI kq_expand32_pair(__m128i s8, int s0) {
  const KI lane = _mm512_setr_epi64(0, 0, 0, 0, 0x0002000200020002ll, 0x0002000200020002ll, 0x0002000200020002ll,
                                    0x0002000200020002ll);
  return _mm512_permutexvar_epi16(_mm512_add_epi16(_mm512_set1_epi16(static_cast<short>(s0)), lane),
                                  _mm512_castsi128_si512(s8));
}
inline KI kq_abs(KI v) { return _mm512_abs_epi8(v); }
inline __mmask64 kq_negative(KI v) { return _mm512_movepi8_mask(v); }
inline KI kq_apply_sign(KI x, __mmask64 neg) { return _mm512_mask_sub_epi8(x, neg, _mm512_setzero_si512(), x); }
// Bytes of q where the matching byte of bits has `bit_lo` (first 32 lanes) / `bit_hi` (last 32)
// set, plus `add`.
inline KI kq_add_where(KI q, __m256i bits, int bit_lo, int bit_hi, int add) {
  const KI both = _mm512_broadcast_i64x4(bits);
  const KI sel = kq_join(_mm256_set1_epi8(static_cast<char>(bit_lo)), _mm256_set1_epi8(static_cast<char>(bit_hi)));
  return _mm512_mask_add_epi8(q, _mm512_test_epi8_mask(both, sel), q, kq_set1_8(add));
}

#else  // AVX2

using KI = __m256i;
using KF = __m256;
constexpr int kq_chunk = 32;
inline KI kq_load(const int8_t* p) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(p)); }
inline KI kq_set1_8(int c) { return _mm256_set1_epi8(static_cast<char>(c)); }
inline KI kq_and(KI a, KI b) { return _mm256_and_si256(a, b); }
inline KI kq_or(KI a, KI b) { return _mm256_or_si256(a, b); }
inline KI kq_zero() { return _mm256_setzero_si256(); }
inline KF kq_zerof() { return _mm256_setzero_ps(); }
inline KI kq_dot(KI acc, KI q, KI x, KI s) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(q, x), s));
}
inline KI kq_madd_add(KI acc, __m256i a, __m256i b) { return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b)); }
inline KF kq_cvt(KI a) { return _mm256_cvtepi32_ps(a); }
inline KF kq_fma(KF a, KF b, KF c) { return _mm256_fmadd_ps(a, b, c); }
inline KF kq_fnma(KF a, KF b, KF c) { return _mm256_fnmadd_ps(a, b, c); }
inline KF kq_lane0(__m128 v) { return _mm256_broadcastss_ps(v); }
inline KF kq_lane1(__m128 v) { return _mm256_broadcastss_ps(_mm_movehdup_ps(v)); }
inline float kq_hsum(KF a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}
// Chunk c (elements 32c ..) spans groups 2c and 2c+1: one per 128-bit lane.
inline KI kq_expand(__m256i s16, int c) {
  const __m256i half = c < 4 ? _mm256_permute2x128_si256(s16, s16, 0x00) : _mm256_permute2x128_si256(s16, s16, 0x11);
  const int g0 = (2 * c) % 8, g1 = (2 * c + 1) % 8;
  // Byte pair (2g, 2g+1) of the lane's half, repeated: the 16-bit scale of group g.
  const long long i0 = 0x0100010001000100ll + 0x0202020202020202ll * g0;
  const long long i1 = 0x0100010001000100ll + 0x0202020202020202ll * g1;
  const __m256i idx = _mm256_setr_epi64x(i0, i0, i1, i1);
  return _mm256_shuffle_epi8(half, idx);
}
// Chunk c (elements 32c ..) is group c of eight i16 scales.
inline KI kq_expand32(__m128i s8, int c) {
  const long long i = 0x0100010001000100ll + 0x0202020202020202ll * c;
  return _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(s8), _mm256_set1_epi64x(i));
}
inline KI kq_abs(KI v) { return _mm256_sign_epi8(v, v); }
inline KI kq_negative(KI v) { return v; }
inline KI kq_apply_sign(KI x, KI v) { return _mm256_sign_epi8(x, v); }
// Bytes of q whose matching byte of bits has `bit` set, plus `add`.
inline KI kq_add_where(KI q, __m256i bits, int bit, int add) {
  const __m256i b = _mm256_set1_epi8(static_cast<char>(bit));
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(bits, b), b);
  return _mm256_add_epi8(q, _mm256_and_si256(set, kq_set1_8(add)));
}

#endif

constexpr int kq_chunks = qk_k / kq_chunk;

// The f16 super-scales as [d, dmin, 0, 0] (dmin: the second f16, when `two`).
inline __m128 kq_halves(const uint8_t* p, bool two) {
  return _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(two ? load_u32(p) : load_u16(p))));
}
inline __m256i kq_loadu256(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
// Eight per-32 values (i16) as sixteen per-16 values, each repeated twice.
inline __m256i kq_repeat_pairs(__m128i w) { return _mm256_set_m128i(_mm_unpackhi_epi16(w, w), _mm_unpacklo_epi16(w, w)); }
// The eight 6-bit scales and mins of Q4_K / Q5_K from their 12 packed bytes at p (16 readable):
// bytes 0..7 of the result are the scales, 8..15 the mins (ggml's get_scale_min_k4 as 32-bit
// lane operations: scale j < 4 is q[j] & 63; j >= 4 takes its low nibble from q[j+4] and its top
// bits from q[j-4] >> 6; mins likewise from q[j+4] and q[j]).
inline __m128i kq_scales_k4(const uint8_t* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));        // u0 u1 u2 -
  const __m128i a = _mm_srlv_epi32(_mm_shuffle_epi32(v, _MM_SHUFFLE(2, 1, 2, 0)),  // u0 u2 u1 u2>>4
                                   _mm_setr_epi32(0, 0, 0, 4));
  const __m128i low = _mm_and_si128(a, _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
  const __m128i top = _mm_srli_epi32(_mm_shuffle_epi32(v, _MM_SHUFFLE(1, 1, 0, 0)), 2);  // bits 6..7 -> 4..5
  return _mm_or_si128(low, _mm_and_si128(top, _mm_setr_epi32(0, 0x30303030, 0, 0x30303030)));
}

// Decoders: a default-constructible struct with
//   static constexpr size_t bytes;           block size
//   static constexpr bool separate_min;      value = d*s*q - dmin*m: m16 terms scale with dmin
//   static constexpr bool has_offset;        codes carry an offset: m16 terms add to the i32 sum
//   static constexpr bool signed_values;     chunk() returns signed values (|v| <= 127)
//   void load(const uint8_t* block);         reads d, dmin, scales
//   KI chunk(int c) const;                   codes of the activation elements of chunk c
//   KI scales(int c) const;                  the i16 scale of each lane pair of chunk c
//   __m256i m16; __m128 dd;                  multipliers of the 16 bsums; [d, dmin] as f32
// One weight row at a time, strictly sequential (two interleaved rows measured 2-3x slower when
// streaming from DRAM, although faster from L2).
template <class T, int M>
void kq_rows_tile(const uint8_t* w, size_t w_stride, int64_t r_begin, int64_t r_end, int64_t n_super,
                  const XqKBlock* const* x, float* const* y) {
  for (int64_t r = r_begin; r < r_end; ++r) {
    const uint8_t* row = w + static_cast<size_t>(r) * w_stride;
    KF acc[M];
    for (int i = 0; i < M; ++i) acc[i] = kq_zerof();
    for (int64_t b = 0; b < n_super; ++b) {
      T dec;
      prefetch_ahead<T::bytes>(row + static_cast<size_t>(b) * T::bytes);
      dec.load(row + static_cast<size_t>(b) * T::bytes);
      KI iacc[M];
      for (int i = 0; i < M; ++i) iacc[i] = kq_zero();
      for (int c = 0; c < kq_chunks; ++c) {
        const KI s = dec.scales(c);
        const KI q = dec.chunk(c);
        if constexpr (T::signed_values) {
          // |v| * (x with v's sign): vpmaddubsw wants its first operand unsigned.
          const KI av = kq_abs(q);
          const auto neg = kq_negative(q);
          for (int i = 0; i < M; ++i)
            iacc[i] = kq_dot(iacc[i], av, kq_apply_sign(kq_load(x[i][b].qs + c * kq_chunk), neg), s);
        } else {
          for (int i = 0; i < M; ++i) iacc[i] = kq_dot(iacc[i], q, kq_load(x[i][b].qs + c * kq_chunk), s);
        }
      }
      for (int i = 0; i < M; ++i) {
        const XqKBlock& xb = x[i][b];
        const __m256i bsums = _mm256_load_si256(reinterpret_cast<const __m256i*>(xb.bsums));
        const __m128 scale = _mm_mul_ps(dec.dd, _mm_set1_ps(xb.d));  // d * d_x, dmin * d_x
        if constexpr (T::separate_min) {
          const KI mins = kq_madd_add(kq_zero(), bsums, dec.m16);
          acc[i] = kq_fnma(kq_cvt(mins), kq_lane1(scale), acc[i]);
        } else if constexpr (T::has_offset) {
          iacc[i] = kq_madd_add(iacc[i], bsums, dec.m16);
        }
        acc[i] = kq_fma(kq_cvt(iacc[i]), kq_lane0(scale), acc[i]);
      }
    }
    for (int i = 0; i < M; ++i) y[i][r] = kq_hsum(acc[i]);
  }
}

#else  // scalar

// Scalar decoders: void decode(const uint8_t* block, int* q /*256 values*/, int* s16, int* m16,
// float& d, float& dmin) with value = d * s16[g] * q - (separate_min ? dmin : -d) * m16-term.
template <class T, int M>
void kq_rows_tile(const uint8_t* w, size_t w_stride, int64_t r_begin, int64_t r_end, int64_t n_super,
                  const XqKBlock* const* x, float* const* y) {
  for (int64_t r = r_begin; r < r_end; ++r) {
    const uint8_t* row = w + static_cast<size_t>(r) * w_stride;
    float acc[M] = {};
    for (int64_t b = 0; b < n_super; ++b) {
      int q[qk_k], s16[16], m16[16];
      float d = 0, dmin = 0;
      T::decode(row + static_cast<size_t>(b) * T::bytes, q, s16, m16, d, dmin);
      for (int i = 0; i < M; ++i) {
        const XqKBlock& xb = x[i][b];
        int32_t isum = 0, msum = 0;
        for (int g = 0; g < 16; ++g) {
          int32_t s = 0;
          for (int l = 0; l < 16; ++l) s += q[16 * g + l] * xb.qs[16 * g + l];
          isum += s16[g] * s;
          msum += m16[g] * xb.bsums[g];
        }
        if constexpr (T::separate_min) {
          acc[i] += static_cast<float>(isum) * (d * xb.d) - static_cast<float>(msum) * (dmin * xb.d);
        } else {
          acc[i] += static_cast<float>(isum + msum) * (d * xb.d);
        }
      }
    }
    for (int i = 0; i < M; ++i) y[i][r] = acc[i];
  }
}

#endif

// w: rows of k elements of T at w_stride · x: m rows of XqKBlock[k/256] · y: m rows [n] f32
template <class T>
void gemv_kquant(const uint8_t* w, size_t w_stride, int64_t r_begin, int64_t r_end, int64_t k,
                 const void* const* x, float* const* y, int64_t m) {
  const int64_t n_super = k / qk_k;
  for (int64_t i0 = 0; i0 < m; i0 += kq_max_tile) {
    const XqKBlock* xs[kq_max_tile];
    const int mt = static_cast<int>(std::min<int64_t>(kq_max_tile, m - i0));
    for (int i = 0; i < mt; ++i) xs[i] = static_cast<const XqKBlock*>(x[i0 + i]);
    float* const* ys = y + i0;
    switch (mt) {
      case 1: kq_rows_tile<T, 1>(w, w_stride, r_begin, r_end, n_super, xs, ys); break;
      case 2: kq_rows_tile<T, 2>(w, w_stride, r_begin, r_end, n_super, xs, ys); break;
      case 3: kq_rows_tile<T, 3>(w, w_stride, r_begin, r_end, n_super, xs, ys); break;
      default: kq_rows_tile<T, 4>(w, w_stride, r_begin, r_end, n_super, xs, ys); break;
    }
  }
}

}  // namespace
}  // namespace ollm::cpu::OLLM_ISA_NAMESPACE
