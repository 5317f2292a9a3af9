// Compiled once per ISA: quantizes f32 activation rows to the 8-bit formats of gemv_kernels.hpp.
// Every variant rounds identically (x * (127 / amax), round to nearest even), so the ISAs agree.
#include <cmath>
#include <cstring>
#include <limits>

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

constexpr uint32_t abs_mask = 0x7fffffffu;
constexpr uint32_t inf_bits = 0x7f800000u;

// The scale of a block from the largest |x| as raw bits (integer order equals float order for
// non-negative floats, and a NaN sorts above infinity, so one integer max also finds non-finite).
// The stored scale follows ggml bit for bit: amax / 127 for the legacy (Q8_0-like) blocks, and
// 1 / (127 / amax) for the K-quant (Q8_K-like) super-blocks; the two differ in the last bit now
// and then, which is enough to move a product across a rounding boundary downstream.
enum class ScaleKind { legacy, kquant };
struct BlockScale {
  float d;       // the stored scale, NaN for a non-finite block
  float id;      // the multiplier: 127 / amax, 0 for an all-zero or non-finite block
  bool finite;
};
inline BlockScale block_scale(uint32_t amax_bits, ScaleKind kind) {
  if (amax_bits >= inf_bits) return {std::numeric_limits<float>::quiet_NaN(), 0.0f, false};
  const float amax = f32_from_bits(amax_bits);
  const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
  const float d = kind == ScaleKind::legacy ? amax / 127.0f : (amax > 0.0f ? 1.0f / id : 0.0f);
  return {d, id, true};
}

#if defined(OLLM_ISA_AVX512)

inline uint32_t amax_bits(const float* x, int n) {  // n a multiple of 16
  __m512i m = _mm512_setzero_si512();
  const __m512i mask = _mm512_set1_epi32(static_cast<int>(abs_mask));
  for (int i = 0; i < n; i += 16) m = _mm512_max_epu32(m, _mm512_and_si512(_mm512_loadu_si512(x + i), mask));
  return _mm512_reduce_max_epu32(m);
}
// q of 16 values, as int32
inline __m512i quantize16(const float* x, float id) {
  return _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x), _mm512_set1_ps(id)));
}

#elif defined(OLLM_ISA_AVX2)

inline uint32_t amax_bits(const float* x, int n) {  // n a multiple of 8
  __m256i m = _mm256_setzero_si256();
  const __m256i mask = _mm256_set1_epi32(static_cast<int>(abs_mask));
  for (int i = 0; i < n; i += 8)
    m = _mm256_max_epu32(m, _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)), mask));
  __m128i h = _mm_max_epu32(_mm256_castsi256_si128(m), _mm256_extracti128_si256(m, 1));
  h = _mm_max_epu32(h, _mm_shuffle_epi32(h, 0x4e));
  h = _mm_max_epu32(h, _mm_shuffle_epi32(h, 0xb1));
  return static_cast<uint32_t>(_mm_cvtsi128_si32(h));
}
// q of 16 values packed to int8 (values are within [-127, 127], so the saturating packs are exact)
inline __m128i quantize16(const float* x, float id, int32_t& sum) {
  const __m256 vid = _mm256_set1_ps(id);
  const __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), vid));
  const __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8), vid));
  __m256i s = _mm256_add_epi32(a, b);
  __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
  s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
  sum += _mm_cvtsi128_si32(s4);
  const __m256i w = _mm256_packs_epi32(a, b);  // lanes: a0-3 b0-3 | a4-7 b4-7
  const __m128i w16a = _mm256_castsi256_si128(w), w16b = _mm256_extracti128_si256(w, 1);
  const __m128i bytes = _mm_packs_epi16(w16a, w16b);  // a0-3 b0-3 a4-7 b4-7
  return _mm_shuffle_epi8(bytes, _mm_setr_epi8(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15));
}

#else

inline uint32_t amax_bits(const float* x, int n) {
  uint32_t m = 0;
  for (int i = 0; i < n; ++i) {
    const uint32_t b = f32_bits(x[i]) & abs_mask;
    m = b > m ? b : m;
  }
  return m;
}

