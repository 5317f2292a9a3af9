// Compiled once per ISA: decodes GGUF weight blocks into the int8 GEMM's packed panel layout
// (unsigned codes, 4 consecutive k per 32-bit lane, plus f32 scales/mins per sub-block). Scales
// are formed exactly as the dequantizers form them, so code*scale(+min) is the dequantized value.
#include <algorithm>
#include <cstddef>
#include <cstring>

#include "cpu/gemm_int8.hpp"
#include "cpu/gemm_simd.hpp"
#include "cpu/quant_blocks.hpp"

#if defined(OLLM_ISA_AVX512) || defined(OLLM_ISA_AVX2)
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

// The fp16 at p as f32 (F16C where the variant has it; a NaN may lose its payload, no more).
inline float half_at(const uint8_t* p) {
#if defined(OLLM_ISA_AVX512) || defined(OLLM_ISA_AVX2)
  return _cvtsh_ss(load_u16(p));
#else
  return fp16_to_f32(load_u16(p));
#endif
}

// One decode unit of one weight row: codes[unit], scales[unit / sub], mins[unit / sub] — for the
// K-quants with mins (Int8Format::int_min) the integer m of each sub-block and, after them,
// mins[unit / sub] = -dmin.
using DecodeFn = void (*)(const uint8_t* block, uint8_t* codes, float* scales, float* mins);

#if defined(OLLM_ISA_AVX512) || defined(OLLM_ISA_AVX2)
#define OLLM_GEMM_SIMD_DECODE 1

inline __m256i load32(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
inline void store32(uint8_t* p, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }

// 16 bytes of packed nibbles -> 32 bytes: low nibbles first, then high nibbles.
inline __m256i nibbles(const uint8_t* qs) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i low = _mm_set1_epi8(0x0f);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), low), _mm_and_si128(q, low));
}

// Bit j of `bits` -> byte j equal to `value` (or 0).
inline __m256i bits_to_bytes(uint32_t bits, uint8_t value) {
  const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)),
                                             _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202,
                                                                0x0303030303030303));
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201));
  return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(static_cast<char>(value)));
}
#endif

inline void nibbles_32(const uint8_t* qs, uint8_t* codes) {  // element j: low nibble of qs[j], j+16: high
#if defined(OLLM_GEMM_SIMD_DECODE)
  store32(codes, nibbles(qs));
#else
  for (int j = 0; j < 16; ++j) {
    codes[j] = qs[j] & 0x0f;
    codes[j + 16] = qs[j] >> 4;
  }
#endif
}

[[maybe_unused]] void decode_q8_0(const uint8_t* p, uint8_t* codes, float* scales, float*) {
  scales[0] = half_at(p + offsetof(block_q8_0, d));
  const uint8_t* qs = p + offsetof(block_q8_0, qs);
#if defined(OLLM_GEMM_SIMD_DECODE)
  store32(codes, _mm256_xor_si256(load32(qs), _mm256_set1_epi8(static_cast<char>(0x80))));
#else
  for (int j = 0; j < 32; ++j) codes[j] = static_cast<uint8_t>(qs[j] ^ 0x80u);  // q + 128
#endif
}

[[maybe_unused]] void decode_q4_0(const uint8_t* p, uint8_t* codes, float* scales, float*) {
  scales[0] = half_at(p + offsetof(block_q4_0, d));
  nibbles_32(p + offsetof(block_q4_0, qs), codes);
}

void decode_q4_1(const uint8_t* p, uint8_t* codes, float* scales, float* mins) {
  scales[0] = half_at(p + offsetof(block_q4_1, d));
  mins[0] = half_at(p + offsetof(block_q4_1, m));
  nibbles_32(p + offsetof(block_q4_1, qs), codes);
}

inline void fifth_bits(uint32_t qh, uint8_t* codes) {
#if defined(OLLM_GEMM_SIMD_DECODE)
  store32(codes, _mm256_or_si256(load32(codes), bits_to_bytes(qh, 0x10)));
#else
  for (int j = 0; j < 32; ++j) codes[j] = static_cast<uint8_t>(codes[j] | (((qh >> j) & 1u) << 4));
#endif
}

#if defined(OLLM_GEMM_SIMD_DECODE)
// Nibble indices -> iq4nl_values + 128 (unsigned codes), 32 at a time.
inline __m256i iq4_codes(__m256i idx) {
  const __m256i lut = _mm256_setr_epi8(1, 24, 45, 63, 79, 93, 106, 118, static_cast<char>(129), static_cast<char>(141),
                                       static_cast<char>(153), static_cast<char>(166), static_cast<char>(181),
                                       static_cast<char>(197), static_cast<char>(217), static_cast<char>(241), 1, 24,
                                       45, 63, 79, 93, 106, 118, static_cast<char>(129), static_cast<char>(141),
                                       static_cast<char>(153), static_cast<char>(166), static_cast<char>(181),
                                       static_cast<char>(197), static_cast<char>(217), static_cast<char>(241));
  return _mm256_shuffle_epi8(lut, idx);
}
#endif

