// Compiled once per ISA: decode matmul row kernels for Q2_K, Q3_K and IQ4_XS against XqKBlock
// activations (the super-block loop is in vec_dot_kquants_impl.hpp; here only the decoders).
#include <cstring>

#include "cpu/vec_dot_kquants_impl.hpp"

namespace ollm::cpu::OLLM_ISA_NAMESPACE {
namespace {

// The sixteen 6-bit scales of Q3_K, unbiased (-32 .. 31): low 4 bits in bytes 0..7, high 2 bits
// in bytes 8..11 (ggml's kmask unpacking).
inline void q3k_scales(const uint8_t* packed, int8_t* out) {
  uint32_t a[3];
  std::memcpy(a, packed, 12);
  const uint32_t t = a[2];
  const uint32_t r[4] = {(a[0] & 0x0f0f0f0fu) | (((t >> 0) & 0x03030303u) << 4),
                         (a[1] & 0x0f0f0f0fu) | (((t >> 2) & 0x03030303u) << 4),
                         ((a[0] >> 4) & 0x0f0f0f0fu) | (((t >> 4) & 0x03030303u) << 4),
                         ((a[1] >> 4) & 0x0f0f0f0fu) | (((t >> 6) & 0x03030303u) << 4)};
  uint8_t u[16];
  std::memcpy(u, r, 16);
  for (int j = 0; j < 16; ++j) out[j] = static_cast<int8_t>(u[j] - 32);
}

// The eight 6-bit scales of IQ4_XS, unbiased.
inline void iq4xs_scales(const uint8_t* p, int8_t* out) {
  const uint16_t h = load_u16(p + 2);
  for (int j = 0; j < 8; ++j)
    out[j] = static_cast<int8_t>((((p[4 + j / 2] >> (4 * (j % 2))) & 0x0f) | (((h >> (2 * j)) & 3) << 4)) - 32);
}

#if defined(OLLM_ISA_AVX512) || defined(OLLM_ISA_AVX2)

// The same two unpackings in registers (bytes stored one by one and reloaded as a vector would
// stall on store forwarding every super-block). q3k: 16 i8, low nibbles from bytes 0..7 (lanes
// a0, a1, then a0 >> 4, a1 >> 4), top 2 bits from byte 8..11 (a2 >> 0, 2, 4, 6).
inline __m128i q3k_scales_vec(const uint8_t* packed) {
  const __m128i a = _mm_insert_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed)),
                                     static_cast<int>(load_u32(packed + 8)), 2);
  const __m128i low = _mm_and_si128(_mm_srlv_epi32(_mm_shuffle_epi32(a, _MM_SHUFFLE(1, 0, 1, 0)), _mm_setr_epi32(0, 0, 4, 4)),
                                    _mm_set1_epi8(0x0f));
  const __m128i top = _mm_and_si128(_mm_srlv_epi32(_mm_shuffle_epi32(a, _MM_SHUFFLE(2, 2, 2, 2)), _mm_setr_epi32(0, 2, 4, 6)),
                                    _mm_set1_epi8(3));
  return _mm_sub_epi8(_mm_or_si128(low, _mm_slli_epi32(top, 4)), _mm_set1_epi8(32));
}
// iq4xs: eight i16; pdep spreads the nibbles of scales_l and the bit pairs of scales_h to bytes.
inline __m128i iq4xs_scales_vec(const uint8_t* p) {
  const uint64_t low = _pdep_u64(load_u32(p + 4), 0x0f0f0f0f0f0f0f0full);
  const uint64_t top = _pdep_u64(load_u16(p + 2), 0x0303030303030303ull) << 4;
  return _mm_cvtepi8_epi16(_mm_sub_epi8(_mm_cvtsi64_si128(static_cast<long long>(low | top)), _mm_set1_epi8(32)));
}

// 2-bit codes of Q2_K / Q3_K: element 128h + 32s + l is bits 2s of qs[32h + l].
inline KI two_bit_chunk(const uint8_t* qs, int c) {
#if defined(OLLM_ISA_AVX512)
  const __m256i q = kq_loadu256(qs + 32 * (c / 2));
  const KI t = kq_join(q, _mm256_srli_epi16(q, 2));  // s = 0 | s = 1 in bits 0..1, s = 2 | 3 in 4..5
  return kq_and(c % 2 ? _mm512_srli_epi16(t, 4) : t, kq_set1_8(3));
#else
  const __m256i q = kq_loadu256(qs + 32 * (c / 4));
  const int s = c % 4;
  const __m256i shifted = s == 0 ? q : s == 1 ? _mm256_srli_epi16(q, 2) : s == 2 ? _mm256_srli_epi16(q, 4) : _mm256_srli_epi16(q, 6);
  return kq_and(shifted, kq_set1_8(3));
#endif
}

// Q2_K: value = (d * sc) * q - (dmin * m), sc and m 4 bits each per 16 elements.
struct DecQ2_K {
  static constexpr size_t bytes = sizeof(block_q2_K);
  static constexpr bool separate_min = true, has_offset = false, signed_values = false;
  const uint8_t* qs;
  __m256i s16, m16;
  __m128 dd;
  void load(const uint8_t* p) {
    const __m128i sc = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    s16 = _mm256_cvtepu8_epi16(_mm_and_si128(sc, _mm_set1_epi8(0x0f)));
    m16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc, 4), _mm_set1_epi8(0x0f)));
    qs = p + 16;
    dd = kq_halves(p + 80, true);
  }
  KI scales(int c) const { return kq_expand(s16, c); }
  KI chunk(int c) const { return two_bit_chunk(qs, c); }
};

