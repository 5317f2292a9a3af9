// Compiled once per ISA: the decode matmul row kernels of Numerics::exact — quantized weights
// against f32 activations, f32 arithmetic throughout, no 8-bit activation rounding.
//
// Each block of a weight row is unpacked to its integer codes (exact in f32) and its sub-block
// scales d_s and offsets m_s (f32, formed as gguf.quants forms them: d * sc), so that a weight is
// w = d_s * q - m_s. The dot product over a sub-block is then
//     sum_j x_j w_j = d_s * sum_j (q_j x_j) - m_s * sum_j x_j,
// with sum_j q_j x_j as f32 FMAs on the converted codes and sum_j x_j computed once per call for
// each activation row: the weights never exist as f32 in memory, and the inner loop is a
// convert and an FMA per element (decode stays memory-bound). The result equals the f32 dot
// product of x with the dequantized row up to f32 summation order (relative ~1e-7), which is
// what transformers computes on the dequantized GGUF.
//
// The scalar variant is the portable reference; avx2 runs the dots on 256-bit vectors, avx512 on
// 512-bit ones (16 codes converted and multiplied per instruction: the kernel is bound by those
// conversions and multiplies, not by memory, so the wider vectors are what decode speed needs).
// The unpacking of the 256-element formats is plain C++ the compiler vectorizes.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <vector>

#if defined(OLLM_ISA_AVX512) || defined(OLLM_ISA_AVX2)
#include <immintrin.h>
#endif
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "cpu/gemv_kernels.hpp"
#include "cpu/matmul_exact.hpp"
#include "cpu/quant_blocks.hpp"