[[maybe_unused]] void decode_q5_0(const uint8_t* p, uint8_t* codes, float* scales, float*) {
  scales[0] = half_at(p + offsetof(block_q5_0, d));
  nibbles_32(p + offsetof(block_q5_0, qs), codes);
  fifth_bits(load_u32(p + offsetof(block_q5_0, qh)), codes);
}

void decode_q5_1(const uint8_t* p, uint8_t* codes, float* scales, float* mins) {
  scales[0] = half_at(p + offsetof(block_q5_1, d));
  mins[0] = half_at(p + offsetof(block_q5_1, m));
  nibbles_32(p + offsetof(block_q5_1, qs), codes);
  fifth_bits(load_u32(p + offsetof(block_q5_1, qh)), codes);
}

void decode_iq4_nl(const uint8_t* p, uint8_t* codes, float* scales, float*) {
  scales[0] = half_at(p + offsetof(block_iq4_nl, d));
  const uint8_t* qs = p + offsetof(block_iq4_nl, qs);
#if defined(OLLM_GEMM_SIMD_DECODE)
  store32(codes, iq4_codes(nibbles(qs)));
#else
  for (int j = 0; j < 16; ++j) {
    codes[j] = static_cast<uint8_t>(iq4nl_values[qs[j] & 0x0f] + 128);
    codes[j + 16] = static_cast<uint8_t>(iq4nl_values[qs[j] >> 4] + 128);
  }
#endif
}

inline void scale_min_k4(int j, const uint8_t* q, int& sc, int& m) {
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
    m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

void decode_q2_k(const uint8_t* p, uint8_t* codes, float* scales, float* mins) {
  const float d = half_at(p + offsetof(block_q2_K, d));
  const float dmin = half_at(p + offsetof(block_q2_K, dmin));
  const uint8_t* sc = p + offsetof(block_q2_K, scales);
  const uint8_t* qs = p + offsetof(block_q2_K, qs);
  for (int s = 0; s < 16; ++s) {
    scales[s] = d * static_cast<float>(sc[s] & 0x0f);
    mins[s] = static_cast<float>(sc[s] >> 4);
  }
  mins[16] = -dmin;
#if defined(OLLM_GEMM_SIMD_DECODE)
  for (int h = 0; h < 2; ++h) {
    const __m256i q = load32(qs + 32 * h);
    for (int r = 0; r < 4; ++r)
      store32(codes + 128 * h + 32 * r, _mm256_and_si256(_mm256_srli_epi16(q, 2 * r), _mm256_set1_epi8(3)));
  }
#else
  for (int e = 0; e < qk_k; ++e)
    codes[e] = (qs[(e / 128) * 32 + (e % 32)] >> (2 * ((e % 128) / 32))) & 3;
#endif
}

void decode_q3_k(const uint8_t* p, uint8_t* codes, float* scales, float*) {
  const float d = half_at(p + offsetof(block_q3_K, d));
  const uint8_t* hmask = p + offsetof(block_q3_K, hmask);
  const uint8_t* qs = p + offsetof(block_q3_K, qs);
  const uint8_t* sc = p + offsetof(block_q3_K, scales);
  for (int j = 0; j < 16; ++j) {
    const int low = j < 8 ? (sc[j] & 0x0f) : (sc[j - 8] >> 4);
    const int high = (sc[8 + j % 4] >> (2 * (j / 4))) & 3;
    scales[j] = d * static_cast<float>((low | (high << 4)) - 32);
  }
  // value = q2 - (hbit ? 0 : 4) = (q2 + 4*hbit) - 4: code q2 + 4*hbit, bias 4.
#if defined(OLLM_GEMM_SIMD_DECODE)
  const __m256i hm = load32(hmask);
  for (int h = 0; h < 2; ++h) {
    const __m256i q = load32(qs + 32 * h);
    for (int r = 0; r < 4; ++r) {
      const int e = 128 * h + 32 * r;
      const __m256i q2 = _mm256_and_si256(_mm256_srli_epi16(q, 2 * r), _mm256_set1_epi8(3));
      const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, e / 32), _mm256_set1_epi8(1));
      store32(codes + e, _mm256_add_epi8(q2, _mm256_slli_epi16(hb, 2)));
    }
  }
