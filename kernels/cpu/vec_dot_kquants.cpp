// Compiled once per ISA: decode matmul row kernels for Q4_K, Q5_K and Q6_K against XqKBlock
// activations (the super-block loop is in vec_dot_kquants_impl.hpp; here only the decoders).
#include <cstring>

#include "cpu/vec_dot_kquants_impl.hpp"

namespace ollm::cpu::OLLM_ISA_NAMESPACE {
namespace {

// The eight 6-bit scales and mins of Q4_K / Q5_K (ggml's get_scale_min_k4, four at a time).
struct ScalesK4 {
  uint8_t sc[8], m[8];
  explicit ScalesK4(const uint8_t* packed) {
    uint32_t u[3];
    std::memcpy(u, packed, 12);
    const uint32_t s_lo = u[0] & 0x3f3f3f3fu;
    const uint32_t s_hi = (u[2] & 0x0f0f0f0fu) | (((u[0] >> 6) & 0x03030303u) << 4);
    const uint32_t m_lo = u[1] & 0x3f3f3f3fu;
    const uint32_t m_hi = ((u[2] >> 4) & 0x0f0f0f0fu) | (((u[1] >> 6) & 0x03030303u) << 4);
    std::memcpy(sc, &s_lo, 4), std::memcpy(sc + 4, &s_hi, 4);
    std::memcpy(m, &m_lo, 4), std::memcpy(m + 4, &m_hi, 4);
  }
};

#if defined(OLLM_ISA_AVX512) || defined(OLLM_ISA_AVX2)

inline __m256i loadu256(const uint8_t* p) { return kq_loadu256(p); }

#if defined(OLLM_ISA_AVX512)
// AVX-512 reads Q4_K / Q5_K activations in nibble order (ActFormat::kquant_nibble_order): each
// 128 elements as sub-blocks [0, 2, 1, 3], so one 64-byte load of qs gives two chunks, its low
// nibbles (sub-blocks 4h and 4h+2) and its high nibbles (4h+1, 4h+3), with no lane shuffles.
// Chunk c: sub-blocks first_sub(c) (lanes 0..31) and first_sub(c) + 2 (lanes 32..63).
constexpr int first_sub(int c) { return 4 * (c / 2) + c % 2; }
// The mins of the sixteen 16-element groups in that order: sub-blocks 0 0 2 2 1 1 3 3 4 4 6 6 ...
inline __m256i mins_nibble_order(__m128i m8) {
  const __m256i idx = _mm256_setr_epi16(0, 0, 2, 2, 1, 1, 3, 3, 4, 4, 6, 6, 5, 5, 7, 7);
  return _mm256_permutexvar_epi16(idx, _mm256_castsi128_si256(m8));
}
#endif

// Q4_K: value = d * sc * q - dmin * m per 32 elements; q is the nibble of qs (low: even
// sub-block, high: odd sub-block of each 32-byte run).
struct DecQ4_K {
  static constexpr size_t bytes = sizeof(block_q4_K);
  static constexpr bool separate_min = true, has_offset = false, signed_values = false;
  const uint8_t* qs;
  __m128i s8;
  __m256i m16;
  __m128 dd;
  void load(const uint8_t* p) {
    load_scales_mins(p);
    qs = p + 16;
  }
  // d, dmin and the 6-bit scales and mins, which sit at the same offsets in Q4_K and Q5_K.
  void load_scales_mins(const uint8_t* p) {
    dd = kq_halves(p, true);
    const __m128i sm = kq_scales_k4(p + 4);
    s8 = _mm_cvtepu8_epi16(sm);
#if defined(OLLM_ISA_AVX512)
    m16 = mins_nibble_order(_mm_cvtepu8_epi16(_mm_srli_si128(sm, 8)));
#else
    m16 = kq_repeat_pairs(_mm_cvtepu8_epi16(_mm_srli_si128(sm, 8)));
#endif
  }
#if defined(OLLM_ISA_AVX512)
  KI chunk(int c) const {
    const KI q = kq_weight_load64(qs + 64 * (c / 2));
    return kq_and(c % 2 ? _mm512_srli_epi16(q, 4) : q, kq_set1_8(0x0f));
  }
  KI scales(int c) const { return kq_expand32_pair(s8, first_sub(c)); }
#else
  KI chunk(int c) const {
    const __m256i q = loadu256(qs + 32 * (c / 2));
    return kq_and(c % 2 ? _mm256_srli_epi16(q, 4) : q, kq_set1_8(0x0f));
  }
  KI scales(int c) const { return kq_expand32(s8, c); }
#endif
};

// Q5_K: Q4_K plus a fifth bit: bit j of qh[l] belongs to element 32j + l.
struct DecQ5_K : DecQ4_K {
  static constexpr size_t bytes = sizeof(block_q5_K);
  __m256i qh;
  void load(const uint8_t* p) {
    load_scales_mins(p);
    qh = loadu256(p + 16);
    qs = p + 48;
  }
#if defined(OLLM_ISA_AVX512)
  KI chunk(int c) const {
    return kq_add_where(DecQ4_K::chunk(c), qh, 1 << first_sub(c), 1 << (first_sub(c) + 2), 0x10);
  }
#else
  KI chunk(int c) const { return kq_add_where(DecQ4_K::chunk(c), qh, 1 << c, 0x10); }
#endif
};

// Q6_K: value = d * scale * (q - 32) per 16 elements; q = 4 bits of ql | 2 bits of qh << 4.
// Element 128h + 32r + l: ql[64h + 32(r%2) + l] (high nibble for r >= 2), qh[32h + l] >> 2r.
struct DecQ6_K {
  static constexpr size_t bytes = sizeof(block_q6_K);
  static constexpr bool separate_min = false, has_offset = true, signed_values = false;
  const uint8_t* ql;
  const uint8_t* qh;
  __m256i s16, m16;
  __m128 dd;
  void load(const uint8_t* p) {
    ql = p;
    qh = p + 128;
    s16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 192)));
    m16 = _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_slli_epi16(s16, 5));  // -32 * scale
    dd = kq_halves(p + 208, false);
  }
  KI scales(int c) const { return kq_expand(s16, c); }
  KI chunk(int c) const {
#if defined(OLLM_ISA_AVX512)
    // Chunk 2h: elements 128h + 0..63 (r = 0, 1); chunk 2h+1: 128h + 64..127 (r = 2, 3).
    const int h = c / 2;
    const KI lo = kq_weight_load64(ql + 64 * h);
    const __m256i hb = loadu256(qh + 32 * h);
    const KI t = kq_join(hb, _mm256_srli_epi16(hb, 2));  // r = 0 | r = 1 bits in 0..1 (r = 2 | 3 in 4..5)
    if (c % 2 == 0)
      return kq_or(kq_and(lo, kq_set1_8(0x0f)), kq_and(_mm512_slli_epi16(t, 4), kq_set1_8(0x30)));
    return kq_or(kq_and(_mm512_srli_epi16(lo, 4), kq_set1_8(0x0f)), kq_and(t, kq_set1_8(0x30)));
#else
    const int h = c / 4, r = c % 4;
    const __m256i q = loadu256(ql + 64 * h + 32 * (r % 2));
    const __m256i low = _mm256_and_si256(r >= 2 ? _mm256_srli_epi16(q, 4) : q, kq_set1_8(0x0f));
    const __m256i b = loadu256(qh + 32 * h);
    const __m256i hb = r == 0 ? _mm256_slli_epi16(b, 4) : r == 1 ? _mm256_slli_epi16(b, 2) : r == 2 ? b : _mm256_srli_epi16(b, 2);
    return _mm256_or_si256(low, _mm256_and_si256(hb, kq_set1_8(0x30)));
#endif
  }
};