namespace ollm::cpu::OLLM_ISA_NAMESPACE {
namespace {

constexpr int max_tile = 4;  // activation rows that share one unpacking of a weight block

// One unpacked block: codes in natural element order, per-sub-block scale and offset.
struct Unpacked {
  alignas(32) int8_t q[qk_k];
  float d[16];
  float m[16];
};

// --- Unpackers: Unit elements per block, Sub elements per scale, Min: whether m_s is used. ---

struct UnpackQ4_0 {
  static constexpr int unit = 32, sub = 32, bytes = sizeof(block_q4_0);
  static constexpr bool min = false;
  static void run(const uint8_t* p, Unpacked& u) {
    u.d[0] = fp16_to_f32(load_u16(p));
    const uint8_t* qs = p + offsetof(block_q4_0, qs);
    for (int l = 0; l < 16; ++l) {
      u.q[l] = static_cast<int8_t>((qs[l] & 0x0f) - 8);
      u.q[l + 16] = static_cast<int8_t>((qs[l] >> 4) - 8);
    }
  }
};
struct UnpackQ4_1 {
  static constexpr int unit = 32, sub = 32, bytes = sizeof(block_q4_1);
  static constexpr bool min = true;
  static void run(const uint8_t* p, Unpacked& u) {
    u.d[0] = fp16_to_f32(load_u16(p));
    u.m[0] = -fp16_to_f32(load_u16(p + 2));  // w = d*q + m
    const uint8_t* qs = p + offsetof(block_q4_1, qs);
    for (int l = 0; l < 16; ++l) {
      u.q[l] = static_cast<int8_t>(qs[l] & 0x0f);
      u.q[l + 16] = static_cast<int8_t>(qs[l] >> 4);
    }
  }
};
inline void unpack_q5(const uint8_t* qs, uint32_t qh, int offset, int8_t* q) {
  for (int l = 0; l < 16; ++l) {
    q[l] = static_cast<int8_t>(((qs[l] & 0x0f) | static_cast<int>(((qh >> l) & 1u) << 4)) - offset);
    q[l + 16] = static_cast<int8_t>(((qs[l] >> 4) | static_cast<int>(((qh >> (l + 16)) & 1u) << 4)) - offset);
  }
}
struct UnpackQ5_0 {
  static constexpr int unit = 32, sub = 32, bytes = sizeof(block_q5_0);
  static constexpr bool min = false;
  static void run(const uint8_t* p, Unpacked& u) {
    u.d[0] = fp16_to_f32(load_u16(p));
    unpack_q5(p + offsetof(block_q5_0, qs), load_u32(p + offsetof(block_q5_0, qh)), 16, u.q);
  }
};
struct UnpackQ5_1 {
  static constexpr int unit = 32, sub = 32, bytes = sizeof(block_q5_1);
  static constexpr bool min = true;
  static void run(const uint8_t* p, Unpacked& u) {
    u.d[0] = fp16_to_f32(load_u16(p));
    u.m[0] = -fp16_to_f32(load_u16(p + 2));
    unpack_q5(p + offsetof(block_q5_1, qs), load_u32(p + offsetof(block_q5_1, qh)), 0, u.q);
  }
};
struct UnpackQ8_0 {
  static constexpr int unit = 32, sub = 32, bytes = sizeof(block_q8_0);
  static constexpr bool min = false;
  static void run(const uint8_t* p, Unpacked& u) {
    u.d[0] = fp16_to_f32(load_u16(p));
    std::memcpy(u.q, p + offsetof(block_q8_0, qs), 32);
  }
};
struct UnpackIq4Nl {
  static constexpr int unit = 32, sub = 32, bytes = sizeof(block_iq4_nl);
  static constexpr bool min = false;
  static void run(const uint8_t* p, Unpacked& u) {
    u.d[0] = fp16_to_f32(load_u16(p));
    const uint8_t* qs = p + offsetof(block_iq4_nl, qs);
    for (int l = 0; l < 16; ++l) {
      u.q[l] = iq4nl_values[qs[l] & 0x0f];
      u.q[l + 16] = iq4nl_values[qs[l] >> 4];
    }
  }
};
struct UnpackQ2_K {
  static constexpr int unit = 256, sub = 16, bytes = sizeof(block_q2_K);
  static constexpr bool min = true;
  static void run(const uint8_t* p, Unpacked& u) {
    const float d = fp16_to_f32(load_u16(p + offsetof(block_q2_K, d)));
    const float dmin = fp16_to_f32(load_u16(p + offsetof(block_q2_K, dmin)));
    const uint8_t* scales = p + offsetof(block_q2_K, scales);
    const uint8_t* qs = p + offsetof(block_q2_K, qs);
    for (int s = 0; s < 16; ++s) {
      u.d[s] = d * static_cast<float>(scales[s] & 0x0f);
      u.m[s] = dmin * static_cast<float>(scales[s] >> 4);
    }
    // Element half*128 + r*32 + l is bits 2r of qs[half*32 + l].
    for (int half = 0; half < 2; ++half)
      for (int r = 0; r < 4; ++r)
        for (int l = 0; l < 32; ++l)
          u.q[half * 128 + r * 32 + l] = static_cast<int8_t>((qs[half * 32 + l] >> (2 * r)) & 3);
  }
};
struct UnpackQ3_K {
  static constexpr int unit = 256, sub = 16, bytes = sizeof(block_q3_K);
  static constexpr bool min = false;
  static void run(const uint8_t* p, Unpacked& u) {
    const float d = fp16_to_f32(load_u16(p + offsetof(block_q3_K, d)));
    const uint8_t* hmask = p + offsetof(block_q3_K, hmask);
    const uint8_t* qs = p + offsetof(block_q3_K, qs);
    const uint8_t* sc = p + offsetof(block_q3_K, scales);
    for (int j = 0; j < 16; ++j) {
      const int low = j < 8 ? (sc[j] & 0x0f) : (sc[j - 8] >> 4);
      const int high = (sc[8 + j % 4] >> (2 * (j / 4))) & 3;
      u.d[j] = d * static_cast<float>((low | (high << 4)) - 32);
    }
    for (int half = 0; half < 2; ++half)
      for (int r = 0; r < 4; ++r) {
        const int e0 = half * 128 + r * 32;
        for (int l = 0; l < 32; ++l) {
          const int ql = (qs[half * 32 + l] >> (2 * r)) & 3;
          const int h = (hmask[l] >> (e0 / 32)) & 1;
          u.q[e0 + l] = static_cast<int8_t>(ql - (h ? 0 : 4));
        }
      }
  }
};
inline void scale_min_k4(int j, const uint8_t* q, int& sc, int& m) {
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
    m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}
struct UnpackQ4_K {
  static constexpr int unit = 256, sub = 32, bytes = sizeof(block_q4_K);
  static constexpr bool min = true;
  static void run(const uint8_t* p, Unpacked& u) {
    const float d = fp16_to_f32(load_u16(p + offsetof(block_q4_K, d)));
    const float dmin = fp16_to_f32(load_u16(p + offsetof(block_q4_K, dmin)));
    const uint8_t* scales = p + offsetof(block_q4_K, scales);
    const uint8_t* qs = p + offsetof(block_q4_K, qs);
    for (int j = 0; j < 8; ++j) {
      int sc, m;
      scale_min_k4(j, scales, sc, m);
      u.d[j] = d * static_cast<float>(sc);
      u.m[j] = dmin * static_cast<float>(m);
    }
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) {
        u.q[c * 64 + l] = static_cast<int8_t>(qs[c * 32 + l] & 0x0f);
        u.q[c * 64 + 32 + l] = static_cast<int8_t>(qs[c * 32 + l] >> 4);
      }
  }
};
struct UnpackQ5_K {
  static constexpr int unit = 256, sub = 32, bytes = sizeof(block_q5_K);
  static constexpr bool min = true;
  static void run(const uint8_t* p, Unpacked& u) {
    const float d = fp16_to_f32(load_u16(p + offsetof(block_q5_K, d)));
    const float dmin = fp16_to_f32(load_u16(p + offsetof(block_q5_K, dmin)));
    const uint8_t* scales = p + offsetof(block_q5_K, scales);
    const uint8_t* qh = p + offsetof(block_q5_K, qh);
    const uint8_t* qs = p + offsetof(block_q5_K, qs);
    for (int j = 0; j < 8; ++j) {
      int sc, m;
      scale_min_k4(j, scales, sc, m);
      u.d[j] = d * static_cast<float>(sc);
      u.m[j] = dmin * static_cast<float>(m);
    }
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) {
        u.q[c * 64 + l] = static_cast<int8_t>((qs[c * 32 + l] & 0x0f) | (((qh[l] >> (2 * c)) & 1) << 4));
        u.q[c * 64 + 32 + l] = static_cast<int8_t>((qs[c * 32 + l] >> 4) | (((qh[l] >> (2 * c + 1)) & 1) << 4));
      }
  }
};
struct UnpackQ6_K {
  static constexpr int unit = 256, sub = 16, bytes = sizeof(block_q6_K);
  static constexpr bool min = false;
  static void run(const uint8_t* p, Unpacked& u) {
    const float d = fp16_to_f32(load_u16(p + offsetof(block_q6_K, d)));
    const uint8_t* ql = p + offsetof(block_q6_K, ql);
    const uint8_t* qh = p + offsetof(block_q6_K, qh);
    const auto* scales = reinterpret_cast<const int8_t*>(p + offsetof(block_q6_K, scales));
    for (int s = 0; s < 16; ++s) u.d[s] = d * static_cast<float>(scales[s]);
    // Element half*128 + r*32 + l: low nibble of ql[half*64 + (r%2)*32 + l] (high nibble for
    // r >= 2), top two bits from qh[half*32 + l] >> 2r.
    for (int half = 0; half < 2; ++half)
      for (int r = 0; r < 4; ++r)
        for (int l = 0; l < 32; ++l) {
          const int lo = (ql[half * 64 + (r % 2) * 32 + l] >> (4 * (r / 2))) & 0x0f;
          const int hi = (qh[half * 32 + l] >> (2 * r)) & 3;
          u.q[half * 128 + r * 32 + l] = static_cast<int8_t>((lo | (hi << 4)) - 32);
        }
  }
};
struct UnpackIq4Xs {
  static constexpr int unit = 256, sub = 32, bytes = sizeof(block_iq4_xs);
  static constexpr bool min = false;
  static void run(const uint8_t* p, Unpacked& u) {
    const float d = fp16_to_f32(load_u16(p + offsetof(block_iq4_xs, d)));
    const uint16_t scales_h = load_u16(p + offsetof(block_iq4_xs, scales_h));
    const uint8_t* scales_l = p + offsetof(block_iq4_xs, scales_l);
    const uint8_t* qs = p + offsetof(block_iq4_xs, qs);
    for (int ib = 0; ib < 8; ++ib) {
      const int ls = ((scales_l[ib / 2] >> (4 * (ib % 2))) & 0x0f) | (((scales_h >> (2 * ib)) & 3) << 4);
      u.d[ib] = d * static_cast<float>(ls - 32);
      for (int j = 0; j < 16; ++j) {
        u.q[ib * 32 + j] = iq4nl_values[qs[ib * 16 + j] & 0x0f];
        u.q[ib * 32 + j + 16] = iq4nl_values[qs[ib * 16 + j] >> 4];
      }
    }
  }
};