#else
  for (int e = 0; e < qk_k; ++e) {
    const int q2 = (qs[(e / 128) * 32 + (e % 32)] >> (2 * ((e % 128) / 32))) & 3;
    const int h = (hmask[e % 32] >> (e / 32)) & 1;
    codes[e] = static_cast<uint8_t>(q2 + 4 * h);
  }
#endif
}

[[maybe_unused]] void decode_q4_k(const uint8_t* p, uint8_t* codes, float* scales, float* mins) {
  const float d = half_at(p + offsetof(block_q4_K, d));
  const float dmin = half_at(p + offsetof(block_q4_K, dmin));
  const uint8_t* sc = p + offsetof(block_q4_K, scales);
  const uint8_t* qs = p + offsetof(block_q4_K, qs);
  for (int j = 0; j < 8; ++j) {
    int s, m;
    scale_min_k4(j, sc, s, m);
    scales[j] = d * static_cast<float>(s);
    mins[j] = static_cast<float>(m);
  }
  mins[8] = -dmin;
#if defined(OLLM_GEMM_SIMD_DECODE)
  const __m256i low = _mm256_set1_epi8(0x0f);
  for (int i = 0; i < 4; ++i) {  // 32 bytes: low nibbles are sub-block 2i, high nibbles 2i+1
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(codes + 64 * i), _mm256_and_si256(q, low));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(codes + 64 * i + 32),
                        _mm256_and_si256(_mm256_srli_epi16(q, 4), low));
  }
#else
  for (int j = 0; j < 8; ++j)
    for (int l = 0; l < 32; ++l) codes[j * 32 + l] = (qs[(j / 2) * 32 + l] >> (4 * (j % 2))) & 0x0f;
#endif
}

void decode_q5_k(const uint8_t* p, uint8_t* codes, float* scales, float* mins) {
  const float d = half_at(p + offsetof(block_q5_K, d));
  const float dmin = half_at(p + offsetof(block_q5_K, dmin));
  const uint8_t* sc = p + offsetof(block_q5_K, scales);
  const uint8_t* qh = p + offsetof(block_q5_K, qh);
  const uint8_t* qs = p + offsetof(block_q5_K, qs);
  for (int j = 0; j < 8; ++j) {
    int s, m;
    scale_min_k4(j, sc, s, m);
    scales[j] = d * static_cast<float>(s);
    mins[j] = static_cast<float>(m);
#if defined(OLLM_GEMM_SIMD_DECODE)
    const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(load32(qs + (j / 2) * 32), 4 * (j % 2)), _mm256_set1_epi8(0x0f));
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(load32(qh), j), _mm256_set1_epi8(1));
    store32(codes + j * 32, _mm256_or_si256(lo, _mm256_slli_epi16(hi, 4)));
#else
    for (int l = 0; l < 32; ++l)
      codes[j * 32 + l] = static_cast<uint8_t>(((qs[(j / 2) * 32 + l] >> (4 * (j % 2))) & 0x0f) |
                                               (((qh[l] >> j) & 1) << 4));
#endif
  }
  mins[8] = -dmin;
}

[[maybe_unused]] void decode_q6_k(const uint8_t* p, uint8_t* codes, float* scales, float*) {
  const float d = half_at(p + offsetof(block_q6_K, d));
  const uint8_t* ql = p + offsetof(block_q6_K, ql);
  const uint8_t* qh = p + offsetof(block_q6_K, qh);
  const uint8_t* sc = p + offsetof(block_q6_K, scales);
  for (int s = 0; s < 16; ++s) scales[s] = d * static_cast<float>(static_cast<int8_t>(sc[s]));
  // Element e = half*128 + r*32 + l: low nibble of ql[half*64 + (r%2)*32 + l] (high nibble for
  // r >= 2), top two bits from qh[half*32 + l] >> 2r.
#if defined(OLLM_GEMM_SIMD_DECODE)
  const __m256i low = _mm256_set1_epi8(0x0f), two = _mm256_set1_epi8(0x03);
  for (int half = 0; half < 2; ++half) {
    const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + half * 64));
    const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + half * 64 + 32));
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh + half * 32));
    const __m256i lo[4] = {_mm256_and_si256(l0, low), _mm256_and_si256(l1, low),
                           _mm256_and_si256(_mm256_srli_epi16(l0, 4), low),
                           _mm256_and_si256(_mm256_srli_epi16(l1, 4), low)};
    for (int r = 0; r < 4; ++r) {
      const __m256i hi = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2 * r), two), 4);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(codes + half * 128 + r * 32),
                          _mm256_or_si256(lo[r], hi));
    }
  }
