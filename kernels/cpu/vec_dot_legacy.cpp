// Compiled once per ISA: decode matmul row kernels for the 32-element block types (Q4_0, Q4_1,
// Q5_0, Q5_1, Q8_0, IQ4_NL) against activations quantized to XqLegacyGroup (gemv_kernels.hpp).
//
// Integer inner loop: the weight codes are made non-negative (code = value + offset) so they can
// be the unsigned operand of vpdpbusd (AVX-512 VNNI) / vpmaddubsw (AVX2), one 128-bit lane per
// block; the offset comes back as offset * -sum(x_q), preloaded into the accumulator from the
// activation's per-block sums. Each lane's int32 partial sums are then scaled in f32 by
// d_w * d_x (expanded per lane), so no horizontal work happens before the end of a row.
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

constexpr int max_tile = 4;  // activation rows that share one decode of a weight row

#if defined(OLLM_ISA_AVX512) || defined(OLLM_ISA_AVX2)

#if defined(OLLM_ISA_AVX512)
using VI = __m512i;
using VF = __m512;
constexpr int bpv = 4;  // blocks per vector (one per 128-bit lane)
inline VI set1_8(int c) { return _mm512_set1_epi8(static_cast<char>(c)); }
inline VI v_and(VI a, VI b) { return _mm512_and_si512(a, b); }
inline VI v_xor(VI a, VI b) { return _mm512_xor_si512(a, b); }
inline VI v_srl4(VI a) { return _mm512_srli_epi16(a, 4); }
inline VI v_shuffle(VI table, VI idx) { return _mm512_shuffle_epi8(table, idx); }
inline VI v_load(const void* p) { return _mm512_load_si512(p); }
inline VF v_loadf(const float* p) { return _mm512_load_ps(p); }
inline VF v_zerof() { return _mm512_setzero_ps(); }
inline VI v_zero() { return _mm512_setzero_si512(); }
template <int S>
inline VI v_sll32(VI a) { return _mm512_slli_epi32(a, S); }
inline VF v_fma(VF a, VF b, VF c) { return _mm512_fmadd_ps(a, b, c); }
inline VF v_mul(VF a, VF b) { return _mm512_mul_ps(a, b); }
inline VF v_cvt(VI a) { return _mm512_cvtepi32_ps(a); }
inline float v_hsum(VF a) { return _mm512_reduce_add_ps(a); }
inline VF v_add(VF a, VF b) { return _mm512_add_ps(a, b); }
// Adds `add` to the bytes of c whose bit is set in bits.
inline VI add_where(VI c, uint64_t bits, VI add) { return _mm512_mask_add_epi8(c, bits, c, add); }
// acc + sum over 4-byte groups of u8(u) * i8(x).
inline VI dot_u8i8(VI acc, VI u, VI x) { return _mm512_dpbusd_epi32(acc, u, x); }

#else  // AVX2