// --- The dot of one unpacked block with M activation rows (at element offset e0). ---

#if defined(OLLM_ISA_AVX512)

// 16 codes as f32: elements 0..15 of q.
inline __m512 codes16(const int8_t* q) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q))));
}
struct Acc {
  __m512 v;
  void zero() { v = _mm512_setzero_ps(); }
  float sum() const { return _mm512_reduce_add_ps(v); }
};

template <int Sub, int M>
inline void block_dot(const Unpacked& u, int n_sub, const float* const* x, int64_t e0, Acc* acc) {
  for (int s = 0; s < n_sub; ++s) {
    const int8_t* q = u.q + s * Sub;
    const __m512 ds = _mm512_set1_ps(u.d[s]);
    const __m512 c0 = codes16(q);
    if constexpr (Sub == 32) {
      const __m512 c1 = codes16(q + 16);
      for (int i = 0; i < M; ++i) {
        const float* xs = x[i] + e0 + s * Sub;
        const __m512 a = _mm512_fmadd_ps(c1, _mm512_loadu_ps(xs + 16), _mm512_mul_ps(c0, _mm512_loadu_ps(xs)));
        acc[i].v = _mm512_fmadd_ps(ds, a, acc[i].v);
      }
    } else {
      for (int i = 0; i < M; ++i)
        acc[i].v = _mm512_fmadd_ps(ds, _mm512_mul_ps(c0, _mm512_loadu_ps(x[i] + e0 + s * Sub)), acc[i].v);
    }
  }
}