#else
  for (int e = 0; e < qk_k; ++e) {
    const int half = e / 128, r = (e % 128) / 32, l = e % 32;
    const int lo = (ql[half * 64 + (r % 2) * 32 + l] >> (4 * (r / 2))) & 0x0f;
    const int hi = (qh[half * 32 + l] >> (2 * r)) & 3;
    codes[e] = static_cast<uint8_t>(lo | (hi << 4));
  }
#endif
}

void decode_iq4_xs(const uint8_t* p, uint8_t* codes, float* scales, float*) {
  const float d = half_at(p + offsetof(block_iq4_xs, d));
  const uint16_t scales_h = load_u16(p + offsetof(block_iq4_xs, scales_h));
  const uint8_t* scales_l = p + offsetof(block_iq4_xs, scales_l);
  const uint8_t* qs = p + offsetof(block_iq4_xs, qs);
  for (int ib = 0; ib < 8; ++ib) {
    const int ls = ((scales_l[ib / 2] >> (4 * (ib % 2))) & 0x0f) | (((scales_h >> (2 * ib)) & 3) << 4);
    scales[ib] = d * static_cast<float>(ls - 32);
#if defined(OLLM_GEMM_SIMD_DECODE)
    store32(codes + ib * 32, iq4_codes(nibbles(qs + ib * 16)));
#else
    for (int j = 0; j < 16; ++j) {
      codes[ib * 32 + j] = static_cast<uint8_t>(iq4nl_values[qs[ib * 16 + j] & 0x0f] + 128);
      codes[ib * 32 + j + 16] = static_cast<uint8_t>(iq4nl_values[qs[ib * 16 + j] >> 4] + 128);
    }
#endif
  }
}

#if defined(OLLM_ISA_AVX512)

// A unit's integer-min tail for one half (16 columns): -dmin, then m of sub-block pairs as int16.
inline void write_int_mins(uint8_t* tail, int half, __m512 neg_dmin, const float (*m)[16], int subs) {
  _mm512_store_ps(reinterpret_cast<float*>(tail) + half * 16, neg_dmin);
  for (int j = 0; j < subs / 2; ++j) {
    const __m512i lo = _mm512_cvtps_epi32(_mm512_load_ps(m[2 * j]));
    const __m512i hi = _mm512_cvtps_epi32(_mm512_load_ps(m[2 * j + 1]));
    const __m512i pair = _mm512_or_si512(_mm512_and_si512(lo, _mm512_set1_epi32(0xffff)), _mm512_slli_epi32(hi, 16));
    _mm512_store_si512(tail + gemm_nr * 4 + j * gemm_nr * 4 + half * 64, pair);
  }
}

// 16 columns at a time: decode up to 256 elements of each column into a row-major buffer, then
// turn every 64 elements (16 dwords of 4 codes) of the 16 columns into 16 step vectors with one
// 16×16 dword transpose.
template <DecodeFn decode>
void pack_panel(const WeightMatrix& w, const Int8Format& f, int64_t col0, int64_t k0, int64_t kc, uint8_t* panel) {
  constexpr int chunk = 256;
  const int subs_per_block = gemm_block / f.sub;
  const size_t unit_bytes = dtype_traits(w.type)->block_bytes;
  const int64_t cols = std::min<int64_t>(gemm_nr, w.n_rows - col0);
  alignas(64) uint8_t codes[16][chunk];
  alignas(64) float scales[chunk / 16][16], mins[chunk / 16][16];  // [sub-block][column]
  alignas(64) float neg_dmin[16];                                  // integer mins: one unit per chunk
  float unit_scales[qk_k / 16], unit_mins[qk_k / 16 + 1];
  const int unit_subs = f.unit / f.sub;
  for (int half = 0; half < 2; ++half) {
    for (int64_t off = 0; off < kc; off += chunk) {
      const int len = static_cast<int>(std::min<int64_t>(chunk, kc - off));  // whole units
      const int padded = (len + 63) / 64 * 64;
      for (int c = 0; c < 16; ++c) {
        const int64_t col = half * 16 + c;
        if (col < cols) {
          const uint8_t* row = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(col0 + col) * w.row_stride +
                               static_cast<size_t>((k0 + off) / f.unit) * unit_bytes;
          for (int u = 0; u < len / f.unit; ++u) {
            decode(row + u * unit_bytes, codes[c] + u * f.unit, unit_scales, unit_mins);
            for (int s = 0; s < unit_subs; ++s) {
              scales[u * unit_subs + s][c] = unit_scales[s];
              mins[u * unit_subs + s][c] = unit_mins[s];
            }
            neg_dmin[c] = f.int_min ? unit_mins[unit_subs] : 0.0f;
          }
        } else {
          std::memset(codes[c], 0, static_cast<size_t>(len));
          for (int s = 0; s < len / f.sub; ++s) scales[s][c] = mins[s][c] = 0.0f;
          neg_dmin[c] = 0.0f;
        }
        if (padded > len) std::memset(codes[c] + len, 0, static_cast<size_t>(padded - len));
      }
      for (int j = 0; j < padded / 64; ++j) {
        __m512 r[16];
        for (int c = 0; c < 16; ++c) r[c] = _mm512_load_ps(reinterpret_cast<const float*>(codes[c] + 64 * j));
        transpose16(r);
        for (int i = 0; i < 16; ++i) {
          const int64_t kk = off + 64 * j + 4 * i;  // first k of the step vector, relative to k0
          if (kk >= off + len) break;
          uint8_t* dst = panel + int8_block_offset(f, kk / gemm_block) + ((kk % gemm_block) / 4) * 128 + half * 64;
          _mm512_store_ps(reinterpret_cast<float*>(dst), r[i]);
        }
      }
      for (int b = 0; b < len / gemm_block; ++b) {
        float* sc = reinterpret_cast<float*>(panel + int8_block_offset(f, off / gemm_block + b) + gemm_block * gemm_nr);
        for (int u = 0; u < subs_per_block; ++u) {
          _mm512_store_ps(sc + u * gemm_nr + half * 16, _mm512_load_ps(scales[b * subs_per_block + u]));
          if (f.has_min)
            _mm512_store_ps(sc + (subs_per_block + u) * gemm_nr + half * 16, _mm512_load_ps(mins[b * subs_per_block + u]));
        }
      }
      if (f.int_min)  // the chunk is one unit
        write_int_mins(panel + int8_tail_offset(f, off / f.unit), half, _mm512_load_ps(neg_dmin), mins, unit_subs);
    }
  }
}