using VI = __m256i;
using VF = __m256;
constexpr int bpv = 2;
inline VI set1_8(int c) { return _mm256_set1_epi8(static_cast<char>(c)); }
inline VI v_and(VI a, VI b) { return _mm256_and_si256(a, b); }
inline VI v_xor(VI a, VI b) { return _mm256_xor_si256(a, b); }
inline VI v_srl4(VI a) { return _mm256_srli_epi16(a, 4); }
inline VI v_shuffle(VI table, VI idx) { return _mm256_shuffle_epi8(table, idx); }
inline VI v_load(const void* p) { return _mm256_load_si256(static_cast<const __m256i*>(p)); }
inline VF v_loadf(const float* p) { return _mm256_load_ps(p); }
inline VF v_zerof() { return _mm256_setzero_ps(); }
inline VI v_zero() { return _mm256_setzero_si256(); }
template <int S>
inline VI v_sll32(VI a) { return _mm256_slli_epi32(a, S); }
inline VF v_fma(VF a, VF b, VF c) { return _mm256_fmadd_ps(a, b, c); }
inline VF v_mul(VF a, VF b) { return _mm256_mul_ps(a, b); }
inline VF v_cvt(VI a) { return _mm256_cvtepi32_ps(a); }
inline VF v_add(VF a, VF b) { return _mm256_add_ps(a, b); }
inline float v_hsum(VF a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}
inline VI load_lanes(const uint8_t* p, size_t stride) {
  return _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(p + stride), reinterpret_cast<const __m128i*>(p));
}
inline VF lane_fp16(const uint8_t* p, size_t stride) {
  const uint32_t h = static_cast<uint32_t>(load_u16(p)) | static_cast<uint32_t>(load_u16(p + stride)) << 16;
  const __m128 f = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(h)));
  return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(f), _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1));
}
inline uint64_t lane_bits(const uint8_t* p, size_t stride, int shift) {
  return ((load_u32(p) >> shift) & 0xffffu) | ((load_u32(p + stride) >> shift) & 0xffffu) << 16;
}
inline VI add_where(VI c, uint64_t bits, VI add) {
  // Byte j takes bit j: broadcast, route byte j/8 of the mask to byte j, test bit j%8.
  const VI spread = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)),
                                        _mm256_setr_epi64x(0, 0x0101010101010101ll, 0x0202020202020202ll,
                                                           0x0303030303030303ll));
  const VI bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
  const VI set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
  return _mm256_add_epi8(c, _mm256_and_si256(set, add));
}
// Without VNNI: pairs of u8*i8 summed to i16 (exact while u <= 128, as every unsigned code here
// is), then pairs of i16 to i32.
inline VI dot_u8i8(VI acc, VI u, VI x) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, x), _mm256_set1_epi16(1)));
}
// Signed weights: |w| * (x with w's sign), the usual trick, exact since |w|, |x| <= 127.
inline VI dot_i8i8(VI acc, VI w, VI x) {
  return dot_u8i8(acc, _mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
}

#endif

// Decoders of `bpv` consecutive blocks: decode(p, lo, hi, d, m) gives each block's elements
// 0..15 (lo) and 16..31 (hi) in its lane, its scale d and (has_min) its min m per lane. `shift`:
// the codes carry an offset of 1 << shift (-1: signed codes, no offset); has_min: value =
// d * code + m.
//
// AVX-512 reads 4 blocks as 64 + (4B - 64) bytes (a masked load: never past the 4 blocks) and
// routes every field to its lane with one vpermt2w each (all fields sit at even byte offsets),
// instead of 4 lane inserts and scalar fp16 gathers per field.
#if defined(OLLM_ISA_AVX512)

struct WordIdx {
  alignas(64) int16_t w[32];
};
// Lane j, word i (i < 8): word first + stride * j + i (16 bytes of each block).
constexpr WordIdx lanes_idx(int first, int stride) {
  WordIdx r{};
  for (int w = 0; w < 32; ++w) r.w[w] = static_cast<int16_t>(first + stride * (w / 8) + w % 8);
  return r;
}
// Words 4j .. 4j+3: word first + stride * j (a per-block fp16, repeated over its lane).
constexpr WordIdx scale_idx(int first, int stride) {
  WordIdx r{};
  for (int w = 0; w < 16; ++w) r.w[w] = static_cast<int16_t>(first + stride * (w / 4));
  return r;
}
// Words 0..3: the low halves of the per-block u32 at word `first`; words 4..7: the high halves.
constexpr WordIdx bits_idx(int first, int stride) {
  WordIdx r{};
  for (int w = 0; w < 8; ++w) r.w[w] = static_cast<int16_t>(first + stride * (w % 4) + w / 4);
  return r;
}

// 64 weight bytes at any alignment, as two 32-byte loads: a 64-byte load that straddles two
// cache lines still in flight from DRAM costs far more (measured: Q4_0 streaming at 14 instead
// of 28 GB/s on one core), and weight rows start anywhere.
inline VI weight_load64(const uint8_t* p) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))),
                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)), 1);
}

// The 4 * B bytes of 4 blocks as two vectors (bytes 0..63 and the rest, zero-filled).
template <size_t B>
struct Group4 {
  VI z0, z1;
  explicit Group4(const uint8_t* p)
      : z0(weight_load64(p)),
        z1(_mm512_maskz_loadu_epi64(static_cast<__mmask8>((1u << ((4 * B - 64) / 8)) - 1u), p + 64)) {
    static_assert(4 * B > 64 && 4 * B <= 128 && (4 * B - 64) % 8 == 0);
  }
  VI words(const WordIdx& idx) const { return _mm512_permutex2var_epi16(z0, _mm512_load_si512(idx.w), z1); }
  VF fp16(const WordIdx& idx) const { return _mm512_cvtph_ps(_mm512_castsi512_si256(words(idx))); }
  // The 5th bits of Q5 blocks: lo / hi masks (bit 16j + i: element i / 16 + i of block j).
  void bits(const WordIdx& idx, __mmask64& lo, __mmask64& hi) const {
    const __m128i v = _mm512_castsi512_si128(words(idx));
    lo = static_cast<__mmask64>(_mm_cvtsi128_si64(v));
    hi = static_cast<__mmask64>(_mm_extract_epi64(v, 1));
  }
};