#else  // scalar

struct DecQ4_K {
  static constexpr size_t bytes = sizeof(block_q4_K);
  static constexpr bool separate_min = true;
  static void decode(const uint8_t* p, int* q, int* s16, int* m16, float& d, float& dmin) {
    d = fp16_to_f32(load_u16(p)), dmin = fp16_to_f32(load_u16(p + 2));
    const ScalesK4 s(p + 4);
    for (int g = 0; g < 16; ++g) s16[g] = s.sc[g / 2], m16[g] = s.m[g / 2];
    const uint8_t* qs = p + 16;
    for (int j = 0; j < 8; ++j)
      for (int l = 0; l < 32; ++l) q[32 * j + l] = (qs[32 * (j / 2) + l] >> (4 * (j % 2))) & 0x0f;
  }
};

struct DecQ5_K {
  static constexpr size_t bytes = sizeof(block_q5_K);
  static constexpr bool separate_min = true;
  static void decode(const uint8_t* p, int* q, int* s16, int* m16, float& d, float& dmin) {
    DecQ4_K::decode(p, q, s16, m16, d, dmin);  // scales and mins sit where Q4_K's do
    const uint8_t* qh = p + 16;
    const uint8_t* qs = p + 48;
    for (int j = 0; j < 8; ++j)
      for (int l = 0; l < 32; ++l)
        q[32 * j + l] = ((qs[32 * (j / 2) + l] >> (4 * (j % 2))) & 0x0f) | (((qh[l] >> j) & 1) << 4);
  }
};

struct DecQ6_K {
  static constexpr size_t bytes = sizeof(block_q6_K);
  static constexpr bool separate_min = false;
  static void decode(const uint8_t* p, int* q, int* s16, int* m16, float& d, float& dmin) {
    const uint8_t* ql = p;
    const uint8_t* qh = p + 128;
    const auto* scales = reinterpret_cast<const int8_t*>(p + 192);
    d = fp16_to_f32(load_u16(p + 208)), dmin = 0;
    for (int g = 0; g < 16; ++g) s16[g] = scales[g], m16[g] = -32 * scales[g];
    for (int e = 0; e < qk_k; ++e) {
      const int h = e / 128, r = (e % 128) / 32, l = e % 32;
      q[e] = ((ql[64 * h + 32 * (r % 2) + l] >> (4 * (r / 2))) & 0x0f) | (((qh[32 * h + l] >> (2 * r)) & 3) << 4);
    }
  }
};

#endif

}  // namespace

GemvKernel gemv_kquant_kernel(DType type) noexcept;
GemvKernel gemv_kquant_low_kernel(DType type) noexcept;

GemvKernel gemv_kquant_kernel(DType type) noexcept {
  switch (type) {
    case DType::q4_k: return &gemv_kquant<DecQ4_K>;
    case DType::q5_k: return &gemv_kquant<DecQ5_K>;
    case DType::q6_k: return &gemv_kquant<DecQ6_K>;
    default: return gemv_kquant_low_kernel(type);
  }
}

}  // namespace ollm::cpu::OLLM_ISA_NAMESPACE