// 32 bits at base + offs[c] + byte_off for each of 16 columns.
inline __m512i gather32(const uint8_t* base, __m512i offs, int byte_off) {
  return _mm512_i32gather_epi32(offs, base + byte_off, 1);
}
// The fp16 in the low (high = false) or high half of each 32-bit lane, as f32.
inline __m512 halves_to_f32(__m512i v, bool high) {
  return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(high ? _mm512_srli_epi32(v, 16) : v));
}

// Direct packing for the common types: each column's codes go from the weight row straight
// into a register (no staging buffer, whose 32-byte stores and 64-byte reloads would stall on
// store forwarding), 16 columns are transposed, and the scales of 16 columns are decoded at once
// from gathered bytes. A codec gives codes64(row, kk) for elements [kk, kk+64) of a row (row
// already at k0), codes32 for a trailing 32 (legacy types only) and scales16(base, offs, s, m):
// the scales (and mins) of the unit at base + offs[c] of each column, [sub-block][column].
struct Q8_0Codec {
  static constexpr DType type = DType::q8_0;
  static __m256i block(const uint8_t* p) {
    return _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2)), _mm256_set1_epi8(static_cast<char>(0x80)));
  }
  static __m512i codes64(const uint8_t* row, int64_t kk) {
    const uint8_t* p = row + (kk / 32) * sizeof(block_q8_0);
    return _mm512_inserti64x4(_mm512_castsi256_si512(block(p)), block(p + sizeof(block_q8_0)), 1);
  }
  static __m512i codes32(const uint8_t* row, int64_t kk) {
    return _mm512_zextsi256_si512(block(row + (kk / 32) * sizeof(block_q8_0)));
  }
  static void scales16(const uint8_t* base, __m512i offs, float (*scales)[16], float (*)[16]) {
    _mm512_store_ps(scales[0], halves_to_f32(gather32(base, offs, 0), false));
  }
};

struct Q4_0Codec {
  static constexpr DType type = DType::q4_0;
  static __m256i block(const uint8_t* p) { return nibbles(p + 2); }
  static __m512i codes64(const uint8_t* row, int64_t kk) {
    const uint8_t* p = row + (kk / 32) * sizeof(block_q4_0);
    return _mm512_inserti64x4(_mm512_castsi256_si512(block(p)), block(p + sizeof(block_q4_0)), 1);
  }
  static __m512i codes32(const uint8_t* row, int64_t kk) {
    return _mm512_zextsi256_si512(block(row + (kk / 32) * sizeof(block_q4_0)));
  }
  static void scales16(const uint8_t* base, __m512i offs, float (*scales)[16], float (*)[16]) {
    _mm512_store_ps(scales[0], halves_to_f32(gather32(base, offs, 0), false));
  }
};