#elif defined(OLLM_ISA_AVX2)

using VF = __m256;
inline VF codes8(const int8_t* q) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q))));
}
inline float hsum(VF a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}
struct Acc {
  VF v;
  void zero() { v = _mm256_setzero_ps(); }
  float sum() const { return hsum(v); }
};

template <int Sub, int M>
inline void block_dot(const Unpacked& u, int n_sub, const float* const* x, int64_t e0, Acc* acc) {
  for (int s = 0; s < n_sub; ++s) {
    const int8_t* q = u.q + s * Sub;
    const VF ds = _mm256_set1_ps(u.d[s]);
    const VF c0 = codes8(q), c1 = codes8(q + 8);
    if constexpr (Sub == 32) {
      const VF c2 = codes8(q + 16), c3 = codes8(q + 24);
      for (int i = 0; i < M; ++i) {
        const float* xs = x[i] + e0 + s * Sub;
        VF a = _mm256_mul_ps(c0, _mm256_loadu_ps(xs));
        VF b = _mm256_mul_ps(c1, _mm256_loadu_ps(xs + 8));
        a = _mm256_fmadd_ps(c2, _mm256_loadu_ps(xs + 16), a);
        b = _mm256_fmadd_ps(c3, _mm256_loadu_ps(xs + 24), b);
        acc[i].v = _mm256_fmadd_ps(ds, _mm256_add_ps(a, b), acc[i].v);
      }
    } else {
      for (int i = 0; i < M; ++i) {
        const float* xs = x[i] + e0 + s * Sub;
        const VF a = _mm256_fmadd_ps(c1, _mm256_loadu_ps(xs + 8), _mm256_mul_ps(c0, _mm256_loadu_ps(xs)));
        acc[i].v = _mm256_fmadd_ps(ds, a, acc[i].v);
      }
    }
  }
}