inline void nibbles(VI v, VI& lo, VI& hi) {
  lo = v_and(v, set1_8(0x0f));
  hi = v_and(v_srl4(v), set1_8(0x0f));
}

struct DecQ4_0 {
  static constexpr size_t bytes = sizeof(block_q4_0);
  static constexpr int shift = 3;
  static constexpr bool has_min = false;
  static constexpr WordIdx qs = lanes_idx(1, 9), d = scale_idx(0, 9);
  static void decode(const uint8_t* p, VI& lo, VI& hi, VF& dw, VF&) {
    const Group4<bytes> g(p);
    nibbles(g.words(qs), lo, hi);
    dw = g.fp16(d);
  }
};
struct DecQ4_1 {
  static constexpr size_t bytes = sizeof(block_q4_1);
  static constexpr int shift = -1;
  static constexpr bool has_min = true;
  static constexpr WordIdx qs = lanes_idx(2, 10), d = scale_idx(0, 10), m = scale_idx(1, 10);
  static void decode(const uint8_t* p, VI& lo, VI& hi, VF& dw, VF& mw) {
    const Group4<bytes> g(p);
    nibbles(g.words(qs), lo, hi);
    dw = g.fp16(d), mw = g.fp16(m);
  }
};
struct DecQ5_0 {
  static constexpr size_t bytes = sizeof(block_q5_0);
  static constexpr int shift = 4;
  static constexpr bool has_min = false;
  static constexpr WordIdx qs = lanes_idx(3, 11), d = scale_idx(0, 11), qh = bits_idx(1, 11);
  static void decode(const uint8_t* p, VI& lo, VI& hi, VF& dw, VF&) {
    const Group4<bytes> g(p);
    nibbles(g.words(qs), lo, hi);
    __mmask64 blo, bhi;
    g.bits(qh, blo, bhi);
    lo = add_where(lo, blo, set1_8(0x10)), hi = add_where(hi, bhi, set1_8(0x10));
    dw = g.fp16(d);
  }
};
struct DecQ5_1 {
  static constexpr size_t bytes = sizeof(block_q5_1);
  static constexpr int shift = -1;
  static constexpr bool has_min = true;
  static constexpr WordIdx qs = lanes_idx(4, 12), d = scale_idx(0, 12), m = scale_idx(1, 12), qh = bits_idx(2, 12);
  static void decode(const uint8_t* p, VI& lo, VI& hi, VF& dw, VF& mw) {
    const Group4<bytes> g(p);
    nibbles(g.words(qs), lo, hi);
    __mmask64 blo, bhi;
    g.bits(qh, blo, bhi);
    lo = add_where(lo, blo, set1_8(0x10)), hi = add_where(hi, bhi, set1_8(0x10));
    dw = g.fp16(d), mw = g.fp16(m);
  }
};

// Q8_0 and IQ4_NL hold signed values; VNNI wants the weight side unsigned: value + 128.
constexpr int signed_shift = 7;
inline VI iq4nl_table() {
  return _mm512_broadcast_i32x4(_mm_setr_epi8(1, 24, 45, 63, 79, 93, 106, 118, -127, -115, -103, -90, -75, -59,
                                              -39, -15));  // iq4nl_values + 128, as bytes
}

// Q8_0: 4 blocks are 136 bytes. lo (bytes 2..17 of each block) and d from bytes 0..127, hi
// (bytes 18..33) from bytes 16..135, so each vpermt2w still spans two vectors.
struct DecQ8_0 {
  static constexpr size_t bytes = sizeof(block_q8_0);
  static constexpr int shift = signed_shift;
  static constexpr bool has_min = false;
  static constexpr WordIdx qs = lanes_idx(1, 17), d = scale_idx(0, 17);
  static void decode(const uint8_t* p, VI& lo, VI& hi, VF& dw, VF&) {
    const VI a0 = weight_load64(p), a1 = weight_load64(p + 64);
    const VI b0 = weight_load64(p + 16), b1 = _mm512_maskz_loadu_epi64(0x7f, p + 80);
    const VI idx = _mm512_load_si512(qs.w);
    lo = v_xor(_mm512_permutex2var_epi16(a0, idx, a1), set1_8(0x80));
    hi = v_xor(_mm512_permutex2var_epi16(b0, idx, b1), set1_8(0x80));
    dw = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutex2var_epi16(a0, _mm512_load_si512(d.w), a1)));
  }
};