struct Q5_0Codec {
  static constexpr DType type = DType::q5_0;
  static __m256i block(const uint8_t* p) {
    return _mm256_or_si256(nibbles(p + 6), _mm256_maskz_mov_epi8(load_u32(p + 2), _mm256_set1_epi8(0x10)));
  }
  static __m512i codes64(const uint8_t* row, int64_t kk) {
    const uint8_t* p = row + (kk / 32) * sizeof(block_q5_0);
    return _mm512_inserti64x4(_mm512_castsi256_si512(block(p)), block(p + sizeof(block_q5_0)), 1);
  }
  static __m512i codes32(const uint8_t* row, int64_t kk) {
    return _mm512_zextsi256_si512(block(row + (kk / 32) * sizeof(block_q5_0)));
  }
  static void scales16(const uint8_t* base, __m512i offs, float (*scales)[16], float (*)[16]) {
    _mm512_store_ps(scales[0], halves_to_f32(gather32(base, offs, 0), false));
  }
};

struct Q4_KCodec {
  static constexpr DType type = DType::q4_k;
  static __m512i codes64(const uint8_t* row, int64_t kk) {  // sub-blocks 2j (low nibbles), 2j+1 (high)
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(
        row + (kk / qk_k) * sizeof(block_q4_K) + offsetof(block_q4_K, qs) + 32 * ((kk % qk_k) / 64)));
    const __m256i low = _mm256_set1_epi8(0x0f);
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(q, low)),
                              _mm256_and_si256(_mm256_srli_epi16(q, 4), low), 1);
  }
  static __m512i codes32(const uint8_t*, int64_t) { return _mm512_setzero_si512(); }  // never: k % 256 == 0
  static void scales16(const uint8_t* base, __m512i offs, float (*scales)[16], float (*mins)[16]) {
    const __m512i dd = gather32(base, offs, offsetof(block_q4_K, d));  // d | dmin << 16
    const __m512 d = halves_to_f32(dd, false), neg_dmin = _mm512_sub_ps(_mm512_setzero_ps(), halves_to_f32(dd, true));
    const int sc = offsetof(block_q4_K, scales);
    const __m512i q0 = gather32(base, offs, sc), q4 = gather32(base, offs, sc + 4), q8 = gather32(base, offs, sc + 8);
    const __m512i six = _mm512_set1_epi32(63), low4 = _mm512_set1_epi32(15), two = _mm512_set1_epi32(3);
    for (int j = 0; j < 8; ++j) {  // scale_min_k4, 16 columns at a time
      const int sh = 8 * (j % 4);
      __m512i s, m;
      if (j < 4) {
        s = _mm512_and_si512(_mm512_srli_epi32(q0, sh), six);
        m = _mm512_and_si512(_mm512_srli_epi32(q4, sh), six);
      } else {
        const __m512i hi_s = _mm512_and_si512(_mm512_srli_epi32(q0, sh + 6), two);
        const __m512i hi_m = _mm512_and_si512(_mm512_srli_epi32(q4, sh + 6), two);
        const __m512i b = _mm512_srli_epi32(q8, sh);
        s = _mm512_or_si512(_mm512_and_si512(b, low4), _mm512_slli_epi32(hi_s, 4));
        m = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(b, 4), low4), _mm512_slli_epi32(hi_m, 4));
      }
      _mm512_store_ps(scales[j], _mm512_mul_ps(d, _mm512_cvtepi32_ps(s)));
      _mm512_store_ps(mins[j], _mm512_cvtepi32_ps(m));  // integer mins: m, and -dmin after them
    }
    _mm512_store_ps(mins[8], neg_dmin);
  }
};

struct Q6_KCodec {
  static constexpr DType type = DType::q6_k;
  static __m512i codes64(const uint8_t* row, int64_t kk) {  // elements half*128 + r*32 + l, r = 2(j%2) + {0,1}
    const uint8_t* p = row + (kk / qk_k) * sizeof(block_q6_K);
    const int j = static_cast<int>((kk % qk_k) / 64), half = j / 2, shift = 4 * (j % 2);
    const __m256i low = _mm256_set1_epi8(0x0f), two = _mm256_set1_epi8(3);
    const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + half * 64));
    const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + half * 64 + 32));
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + offsetof(block_q6_K, qh) + half * 32));
    const int r0 = 2 * (j % 2);
    const __m256i c0 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, shift), low),
                                       _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2 * r0), two), 4));
    const __m256i c1 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, shift), low),
                                       _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2 * r0 + 2), two), 4));
    return _mm512_inserti64x4(_mm512_castsi256_si512(c0), c1, 1);
  }
  static __m512i codes32(const uint8_t*, int64_t) { return _mm512_setzero_si512(); }
  static void scales16(const uint8_t* base, __m512i offs, float (*scales)[16], float (*)[16]) {
    // d from the 4 bytes ending at the block's end (a 4-byte read at d would pass it).
    const __m512 d = halves_to_f32(gather32(base, offs, offsetof(block_q6_K, d) - 2), true);
    for (int q = 0; q < 4; ++q) {
      const __m512i sc4 = gather32(base, offs, offsetof(block_q6_K, scales) + 4 * q);  // int8 scales 4q..4q+3
      for (int j = 0; j < 4; ++j) {
        const __m512i sc = _mm512_srai_epi32(_mm512_slli_epi32(sc4, 24 - 8 * j), 24);
        _mm512_store_ps(scales[4 * q + j], _mm512_mul_ps(d, _mm512_cvtepi32_ps(sc)));
      }
    }
  }
};