#else  // scalar

struct Acc {
  float v;
  void zero() { v = 0.0f; }
  float sum() const { return v; }
};

template <int Sub, int M>
inline void block_dot(const Unpacked& u, int n_sub, const float* const* x, int64_t e0, Acc* acc) {
  for (int s = 0; s < n_sub; ++s)
    for (int i = 0; i < M; ++i) {
      const float* xs = x[i] + e0 + s * Sub;
      float a = 0.0f;
      for (int j = 0; j < Sub; ++j) a += static_cast<float>(u.q[s * Sub + j]) * xs[j];
      acc[i].v += u.d[s] * a;
    }
}

#endif

// Per-call sums of each activation row over every sub-block (only for types with offsets).
thread_local std::vector<float> x_sums;

template <class U, int M>
void rows_tile(const uint8_t* w, size_t w_stride, int64_t r_begin, int64_t r_end, int64_t k, const float* const* x,
               const float* const* sums, float* const* y) {
  constexpr int n_sub = U::unit / U::sub;
  const int64_t n_units = k / U::unit;
  Unpacked u;
  for (int64_t r = r_begin; r < r_end; ++r) {
    const uint8_t* row = w + static_cast<size_t>(r) * w_stride;
    Acc acc[M];
    float offs[M] = {};
    for (int i = 0; i < M; ++i) acc[i].zero();
    for (int64_t b = 0; b < n_units; ++b) {
      const uint8_t* blk = row + static_cast<size_t>(b) * U::bytes;
      prefetch_ahead<U::bytes>(blk);
      U::run(blk, u);
      block_dot<U::sub, M>(u, n_sub, x, b * U::unit, acc);
      if constexpr (U::min)
        for (int i = 0; i < M; ++i)
          for (int s = 0; s < n_sub; ++s) offs[i] += u.m[s] * sums[i][b * n_sub + s];
    }
    for (int i = 0; i < M; ++i) y[i][r] = acc[i].sum() - offs[i];
  }
}

#if defined(OLLM_ISA_AVX512) || defined(OLLM_ISA_AVX2)

// The 32-element legacy blocks (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL) decoded straight into a
// register: 32 codes as bytes (element j in byte j) and the f32 scale / offset. The generic
// Unpacked path goes through memory with a scalar loop per element and a software fp16
// conversion, which made decode compute-bound (0.35x of standard decode on Gemma 3 270M, whose
// Q8_0 output matrix and Q5_0 projections are 85 % of the bytes); this one is a handful of
// vector instructions per block. The block scales convert with F16C: a NaN scale gives NaN
// outputs either way (only its payload would differ).
struct Codes32 {
  __m256i q;
  float d, m;  // w = d * q - m
};
inline __m256i nibbles32(const uint8_t* qs) {  // low nibbles -> elements 0..15, high -> 16..31
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i lo = _mm_and_si128(v, _mm_set1_epi8(0x0f));
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), _mm_set1_epi8(0x0f));
  return _mm256_set_m128i(hi, lo);
}
inline __m256i fifth_bits(const uint8_t* qh) {  // 0x10 in byte j where bit j of qh is set
  uint32_t bits;
  std::memcpy(&bits, qh, 4);
  const __m256i shuffle = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
  __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuffle);
  bytes = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
  return _mm256_and_si256(_mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1)), _mm256_set1_epi8(0x10));
}
inline float scale_f16(const uint8_t* p) { return _cvtsh_ss(load_u16(p)); }