#endif

// x: [n] f32 (n a multiple of 16) · q: [n] int8; returns sum(q). Codes are zero when !s.finite.
inline int32_t quantize_values(const float* x, int n, const BlockScale& s, int8_t* q, int16_t* sums16) {
  int32_t total = 0;
  if (!s.finite) {
    std::memset(q, 0, static_cast<size_t>(n));
    if (sums16) std::memset(sums16, 0, static_cast<size_t>(n / 16) * sizeof(int16_t));
    return 0;
  }
  for (int i = 0; i < n; i += 16) {
    int32_t sum = 0;
#if defined(OLLM_ISA_AVX512)
    const __m512i v = quantize16(x + i, s.id);
    sum = _mm512_reduce_add_epi32(v);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i), _mm512_cvtsepi32_epi8(v));
#elif defined(OLLM_ISA_AVX2)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i), quantize16(x + i, s.id, sum));
#else
    for (int j = 0; j < 16; ++j) {
      const int v = static_cast<int>(std::nearbyint(x[i + j] * s.id));
      q[i + j] = static_cast<int8_t>(v);
      sum += v;
    }
#endif
    if (sums16) sums16[i / 16] = static_cast<int16_t>(sum);
    total += sum;
  }
  return total;
}

}  // namespace

void quantize_act_legacy(const float* x, int64_t k, void* out) {
  auto* groups = static_cast<XqLegacyGroup*>(out);
  const int64_t n_blocks = k / qk_legacy;
  const int64_t n_groups = (n_blocks + 3) / 4;
  // The last group's unused blocks stay zero: zero codes and zero scales add nothing.
  if (n_blocks % 4 != 0) std::memset(&groups[n_groups - 1], 0, sizeof(XqLegacyGroup));
  for (int64_t b = 0; b < n_blocks; ++b) {
    const float* xb = x + b * qk_legacy;
    XqLegacyGroup& g = groups[b / 4];
    const int j = static_cast<int>(b % 4);
    const BlockScale s = block_scale(amax_bits(xb, qk_legacy), ScaleKind::legacy);
    int8_t q[qk_legacy];
    const int32_t sum = quantize_values(xb, qk_legacy, s, q, nullptr);
    std::memcpy(g.lo + 16 * j, q, 16);
    std::memcpy(g.hi + 16 * j, q + 16, 16);
    for (int l = 0; l < 4; ++l) {
      g.nsum[4 * j + l] = l == 0 ? -sum : 0;
      g.d[4 * j + l] = s.d;
      g.s[4 * j + l] = l == 0 ? s.d * static_cast<float>(sum) : 0.0f;
    }
  }
}

void quantize_act_kquant(const float* x, int64_t k, void* out) {
  auto* blocks = static_cast<XqKBlock*>(out);
  for (int64_t b = 0; b < k / qk_k; ++b) {
    const float* xb = x + b * qk_k;
    XqKBlock& blk = blocks[b];
    const BlockScale s = block_scale(amax_bits(xb, qk_k), ScaleKind::kquant);
    quantize_values(xb, qk_k, s, blk.qs, blk.bsums);
    blk.d = s.d;
  }
}

void quantize_act_kquant_nibble_order(const float* x, int64_t k, void* out) {
  auto* blocks = static_cast<XqKBlock*>(out);
  alignas(64) float permuted[qk_k];
  constexpr int order[4] = {0, 2, 1, 3};
  for (int64_t b = 0; b < k / qk_k; ++b) {
    for (int half = 0; half < 2; ++half)
      for (int j = 0; j < 4; ++j)
        std::memcpy(permuted + 128 * half + 32 * j, x + b * qk_k + 128 * half + 32 * order[j], 32 * sizeof(float));
    quantize_act_kquant(permuted, qk_k, blocks + b);
  }
}

}  // namespace ollm::cpu::OLLM_ISA_NAMESPACE