template <class Codec>
void pack_direct(const WeightMatrix& w, const Int8Format& f, int64_t col0, int64_t k0, int64_t kc, uint8_t* panel) {
  const size_t block_bytes = int8_block_bytes(f);
  const int subs_per_block = gemm_block / f.sub;
  const size_t unit_bytes = dtype_traits(Codec::type)->block_bytes;
  const int64_t cols = std::min<int64_t>(gemm_nr, w.n_rows - col0);
  const int64_t units = kc / f.unit;
  alignas(64) float scales[qk_k / 16][16], mins[qk_k / 16 + 1][16];  // one unit: [sub-block][column]
  const int unit_subs = f.unit / f.sub;
  for (int half = 0; half < 2; ++half) {
    // Columns past n read column 0's codes and get zero scales and mins: they contribute 0.
    const uint8_t* rows[16];
    alignas(64) int32_t offsets[16];
    for (int c = 0; c < 16; ++c) {
      const int64_t col = half * 16 + c < cols ? half * 16 + c : 0;
      rows[c] = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(col0 + col) * w.row_stride +
                static_cast<size_t>(k0 / f.unit) * unit_bytes;
    }
    for (int c = 0; c < 16; ++c) offsets[c] = static_cast<int32_t>(rows[c] - rows[0]);  // < 16 rows: fits
    const __m512i offs = _mm512_load_si512(offsets);
    const __mmask16 valid = column_mask(static_cast<int>(cols), half);
    for (int64_t kk = 0; kk < kc; kk += 64) {
      __m512 r[16];
      const bool full = kc - kk >= 64;
      for (int c = 0; c < 16; ++c)
        r[c] = _mm512_castsi512_ps(full ? Codec::codes64(rows[c], kk) : Codec::codes32(rows[c], kk));
      transpose16(r);
      uint8_t* dst = panel + int8_block_offset(f, kk / gemm_block) + half * 64;
      for (int i = 0; i < 8; ++i) _mm512_store_ps(reinterpret_cast<float*>(dst + i * 128), r[i]);
      if (full)  // the block after: 32 further, in the same unit (64 divides every unit)
        for (int i = 0; i < 8; ++i) _mm512_store_ps(reinterpret_cast<float*>(dst + block_bytes + i * 128), r[8 + i]);
    }
    for (int64_t u = 0; u < units; ++u) {
      Codec::scales16(rows[0] + u * unit_bytes, offs, scales, mins);
      for (int b = 0; b < f.unit / gemm_block; ++b) {
        float* sc = reinterpret_cast<float*>(panel + int8_block_offset(f, u * (f.unit / gemm_block) + b) +
                                             gemm_block * gemm_nr);
        for (int s = 0; s < subs_per_block; ++s) {
          _mm512_store_ps(sc + s * gemm_nr + half * 16, _mm512_maskz_mov_ps(valid, _mm512_load_ps(scales[b * subs_per_block + s])));
          if (f.has_min)
            _mm512_store_ps(sc + (subs_per_block + s) * gemm_nr + half * 16,
                            _mm512_maskz_mov_ps(valid, _mm512_load_ps(mins[b * subs_per_block + s])));
        }
      }
      if (f.int_min)  // columns past n: -dmin 0, so their (garbage) m contribute nothing
        write_int_mins(panel + int8_tail_offset(f, u), half, _mm512_maskz_mov_ps(valid, _mm512_load_ps(mins[unit_subs])),
                       mins, unit_subs);
    }
  }
}

#else