struct DecIQ4_NL {
  static constexpr size_t bytes = sizeof(block_iq4_nl);
  static constexpr int shift = signed_shift;
  static constexpr bool has_min = false;
  static constexpr WordIdx qs = lanes_idx(1, 9), d = scale_idx(0, 9);
  static void decode(const uint8_t* p, VI& lo, VI& hi, VF& dw, VF&) {
    const Group4<bytes> g(p);
    VI l, h;
    nibbles(g.words(qs), l, h);
    const VI table = iq4nl_table();
    lo = v_shuffle(table, l), hi = v_shuffle(table, h);
    dw = g.fp16(d);
  }
};

#else  // AVX2: two blocks per vector, lanes filled with 128-bit loads

template <size_t Off>
inline void nibble_lanes(const uint8_t* p, size_t bytes, VI& lo, VI& hi) {
  const VI v = load_lanes(p + Off, bytes);
  lo = v_and(v, set1_8(0x0f));
  hi = v_and(v_srl4(v), set1_8(0x0f));
}

struct DecQ4_0 {
  static constexpr size_t bytes = sizeof(block_q4_0);
  static constexpr int shift = 3;
  static constexpr bool has_min = false;
  static void decode(const uint8_t* p, VI& lo, VI& hi, VF& dw, VF&) {
    nibble_lanes<2>(p, bytes, lo, hi);
    dw = lane_fp16(p, bytes);
  }
};
struct DecQ4_1 {
  static constexpr size_t bytes = sizeof(block_q4_1);
  static constexpr int shift = -1;
  static constexpr bool has_min = true;
  static void decode(const uint8_t* p, VI& lo, VI& hi, VF& dw, VF& mw) {
    nibble_lanes<4>(p, bytes, lo, hi);
    dw = lane_fp16(p, bytes), mw = lane_fp16(p + 2, bytes);
  }
};
struct DecQ5_0 {
  static constexpr size_t bytes = sizeof(block_q5_0);
  static constexpr int shift = 4;
  static constexpr bool has_min = false;
  static void decode(const uint8_t* p, VI& lo, VI& hi, VF& dw, VF&) {
    nibble_lanes<6>(p, bytes, lo, hi);
    lo = add_where(lo, lane_bits(p + 2, bytes, 0), set1_8(0x10));
    hi = add_where(hi, lane_bits(p + 2, bytes, 16), set1_8(0x10));
    dw = lane_fp16(p, bytes);
  }
};
struct DecQ5_1 {
  static constexpr size_t bytes = sizeof(block_q5_1);
  static constexpr int shift = -1;
  static constexpr bool has_min = true;
  static void decode(const uint8_t* p, VI& lo, VI& hi, VF& dw, VF& mw) {
    nibble_lanes<8>(p, bytes, lo, hi);
    lo = add_where(lo, lane_bits(p + 4, bytes, 0), set1_8(0x10));
    hi = add_where(hi, lane_bits(p + 4, bytes, 16), set1_8(0x10));
    dw = lane_fp16(p, bytes), mw = lane_fp16(p + 2, bytes);
  }
};

// Q8_0 and IQ4_NL hold signed values: kept signed (value + 128 would overflow vpmaddubsw's i16
// pairs), multiplied with the sign trick.
constexpr int signed_shift = -1;

struct DecQ8_0 {
  static constexpr size_t bytes = sizeof(block_q8_0);
  static constexpr int shift = signed_shift;
  static constexpr bool has_min = false;
  static void decode(const uint8_t* p, VI& lo, VI& hi, VF& dw, VF&) {
    lo = load_lanes(p + 2, bytes), hi = load_lanes(p + 18, bytes);
    dw = lane_fp16(p, bytes);
  }
};

struct DecIQ4_NL {
  static constexpr size_t bytes = sizeof(block_iq4_nl);
  static constexpr int shift = signed_shift;
  static constexpr bool has_min = false;
  static void decode(const uint8_t* p, VI& lo, VI& hi, VF& dw, VF&) {
    VI l, h;
    nibble_lanes<2>(p, bytes, l, h);
    const VI table = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(iq4nl_values)));
    lo = v_shuffle(table, l), hi = v_shuffle(table, h);
    dw = lane_fp16(p, bytes);
  }
};

#endif