// Q3_K: value = d * (sc - 32) * (q2 - 4 * !hbit): code q2 + 4 * hbit carries an offset of 4.
struct DecQ3_K {
  static constexpr size_t bytes = sizeof(block_q3_K);
  static constexpr bool separate_min = false, has_offset = true, signed_values = false;
  const uint8_t* qs;
  __m256i hmask, s16, m16;
  __m128 dd;
  void load(const uint8_t* p) {
    s16 = _mm256_cvtepi8_epi16(q3k_scales_vec(p + 96));
    m16 = _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_slli_epi16(s16, 2));  // -4 * scale
    hmask = kq_loadu256(p);
    qs = p + 32;
    dd = kq_halves(p + 108, false);
  }
  KI scales(int c) const { return kq_expand(s16, c); }
  KI chunk(int c) const {
    // hmask bit j of byte l belongs to element 32j + l.
#if defined(OLLM_ISA_AVX512)
    return kq_add_where(two_bit_chunk(qs, c), hmask, 1 << (2 * c), 1 << (2 * c + 1), 4);
#else
    return kq_add_where(two_bit_chunk(qs, c), hmask, 1 << c, 4);
#endif
  }
};

// IQ4_XS: value = d * (ls - 32) * iq4nl_values[q] per 32 elements; sub-block j's 16 bytes hold
// elements 32j .. 32j+15 in the low nibbles and 32j+16 .. 32j+31 in the high ones.
struct DecIQ4_XS {
  static constexpr size_t bytes = sizeof(block_iq4_xs);
  static constexpr bool separate_min = false, has_offset = false, signed_values = true;
  const uint8_t* qs;
  __m128i s8;
  __m256i m16;
  __m128 dd;
  void load(const uint8_t* p) {
    s8 = iq4xs_scales_vec(p);
    m16 = _mm256_setzero_si256();
    qs = p + 8;
    dd = kq_halves(p, false);
  }
  KI scales(int c) const { return kq_expand32(s8, c); }
  KI chunk(int c) const {
    const __m128i table = _mm_loadu_si128(reinterpret_cast<const __m128i*>(iq4nl_values));
#if defined(OLLM_ISA_AVX512)
    const __m256i q = kq_loadu256(qs + 32 * c);  // sub-blocks 2c, 2c+1
    const __m256i lo = _mm256_and_si256(q, _mm256_set1_epi8(0x0f));
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), _mm256_set1_epi8(0x0f));
    // [lo 2c, lo 2c+1, hi 2c, hi 2c+1] -> [lo 2c, hi 2c, lo 2c+1, hi 2c+1]: natural order.
    const KI z = kq_join(lo, hi);
    const KI idx = _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0));
    return _mm512_shuffle_epi8(_mm512_broadcast_i32x4(table), idx);
#else
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs + 16 * c));
    const __m256i idx = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0f));
    return _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(table), idx);
#endif
  }
};

#else  // scalar

struct DecQ2_K {
  static constexpr size_t bytes = sizeof(block_q2_K);
  static constexpr bool separate_min = true;
  static void decode(const uint8_t* p, int* q, int* s16, int* m16, float& d, float& dmin) {
    for (int g = 0; g < 16; ++g) s16[g] = p[g] & 0x0f, m16[g] = p[g] >> 4;
    const uint8_t* qs = p + 16;
    for (int e = 0; e < qk_k; ++e) q[e] = (qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
    d = fp16_to_f32(load_u16(p + 80)), dmin = fp16_to_f32(load_u16(p + 82));
  }
};

struct DecQ3_K {
  static constexpr size_t bytes = sizeof(block_q3_K);
  static constexpr bool separate_min = false;
  static void decode(const uint8_t* p, int* q, int* s16, int* m16, float& d, float& dmin) {
    int8_t sc[16];
    q3k_scales(p + 96, sc);
    for (int g = 0; g < 16; ++g) s16[g] = sc[g], m16[g] = -4 * sc[g];
    const uint8_t* hmask = p;
    const uint8_t* qs = p + 32;
    for (int e = 0; e < qk_k; ++e)
      q[e] = ((qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3) + 4 * ((hmask[e % 32] >> (e / 32)) & 1);
    d = fp16_to_f32(load_u16(p + 108)), dmin = 0;
  }
};

struct DecIQ4_XS {
  static constexpr size_t bytes = sizeof(block_iq4_xs);
  static constexpr bool separate_min = false;
  static void decode(const uint8_t* p, int* q, int* s16, int* m16, float& d, float& dmin) {
    int8_t sc[8];
    iq4xs_scales(p, sc);
    for (int g = 0; g < 16; ++g) s16[g] = sc[g / 2], m16[g] = 0;
    const uint8_t* qs = p + 8;
    for (int j = 0; j < 8; ++j)
      for (int l = 0; l < 16; ++l) {
        q[32 * j + l] = iq4nl_values[qs[16 * j + l] & 0x0f];
        q[32 * j + 16 + l] = iq4nl_values[qs[16 * j + l] >> 4];
      }
    d = fp16_to_f32(load_u16(p)), dmin = 0;
  }
};

#endif

}  // namespace

GemvKernel gemv_kquant_low_kernel(DType type) noexcept;

GemvKernel gemv_kquant_low_kernel(DType type) noexcept {
  switch (type) {
    case DType::q2_k: return &gemv_kquant<DecQ2_K>;
    case DType::q3_k: return &gemv_kquant<DecQ3_K>;
    case DType::iq4_xs: return &gemv_kquant<DecIQ4_XS>;
    default: return nullptr;
  }
}

}  // namespace ollm::cpu::OLLM_ISA_NAMESPACE