template <class U>
constexpr bool has_codes32 = std::is_same_v<U, UnpackQ4_0> || std::is_same_v<U, UnpackQ4_1> ||
                             std::is_same_v<U, UnpackQ5_0> || std::is_same_v<U, UnpackQ5_1> ||
                             std::is_same_v<U, UnpackQ8_0> || std::is_same_v<U, UnpackIq4Nl>;

template <class U>
inline Codes32 codes32(const uint8_t* p) {
  Codes32 c{};
  c.d = scale_f16(p);
  if constexpr (std::is_same_v<U, UnpackQ8_0>) {
    c.q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + offsetof(block_q8_0, qs)));
  } else if constexpr (std::is_same_v<U, UnpackQ4_0>) {
    c.q = _mm256_sub_epi8(nibbles32(p + offsetof(block_q4_0, qs)), _mm256_set1_epi8(8));
  } else if constexpr (std::is_same_v<U, UnpackQ4_1>) {
    c.m = -scale_f16(p + 2);
    c.q = nibbles32(p + offsetof(block_q4_1, qs));
  } else if constexpr (std::is_same_v<U, UnpackQ5_0>) {
    c.q = _mm256_sub_epi8(_mm256_or_si256(nibbles32(p + offsetof(block_q5_0, qs)), fifth_bits(p + offsetof(block_q5_0, qh))),
                          _mm256_set1_epi8(16));
  } else if constexpr (std::is_same_v<U, UnpackQ5_1>) {
    c.m = -scale_f16(p + 2);
    c.q = _mm256_or_si256(nibbles32(p + offsetof(block_q5_1, qs)), fifth_bits(p + offsetof(block_q5_1, qh)));
  } else {  // IQ4_NL: the nibbles index the non-linear table
    const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(iq4nl_values)));
    c.q = _mm256_shuffle_epi8(table, nibbles32(p + offsetof(block_iq4_nl, qs)));
  }
  return c;
}

template <class U, int M>
void rows_tile32(const uint8_t* w, size_t w_stride, int64_t r_begin, int64_t r_end, int64_t k, const float* const* x,
                 const float* const* sums, float* const* y) {
  const int64_t n_units = k / 32;
  for (int64_t r = r_begin; r < r_end; ++r) {
    const uint8_t* row = w + static_cast<size_t>(r) * w_stride;
    Acc acc[M];
    float offs[M] = {};
    for (int i = 0; i < M; ++i) acc[i].zero();
    for (int64_t b = 0; b < n_units; ++b) {
      const uint8_t* blk = row + static_cast<size_t>(b) * U::bytes;
      prefetch_ahead<U::bytes>(blk);
      const Codes32 c = codes32<U>(blk);
      const __m128i lo = _mm256_castsi256_si128(c.q), hi = _mm256_extracti128_si256(c.q, 1);
#if defined(OLLM_ISA_AVX512)
      const __m512 c0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(lo));  // elements 0..15
      const __m512 c1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(hi));  // 16..31
      const __m512 ds = _mm512_set1_ps(c.d);
      for (int i = 0; i < M; ++i) {
        const float* xs = x[i] + b * 32;
        const __m512 a = _mm512_fmadd_ps(c1, _mm512_loadu_ps(xs + 16), _mm512_mul_ps(c0, _mm512_loadu_ps(xs)));
        acc[i].v = _mm512_fmadd_ps(ds, a, acc[i].v);
        if constexpr (U::min) offs[i] += c.m * sums[i][b];
      }
#else
      const VF c0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo));
      const VF c1 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)));
      const VF c2 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi));
      const VF c3 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)));
      const VF ds = _mm256_set1_ps(c.d);
      for (int i = 0; i < M; ++i) {
        const float* xs = x[i] + b * 32;
        VF a = _mm256_mul_ps(c0, _mm256_loadu_ps(xs));
        VF e = _mm256_mul_ps(c1, _mm256_loadu_ps(xs + 8));
        a = _mm256_fmadd_ps(c2, _mm256_loadu_ps(xs + 16), a);
        e = _mm256_fmadd_ps(c3, _mm256_loadu_ps(xs + 24), e);
        acc[i].v = _mm256_fmadd_ps(ds, _mm256_add_ps(a, e), acc[i].v);
        if constexpr (U::min) offs[i] += c.m * sums[i][b];
      }