// The contribution of 4 blocks at p (weights) and activation group g, for M activation rows.
template <class T, int M>
inline void group_step(const uint8_t* p, const XqLegacyGroup* const* x, int64_t g, VF* acc) {
  for (int h = 0; h < 4 / bpv; ++h) {
    VI lo, hi;
    VF dw, mw = v_zerof();
    T::decode(p + static_cast<size_t>(h * bpv) * T::bytes, lo, hi, dw, mw);
    for (int i = 0; i < M; ++i) {
      const XqLegacyGroup& xg = x[i][g];
      const int e8 = 16 * bpv * h, e32 = 4 * bpv * h;
      VI a = v_zero();
      if constexpr (T::shift >= 0) a = v_sll32<T::shift>(v_load(xg.nsum + e32));
#if defined(OLLM_ISA_AVX2)
      if constexpr (T::shift < 0 && !T::has_min) {
        a = dot_i8i8(a, lo, v_load(xg.lo + e8));
        a = dot_i8i8(a, hi, v_load(xg.hi + e8));
      } else
#endif
      {
        a = dot_u8i8(a, lo, v_load(xg.lo + e8));
        a = dot_u8i8(a, hi, v_load(xg.hi + e8));
      }
      acc[i] = v_fma(v_cvt(a), v_mul(dw, v_loadf(xg.d + e32)), acc[i]);
      if constexpr (T::has_min) acc[i] = v_fma(mw, v_loadf(xg.s + e32), acc[i]);
    }
  }
}

// One weight row at a time, strictly sequential: interleaving two rows to share the activation
// loads ran 20 % faster from L2 but 2x slower streaming from DRAM (the prefetchers lose track).
// Two accumulators per activation row alternate by group, so one FMA chain does not cap a group
// at the FMA latency.
template <class T, int M>
void rows_tile(const uint8_t* w, size_t w_stride, int64_t r_begin, int64_t r_end, int64_t n_blocks,
               const XqLegacyGroup* const* x, float* const* y) {
  const int64_t full = n_blocks / 4;
  const int64_t tail = n_blocks % 4;
  for (int64_t r = r_begin; r < r_end; ++r) {
    const uint8_t* row = w + static_cast<size_t>(r) * w_stride;
    VF acc[M], acc2[M];
    for (int i = 0; i < M; ++i) acc[i] = acc2[i] = v_zerof();
    int64_t g = 0;
    for (; g + 2 <= full; g += 2) {
      const uint8_t* p = row + static_cast<size_t>(g) * 4 * T::bytes;
      prefetch_ahead<8 * T::bytes>(p);
      group_step<T, M>(p, x, g, acc);
      group_step<T, M>(p + 4 * T::bytes, x, g + 1, acc2);
    }
    if (g < full) group_step<T, M>(row + static_cast<size_t>(g) * 4 * T::bytes, x, g, acc);
    if (tail) {
      // The last partial group reads a zero-padded copy (zero scale and min): never past the row.
      alignas(64) uint8_t pad[4 * T::bytes] = {};
      std::memcpy(pad, row + static_cast<size_t>(full) * 4 * T::bytes, static_cast<size_t>(tail) * T::bytes);
      group_step<T, M>(pad, x, full, acc2);
    }
    for (int i = 0; i < M; ++i) y[i][r] = v_hsum(v_add(acc[i], acc2[i]));
  }
}

#else  // scalar