// One column at a time, 4 codes per store.
template <DecodeFn decode>
void pack_panel(const WeightMatrix& w, const Int8Format& f, int64_t col0, int64_t k0, int64_t kc, uint8_t* panel) {
  const int subs_per_block = gemm_block / f.sub, unit_subs = f.unit / f.sub;
  const size_t unit_bytes = dtype_traits(w.type)->block_bytes;
  const int64_t cols = std::min<int64_t>(gemm_nr, w.n_rows - col0);
  if (cols < gemm_nr) std::memset(panel, 0, int8_panel_bytes(f, kc));

  alignas(64) uint8_t codes[qk_k];
  float scales[qk_k / 16], mins[qk_k / 16 + 1];
  for (int64_t c = 0; c < cols; ++c) {
    const uint8_t* row = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(col0 + c) * w.row_stride;
    const size_t lane = static_cast<size_t>((c / 16) * 64 + (c % 16) * 4);
    for (int64_t u0 = k0; u0 < k0 + kc; u0 += f.unit) {
      decode(row + static_cast<size_t>(u0 / f.unit) * unit_bytes, codes, scales, mins);
      for (int b = 0; b < f.unit / gemm_block; ++b) {
        uint8_t* blk = panel + int8_block_offset(f, (u0 - k0) / gemm_block + b);
        for (int s = 0; s < gemm_block / 4; ++s) std::memcpy(blk + s * 128 + lane, codes + b * 32 + s * 4, 4);
        float* sc = reinterpret_cast<float*>(blk + gemm_block * gemm_nr);
        for (int u = 0; u < subs_per_block; ++u) {
          sc[u * gemm_nr + c] = scales[b * subs_per_block + u];
          if (f.has_min) sc[(subs_per_block + u) * gemm_nr + c] = mins[b * subs_per_block + u];
        }
      }
      if (f.int_min) {  // the unit's tail: -dmin, then m of sub-block pairs as int16
        uint8_t* tail = panel + int8_tail_offset(f, (u0 - k0) / f.unit);
        std::memcpy(tail + c * 4, &mins[unit_subs], 4);
        for (int j = 0; j < unit_subs / 2; ++j) {
          const int16_t pair[2] = {static_cast<int16_t>(mins[2 * j]), static_cast<int16_t>(mins[2 * j + 1])};
          std::memcpy(tail + gemm_nr * 4 + (j * gemm_nr + c) * 4, pair, 4);
        }
      }
    }
  }
}

#endif

}  // namespace

// w: [n, k] of w.type · panel: [kc/32] packed blocks of gemm_nr columns (see gemm_int8.hpp)
void gemm_pack_panel(const WeightMatrix& w, const Int8Format& f, int64_t col0, int64_t k0,
                     int64_t kc, uint8_t* panel) {
  switch (w.type) {
#if defined(OLLM_ISA_AVX512)
    case DType::q8_0: return pack_direct<Q8_0Codec>(w, f, col0, k0, kc, panel);
    case DType::q4_0: return pack_direct<Q4_0Codec>(w, f, col0, k0, kc, panel);
    case DType::q5_0: return pack_direct<Q5_0Codec>(w, f, col0, k0, kc, panel);
    case DType::q4_k: return pack_direct<Q4_KCodec>(w, f, col0, k0, kc, panel);
    case DType::q6_k: return pack_direct<Q6_KCodec>(w, f, col0, k0, kc, panel);
#else
    case DType::q8_0: return pack_panel<decode_q8_0>(w, f, col0, k0, kc, panel);
    case DType::q4_0: return pack_panel<decode_q4_0>(w, f, col0, k0, kc, panel);
    case DType::q5_0: return pack_panel<decode_q5_0>(w, f, col0, k0, kc, panel);
    case DType::q4_k: return pack_panel<decode_q4_k>(w, f, col0, k0, kc, panel);
    case DType::q6_k: return pack_panel<decode_q6_k>(w, f, col0, k0, kc, panel);
#endif
    case DType::q4_1: return pack_panel<decode_q4_1>(w, f, col0, k0, kc, panel);
    case DType::q5_1: return pack_panel<decode_q5_1>(w, f, col0, k0, kc, panel);
    case DType::iq4_nl: return pack_panel<decode_iq4_nl>(w, f, col0, k0, kc, panel);
    case DType::q2_k: return pack_panel<decode_q2_k>(w, f, col0, k0, kc, panel);
    case DType::q3_k: return pack_panel<decode_q3_k>(w, f, col0, k0, kc, panel);
    case DType::q5_k: return pack_panel<decode_q5_k>(w, f, col0, k0, kc, panel);
    case DType::iq4_xs: return pack_panel<decode_iq4_xs>(w, f, col0, k0, kc, panel);
    default: return;  // callers only pass types with an int8_format
  }
}

}  // namespace ollm::cpu::OLLM_ISA_NAMESPACE