#endif
    }
    for (int i = 0; i < M; ++i) y[i][r] = acc[i].sum() - offs[i];
  }
}

#endif

template <class U>
void gemv_exact(const uint8_t* w, size_t w_stride, int64_t r_begin, int64_t r_end, int64_t k, const void* const* x,
                float* const* y, int64_t m) {
  const float* sums_rows[max_tile] = {};
  const int64_t n_sums = k / U::sub;
  if constexpr (U::min) {
    x_sums.resize(static_cast<size_t>(std::min<int64_t>(m, max_tile) * n_sums));
  }
  for (int64_t i0 = 0; i0 < m; i0 += max_tile) {
    const float* xs[max_tile];
    const int mt = static_cast<int>(std::min<int64_t>(max_tile, m - i0));
    for (int i = 0; i < mt; ++i) xs[i] = static_cast<const float*>(x[i0 + i]);
    if constexpr (U::min) {
      for (int i = 0; i < mt; ++i) {
        float* s = x_sums.data() + i * n_sums;
        for (int64_t g = 0; g < n_sums; ++g) {
          float a = 0.0f;
          for (int j = 0; j < U::sub; ++j) a += xs[i][g * U::sub + j];
          s[g] = a;
        }
        sums_rows[i] = s;
      }
    }
    float* const* ys = y + i0;
#if defined(OLLM_ISA_AVX512) || defined(OLLM_ISA_AVX2)
    if constexpr (has_codes32<U>) {
      switch (mt) {
        case 1: rows_tile32<U, 1>(w, w_stride, r_begin, r_end, k, xs, sums_rows, ys); break;
        case 2: rows_tile32<U, 2>(w, w_stride, r_begin, r_end, k, xs, sums_rows, ys); break;
        case 3: rows_tile32<U, 3>(w, w_stride, r_begin, r_end, k, xs, sums_rows, ys); break;
        default: rows_tile32<U, 4>(w, w_stride, r_begin, r_end, k, xs, sums_rows, ys); break;
      }
      continue;
    }
#endif
    switch (mt) {
      case 1: rows_tile<U, 1>(w, w_stride, r_begin, r_end, k, xs, sums_rows, ys); break;
      case 2: rows_tile<U, 2>(w, w_stride, r_begin, r_end, k, xs, sums_rows, ys); break;
      case 3: rows_tile<U, 3>(w, w_stride, r_begin, r_end, k, xs, sums_rows, ys); break;
      default: rows_tile<U, 4>(w, w_stride, r_begin, r_end, k, xs, sums_rows, ys); break;
    }
  }
}

}  // namespace

GemvKernel gemv_exact_kernel(DType type) noexcept {
  switch (type) {
    case DType::q4_0: return &gemv_exact<UnpackQ4_0>;
    case DType::q4_1: return &gemv_exact<UnpackQ4_1>;
    case DType::q5_0: return &gemv_exact<UnpackQ5_0>;
    case DType::q5_1: return &gemv_exact<UnpackQ5_1>;
    case DType::q8_0: return &gemv_exact<UnpackQ8_0>;
    case DType::iq4_nl: return &gemv_exact<UnpackIq4Nl>;
    case DType::q2_k: return &gemv_exact<UnpackQ2_K>;
    case DType::q3_k: return &gemv_exact<UnpackQ3_K>;
    case DType::q4_k: return &gemv_exact<UnpackQ4_K>;
    case DType::q5_k: return &gemv_exact<UnpackQ5_K>;
    case DType::q6_k: return &gemv_exact<UnpackQ6_K>;
    case DType::iq4_xs: return &gemv_exact<UnpackIq4Xs>;
    default: return nullptr;  // F32 / F16 / BF16 already meet f32 activations (gemv_float_kernel)
  }
}

}  // namespace ollm::cpu::OLLM_ISA_NAMESPACE