// Scalar decoders: the 32 signed values of one block (value = d * v + m).
struct DecQ4_0 {
  static constexpr size_t bytes = sizeof(block_q4_0);
  static constexpr bool has_min = false;
  static void values(const uint8_t* p, int* v) {
    for (int j = 0; j < 16; ++j) v[j] = (p[2 + j] & 0x0f) - 8, v[j + 16] = (p[2 + j] >> 4) - 8;
  }
};
struct DecQ4_1 {
  static constexpr size_t bytes = sizeof(block_q4_1);
  static constexpr bool has_min = true;
  static void values(const uint8_t* p, int* v) {
    for (int j = 0; j < 16; ++j) v[j] = p[4 + j] & 0x0f, v[j + 16] = p[4 + j] >> 4;
  }
};
struct DecQ5_0 {
  static constexpr size_t bytes = sizeof(block_q5_0);
  static constexpr bool has_min = false;
  static void values(const uint8_t* p, int* v) {
    const uint32_t qh = load_u32(p + 2);
    for (int j = 0; j < 16; ++j) {
      v[j] = ((p[6 + j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4)) - 16;
      v[j + 16] = ((p[6 + j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4)) - 16;
    }
  }
};
struct DecQ5_1 {
  static constexpr size_t bytes = sizeof(block_q5_1);
  static constexpr bool has_min = true;
  static void values(const uint8_t* p, int* v) {
    const uint32_t qh = load_u32(p + 4);
    for (int j = 0; j < 16; ++j) {
      v[j] = (p[8 + j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
      v[j + 16] = (p[8 + j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
    }
  }
};
struct DecQ8_0 {
  static constexpr size_t bytes = sizeof(block_q8_0);
  static constexpr bool has_min = false;
  static void values(const uint8_t* p, int* v) {
    for (int j = 0; j < 32; ++j) v[j] = static_cast<int8_t>(p[2 + j]);
  }
};
struct DecIQ4_NL {
  static constexpr size_t bytes = sizeof(block_iq4_nl);
  static constexpr bool has_min = false;
  static void values(const uint8_t* p, int* v) {
    for (int j = 0; j < 16; ++j) v[j] = iq4nl_values[p[2 + j] & 0x0f], v[j + 16] = iq4nl_values[p[2 + j] >> 4];
  }
};

template <class T, int M>
void rows_tile(const uint8_t* w, size_t w_stride, int64_t r_begin, int64_t r_end, int64_t n_blocks,
               const XqLegacyGroup* const* x, float* const* y) {
  for (int64_t r = r_begin; r < r_end; ++r) {
    const uint8_t* row = w + static_cast<size_t>(r) * w_stride;
    float acc[M] = {};
    for (int64_t b = 0; b < n_blocks; ++b) {
      const uint8_t* p = row + static_cast<size_t>(b) * T::bytes;
      int v[32];
      T::values(p, v);
      const float dw = fp16_to_f32(load_u16(p));
      const float mw = T::has_min ? fp16_to_f32(load_u16(p + 2)) : 0.0f;
      const int j = static_cast<int>(b % 4);
      for (int i = 0; i < M; ++i) {
        const XqLegacyGroup& xg = x[i][b / 4];
        int32_t sum = 0;
        for (int l = 0; l < 16; ++l) sum += v[l] * xg.lo[16 * j + l] + v[l + 16] * xg.hi[16 * j + l];
        acc[i] += static_cast<float>(sum) * (dw * xg.d[4 * j]);
        if constexpr (T::has_min) acc[i] += mw * xg.s[4 * j];
      }
    }
    for (int i = 0; i < M; ++i) y[i][r] = acc[i];
  }
}

#endif

// w: [r_end rows] of T at w_stride · x: m rows of XqLegacyGroup[ceil(k/128)] · y: m rows [n] f32
template <class T>
void gemv_legacy(const uint8_t* w, size_t w_stride, int64_t r_begin, int64_t r_end, int64_t k,
                 const void* const* x, float* const* y, int64_t m) {
  const int64_t n_blocks = k / qk_legacy;
  for (int64_t i0 = 0; i0 < m; i0 += max_tile) {
    const XqLegacyGroup* xs[max_tile];
    const int mt = static_cast<int>(std::min<int64_t>(max_tile, m - i0));
    for (int i = 0; i < mt; ++i) xs[i] = static_cast<const XqLegacyGroup*>(x[i0 + i]);
    float* const* ys = y + i0;
    switch (mt) {
      case 1: rows_tile<T, 1>(w, w_stride, r_begin, r_end, n_blocks, xs, ys); break;
      case 2: rows_tile<T, 2>(w, w_stride, r_begin, r_end, n_blocks, xs, ys); break;
      case 3: rows_tile<T, 3>(w, w_stride, r_begin, r_end, n_blocks, xs, ys); break;
      default: rows_tile<T, 4>(w, w_stride, r_begin, r_end, n_blocks, xs, ys); break;
    }
  }
}

}  // namespace

GemvKernel gemv_legacy_kernel(DType type) noexcept {
  switch (type) {
    case DType::q4_0: return &gemv_legacy<DecQ4_0>;
    case DType::q4_1: return &gemv_legacy<DecQ4_1>;
    case DType::q5_0: return &gemv_legacy<DecQ5_0>;
    case DType::q5_1: return &gemv_legacy<DecQ5_1>;
    case DType::q8_0: return &gemv_legacy<DecQ8_0>;
    case DType::iq4_nl: return &gemv_legacy<DecIQ4_NL>;
    default: return nullptr;
  }
}

}  // namespace ollm::cpu::OLLM_ISA_NAMESPACE
