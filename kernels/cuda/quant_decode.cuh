// The GGUF block formats decoded 32 elements at a time into int8 codes and per-16 scale/offset
// pairs, as __host__ __device__ functions: the CUDA matmul kernels call them on the device and
// tests/unit/test_cuda_quant_host.cpp calls the very same code on the host against
// ollm::cpu::dequantize_row (bit-exact). Plain C++17 with no CUDA header, so that a host compiler
// can include it too (OLLM_HD is empty there).
//
// A group is 32 consecutive elements of a row: group g of a legacy type is block g; group g of a
// 256-element super-block type is sub-block g % 8 of super-block g / 8. Element j of a group is
//     value_j = d[j / 16] * float(code_j) + m[j / 16]
// rounded exactly as the CPU dequantizers (kernels/cpu/dequantize_*.cpp) round: one product,
// then one sum where the format has an offset (Q4_1 and Q5_1 add +m, Q2_K/Q4_K/Q5_K subtract
// dmin*min, written as + (-(dmin*min)), which is the same IEEE operation). code_j is a signed
// byte (every format's codes fit: Q4_0 -8..7, Q6_K -32..31, IQ4 -127..113); the 32 codes are
// packed 4 per int32, element j in byte j % 4 of q[j / 4], so that __dp4a takes them directly.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define OLLM_HD __host__ __device__ __forceinline__
#else
#define OLLM_HD inline
#endif

namespace ollm_cuda {

// ggml type ids of the formats decoded here.
enum : uint32_t {
  type_q4_0 = 2, type_q4_1 = 3, type_q5_0 = 6, type_q5_1 = 7, type_q8_0 = 8,
  type_q2_k = 10, type_q3_k = 11, type_q4_k = 12, type_q5_k = 13, type_q6_k = 14,
  type_iq4_nl = 20, type_iq4_xs = 23,
};

struct Group32 {
  int32_t q[8];  // 32 signed byte codes, element j in byte j % 4 of q[j / 4]
  float d[2];    // scale of elements 0..15 and 16..31
  float m[2];    // offset of elements 0..15 and 16..31 (0 for formats without one)
};

// Static facts of a format: bytes per block, elements per block, whether a group has an offset
// (the dot product then needs the activation sums) and the alignment its blocks guarantee for
// 32-bit loads (4 when the block size is a multiple of 4, else 2).
template <uint32_t T> struct QuantTraits;
template <> struct QuantTraits<type_q4_0> { static constexpr int bytes = 18, elems = 32, align = 2; static constexpr bool has_min = false; };
template <> struct QuantTraits<type_q4_1> { static constexpr int bytes = 20, elems = 32, align = 4; static constexpr bool has_min = true; };
template <> struct QuantTraits<type_q5_0> { static constexpr int bytes = 22, elems = 32, align = 2; static constexpr bool has_min = false; };
template <> struct QuantTraits<type_q5_1> { static constexpr int bytes = 24, elems = 32, align = 4; static constexpr bool has_min = true; };
template <> struct QuantTraits<type_q8_0> { static constexpr int bytes = 34, elems = 32, align = 2; static constexpr bool has_min = false; };
template <> struct QuantTraits<type_q2_k> { static constexpr int bytes = 84, elems = 256, align = 4; static constexpr bool has_min = true; };
template <> struct QuantTraits<type_q3_k> { static constexpr int bytes = 110, elems = 256, align = 2; static constexpr bool has_min = false; };
template <> struct QuantTraits<type_q4_k> { static constexpr int bytes = 144, elems = 256, align = 4; static constexpr bool has_min = true; };
template <> struct QuantTraits<type_q5_k> { static constexpr int bytes = 176, elems = 256, align = 4; static constexpr bool has_min = true; };
template <> struct QuantTraits<type_q6_k> { static constexpr int bytes = 210, elems = 256, align = 2; static constexpr bool has_min = false; };
template <> struct QuantTraits<type_iq4_nl> { static constexpr int bytes = 18, elems = 32, align = 2; static constexpr bool has_min = false; };
template <> struct QuantTraits<type_iq4_xs> { static constexpr int bytes = 136, elems = 256, align = 4; static constexpr bool has_min = false; };

// The static facts of a block format by ggml id, for launchers that dispatch at run time; all
// zero for an id that is not one of the 12 formats.
struct BlockFormat {
  int bytes = 0, elems = 0, align = 0;
};
inline BlockFormat block_format(uint32_t t) {
  switch (t) {
#define OLLM_FORMAT(id) case id: return {QuantTraits<id>::bytes, QuantTraits<id>::elems, QuantTraits<id>::align};
    OLLM_FORMAT(type_q4_0) OLLM_FORMAT(type_q4_1) OLLM_FORMAT(type_q5_0) OLLM_FORMAT(type_q5_1)
    OLLM_FORMAT(type_q8_0) OLLM_FORMAT(type_q2_k) OLLM_FORMAT(type_q3_k) OLLM_FORMAT(type_q4_k)
    OLLM_FORMAT(type_q5_k) OLLM_FORMAT(type_q6_k) OLLM_FORMAT(type_iq4_nl) OLLM_FORMAT(type_iq4_xs)
#undef OLLM_FORMAT
    default: return {};
  }
}

// --- Loads and bit tricks shared by host and device -------------------------------------------

OLLM_HD uint32_t ld16(const uint8_t* p) {
#if defined(__CUDA_ARCH__)
  return *reinterpret_cast<const uint16_t*>(p);
#else
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
#endif
}

// Little-endian u32 at p; p is Align-byte aligned (Align 4: one load; 2: two 16-bit loads).
template <int Align>
OLLM_HD uint32_t ld32(const uint8_t* p) {
#if defined(__CUDA_ARCH__)
  if constexpr (Align >= 4) return *reinterpret_cast<const uint32_t*>(p);
  else return ld16(p) | (ld16(p + 2) << 16);
#else
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
#endif
}

OLLM_HD float bits_to_f32(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, 4);
  return f;
#endif
}

// fp16 -> f32, exact (the hardware conversion on the device; ollm::cpu::fp16_to_f32's algorithm
// on the host, NaN payloads kept).
OLLM_HD float half_to_f32(uint32_t h) {
#if defined(__CUDA_ARCH__)
  float f;
  const unsigned short hs = static_cast<unsigned short>(h);
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(hs));
  return f;
#else
  const uint32_t sign = (h & 0x8000u) << 16;
  const uint32_t em = h & 0x7fffu;
  if (em >= 0x7c00u) return bits_to_f32(sign | 0x7f800000u | ((em & 0x3ffu) << 13));
  if (em >= 0x0400u) return bits_to_f32(sign | ((em << 13) + 0x38000000u));
  float f = static_cast<float>(em) * 0x1p-24f;
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return bits_to_f32(sign | u);
#endif
}

// Bytewise v - c for bytes with v + 128 - c in 0..255 (no borrow crosses a byte): adding 0x80 to
// every byte first keeps each byte's difference non-negative, the xor undoes the bias.
OLLM_HD int32_t sub_bytes(uint32_t v, uint32_t c) {
  return static_cast<int32_t>(((v | 0x80808080u) - c * 0x01010101u) ^ 0x80808080u);
}

// Bits 0..3 of x, one to a byte: byte i = (x >> i) & 1.
OLLM_HD uint32_t spread_bits4(uint32_t x) {
  return (x & 1u) | ((x & 2u) << 7) | ((x & 4u) << 14) | ((x & 8u) << 21);
}

// ggml's kvalues_iq4nl (-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113)
// as two little-endian u64 immediates: an array would not be addressable from device code.
OLLM_HD int32_t iq4nl_value(uint32_t idx) {
  const uint64_t lo = 0xf6eaddcfbfad9881ull, hi = 0x7159453526190d01ull;
  const uint64_t t = idx < 8 ? lo : hi;
  return static_cast<int8_t>(static_cast<uint8_t>(t >> (8 * (idx & 7))));
}

// Four IQ4 nibble indices (bytes 0..3 of idx, each 0..15) to four value bytes.
OLLM_HD int32_t iq4nl_lookup4(uint32_t idx) {
  uint32_t r = 0;
  for (int i = 0; i < 4; ++i) r |= (static_cast<uint32_t>(iq4nl_value((idx >> (8 * i)) & 15)) & 0xffu) << (8 * i);
  return static_cast<int32_t>(r);
}

// The 6-bit scale and min of sub-block j (0..7) of Q4_K / Q5_K (ggml's get_scale_min_k4), packed
// as scale | min << 8 (returned by value: reference outputs made nvcc spill them to the stack).
OLLM_HD uint32_t scale_min_k4(int j, const uint8_t* q) {
  if (j < 4) return static_cast<uint32_t>(q[j] & 63) | (static_cast<uint32_t>(q[j + 4] & 63) << 8);
  return static_cast<uint32_t>((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4)) |
         (static_cast<uint32_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4)) << 8);
}

// --- Decoders: group g of a row starting at `row` ---------------------------------------------

template <uint32_t T> OLLM_HD void decode_group(const uint8_t* row, int64_t g, Group32& o);

// Q4_0 (18 B: fp16 d, 16 B qs): element j low nibble of qs[j], j+16 high nibble; y = d*(q-8).
template <> OLLM_HD void decode_group<type_q4_0>(const uint8_t* row, int64_t g, Group32& o) {
  const uint8_t* b = row + g * 18;
  const float d = half_to_f32(ld16(b));
  for (int i = 0; i < 4; ++i) {
    const uint32_t w = ld32<2>(b + 2 + 4 * i);
    o.q[i] = sub_bytes(w & 0x0f0f0f0fu, 8);
    o.q[4 + i] = sub_bytes((w >> 4) & 0x0f0f0f0fu, 8);
  }
  o.d[0] = o.d[1] = d;
  o.m[0] = o.m[1] = 0.0f;
}

// Q4_1 (20 B: fp16 d, fp16 m, 16 B qs): y = d*q + m.
template <> OLLM_HD void decode_group<type_q4_1>(const uint8_t* row, int64_t g, Group32& o) {
  const uint8_t* b = row + g * 20;
  const float d = half_to_f32(ld16(b)), m = half_to_f32(ld16(b + 2));
  for (int i = 0; i < 4; ++i) {
    const uint32_t w = ld32<4>(b + 4 + 4 * i);
    o.q[i] = static_cast<int32_t>(w & 0x0f0f0f0fu);
    o.q[4 + i] = static_cast<int32_t>((w >> 4) & 0x0f0f0f0fu);
  }
  o.d[0] = o.d[1] = d;
  o.m[0] = o.m[1] = m;
}

// Q5_0 (22 B: fp16 d, u32 qh, 16 B qs): q = nibble | (qh bit j) << 4; y = d*(q-16).
template <> OLLM_HD void decode_group<type_q5_0>(const uint8_t* row, int64_t g, Group32& o) {
  const uint8_t* b = row + g * 22;
  const float d = half_to_f32(ld16(b));
  const uint32_t qh = ld32<2>(b + 2);
  for (int i = 0; i < 4; ++i) {
    const uint32_t w = ld32<2>(b + 6 + 4 * i);
    const uint32_t h0 = spread_bits4(qh >> (4 * i)) << 4, h1 = spread_bits4(qh >> (16 + 4 * i)) << 4;
    o.q[i] = sub_bytes((w & 0x0f0f0f0fu) | h0, 16);
    o.q[4 + i] = sub_bytes(((w >> 4) & 0x0f0f0f0fu) | h1, 16);
  }
  o.d[0] = o.d[1] = d;
  o.m[0] = o.m[1] = 0.0f;
}

// Q5_1 (24 B: fp16 d, fp16 m, u32 qh, 16 B qs): y = d*q + m.
template <> OLLM_HD void decode_group<type_q5_1>(const uint8_t* row, int64_t g, Group32& o) {
  const uint8_t* b = row + g * 24;
  const float d = half_to_f32(ld16(b)), m = half_to_f32(ld16(b + 2));
  const uint32_t qh = ld32<4>(b + 4);
  for (int i = 0; i < 4; ++i) {
    const uint32_t w = ld32<4>(b + 8 + 4 * i);
    o.q[i] = static_cast<int32_t>((w & 0x0f0f0f0fu) | (spread_bits4(qh >> (4 * i)) << 4));
    o.q[4 + i] = static_cast<int32_t>(((w >> 4) & 0x0f0f0f0fu) | (spread_bits4(qh >> (16 + 4 * i)) << 4));
  }
  o.d[0] = o.d[1] = d;
  o.m[0] = o.m[1] = m;
}

// Q8_0 (34 B: fp16 d, 32 int8): y = q*d.
template <> OLLM_HD void decode_group<type_q8_0>(const uint8_t* row, int64_t g, Group32& o) {
  const uint8_t* b = row + g * 34;
  const float d = half_to_f32(ld16(b));
  for (int i = 0; i < 8; ++i) o.q[i] = static_cast<int32_t>(ld32<2>(b + 2 + 4 * i));
  o.d[0] = o.d[1] = d;
  o.m[0] = o.m[1] = 0.0f;
}

// IQ4_NL (18 B: fp16 d, 16 B nibble indices laid out as Q4_0): y = d*kvalues[idx].
template <> OLLM_HD void decode_group<type_iq4_nl>(const uint8_t* row, int64_t g, Group32& o) {
  const uint8_t* b = row + g * 18;
  const float d = half_to_f32(ld16(b));
  for (int i = 0; i < 4; ++i) {
    const uint32_t w = ld32<2>(b + 2 + 4 * i);
    o.q[i] = iq4nl_lookup4(w & 0x0f0f0f0fu);
    o.q[4 + i] = iq4nl_lookup4((w >> 4) & 0x0f0f0f0fu);
  }
  o.d[0] = o.d[1] = d;
  o.m[0] = o.m[1] = 0.0f;
}

// Q2_K (84 B: 16 B scales (low nibble scale, high nibble min per 16), 64 B qs, fp16 d, dmin).
// Sub-block s (0..7) reads bits 2*(s%4) of qs[(s/4)*32 + l]; y = (d*sc)*q - (dmin*min).
template <> OLLM_HD void decode_group<type_q2_k>(const uint8_t* row, int64_t g, Group32& o) {
  const uint8_t* b = row + (g / 8) * 84;
  const int s = static_cast<int>(g % 8);
  const float d = half_to_f32(ld16(b + 80)), dmin = half_to_f32(ld16(b + 82));
  const uint8_t* qs = b + 16 + (s / 4) * 32;
  const int shift = 2 * (s % 4);
  for (int i = 0; i < 8; ++i) o.q[i] = static_cast<int32_t>((ld32<4>(qs + 4 * i) >> shift) & 0x03030303u);
  for (int h = 0; h < 2; ++h) {
    const uint32_t sc = b[2 * s + h];
    o.d[h] = d * static_cast<float>(sc & 0x0f);
    o.m[h] = -(dmin * static_cast<float>(sc >> 4));
  }
}

// Q3_K (110 B: 32 B hmask, 64 B qs, 12 B packed 6-bit scales, fp16 d). Sub-block s: low 2 bits
// as Q2_K, hmask[l] bit s set means +0, clear -4; y = (d*(sc-32)) * code.
template <> OLLM_HD void decode_group<type_q3_k>(const uint8_t* row, int64_t g, Group32& o) {
  const uint8_t* b = row + (g / 8) * 110;
  const int s = static_cast<int>(g % 8);
  const float d = half_to_f32(ld16(b + 108));
  const uint8_t* qs = b + 32 + (s / 4) * 32;
  const int shift = 2 * (s % 4);
  for (int i = 0; i < 8; ++i) {
    const uint32_t ql = (ld32<2>(qs + 4 * i) >> shift) & 0x03030303u;
    const uint32_t hb = (ld32<2>(b + 4 * i) >> s) & 0x01010101u;
    o.q[i] = sub_bytes(ql | (hb << 2), 4);
  }
  const uint8_t* sc = b + 96;
  for (int h = 0; h < 2; ++h) {
    const int j = 2 * s + h;
    const int low = j < 8 ? (sc[j] & 0x0f) : (sc[j - 8] >> 4);
    const int high = (sc[8 + j % 4] >> (2 * (j / 4))) & 3;
    o.d[h] = d * static_cast<float>((low | (high << 4)) - 32);
    o.m[h] = 0.0f;
  }
}

// Q4_K (144 B: fp16 d, dmin, 12 B packed scales/mins, 128 B qs). Sub-block s: nibble s%2 of
// qs[(s/2)*32 + l]; y = (d*sc)*q - (dmin*min).
template <> OLLM_HD void decode_group<type_q4_k>(const uint8_t* row, int64_t g, Group32& o) {
  const uint8_t* b = row + (g / 8) * 144;
  const int s = static_cast<int>(g % 8);
  const float d = half_to_f32(ld16(b)), dmin = half_to_f32(ld16(b + 2));
  const uint8_t* qs = b + 16 + (s / 2) * 32;
  const int shift = 4 * (s % 2);
  for (int i = 0; i < 8; ++i) o.q[i] = static_cast<int32_t>((ld32<4>(qs + 4 * i) >> shift) & 0x0f0f0f0fu);
  const uint32_t sm = scale_min_k4(s, b + 4);
  o.d[0] = o.d[1] = d * static_cast<float>(sm & 0xff);
  o.m[0] = o.m[1] = -(dmin * static_cast<float>(sm >> 8));
}

// Q5_K (176 B: fp16 d, dmin, 12 B scales, 32 B qh, 128 B qs): Q4_K plus bit s of qh[l] as bit 4.
template <> OLLM_HD void decode_group<type_q5_k>(const uint8_t* row, int64_t g, Group32& o) {
  const uint8_t* b = row + (g / 8) * 176;
  const int s = static_cast<int>(g % 8);
  const float d = half_to_f32(ld16(b)), dmin = half_to_f32(ld16(b + 2));
  const uint8_t* qs = b + 48 + (s / 2) * 32;
  const int shift = 4 * (s % 2);
  for (int i = 0; i < 8; ++i) {
    const uint32_t lo = (ld32<4>(qs + 4 * i) >> shift) & 0x0f0f0f0fu;
    const uint32_t hi = (ld32<4>(b + 16 + 4 * i) >> s) & 0x01010101u;
    o.q[i] = static_cast<int32_t>(lo | (hi << 4));
  }
  const uint32_t sm = scale_min_k4(s, b + 4);
  o.d[0] = o.d[1] = d * static_cast<float>(sm & 0xff);
  o.m[0] = o.m[1] = -(dmin * static_cast<float>(sm >> 8));
}

// Q6_K (210 B: 128 B ql, 64 B qh, 16 int8 scales, fp16 d). Sub-block s = 4*half + r: low nibble
// (high for r >= 2) of ql[half*64 + (r%2)*32 + l], bits 2r of qh[half*32 + l]; y = (d*sc)*(q-32).
template <> OLLM_HD void decode_group<type_q6_k>(const uint8_t* row, int64_t g, Group32& o) {
  const uint8_t* b = row + (g / 8) * 210;
  const int s = static_cast<int>(g % 8);
  const int half = s / 4, r = s % 4;
  const float d = half_to_f32(ld16(b + 208));
  const uint8_t* lo = b + half * 64 + (r % 2) * 32;
  const uint8_t* hi = b + 128 + half * 32;
  const int lo_shift = 4 * (r / 2), hi_shift = 2 * r;
  for (int i = 0; i < 8; ++i) {
    const uint32_t l4 = (ld32<2>(lo + 4 * i) >> lo_shift) & 0x0f0f0f0fu;
    const uint32_t h2 = (ld32<2>(hi + 4 * i) >> hi_shift) & 0x03030303u;
    o.q[i] = sub_bytes(l4 | (h2 << 4), 32);
  }
  for (int h = 0; h < 2; ++h) {
    o.d[h] = d * static_cast<float>(static_cast<int8_t>(b[192 + 2 * s + h]));
    o.m[h] = 0.0f;
  }
}

// IQ4_XS (136 B: fp16 d, u16 scales_h, 4 B scales_l, 128 B qs). Sub-block s: 6-bit scale ls
// from nibble s%2 of scales_l[s/2] and bits 2s of scales_h; qs[16s + l] as IQ4_NL;
// y = (d*(ls-32)) * kvalues[idx].
template <> OLLM_HD void decode_group<type_iq4_xs>(const uint8_t* row, int64_t g, Group32& o) {
  const uint8_t* b = row + (g / 8) * 136;
  const int s = static_cast<int>(g % 8);
  const float d = half_to_f32(ld16(b));
  const uint32_t scales_h = ld16(b + 2);
  const int ls = ((b[4 + s / 2] >> (4 * (s % 2))) & 0x0f) | (((scales_h >> (2 * s)) & 3) << 4);
  const uint8_t* qs = b + 8 + 16 * s;
  for (int i = 0; i < 4; ++i) {
    const uint32_t w = ld32<4>(qs + 4 * i);
    o.q[i] = iq4nl_lookup4(w & 0x0f0f0f0fu);
    o.q[4 + i] = iq4nl_lookup4((w >> 4) & 0x0f0f0f0fu);
  }
  o.d[0] = o.d[1] = d * static_cast<float>(ls - 32);
  o.m[0] = o.m[1] = 0.0f;
}

// Code j of a decoded group, as an int.
OLLM_HD int group_code(const Group32& o, int j) {
  return static_cast<int8_t>(static_cast<uint8_t>(static_cast<uint32_t>(o.q[j / 4]) >> (8 * (j % 4))));
}

// Element j of a decoded group, rounded as the CPU dequantizers round (see the top comment). The
// offset is added only for formats that have one: p + 0.0f would turn a -0 product into +0.
// On the device the product and the sum are rounded separately (__fmul_rn / __fadd_rn): nvcc
// would otherwise contract them into one FMA, which rounds once where the CPU rounds twice.
template <bool HasMin>
OLLM_HD float group_value(const Group32& o, int j) {
#ifdef __CUDA_ARCH__
  const float p = __fmul_rn(o.d[j / 16], static_cast<float>(group_code(o, j)));
  if constexpr (HasMin) return __fadd_rn(p, o.m[j / 16]);
  else return p;
#else
  const float p = o.d[j / 16] * static_cast<float>(group_code(o, j));
  if constexpr (HasMin) return p + o.m[j / 16];
  else return p;
#endif
}

// --- Activations: 32 f32 values quantized to int8 with one scale (ggml's Q8_1 scheme) ----------

// x: [32] f32 · q: [8] packed int8 codes · *d: the scale (amax / 127) · *sums: sum of codes
// 0..15 in the low 16 bits and of 16..31 in the high 16 bits (signed halves). codes =
// round(x / d); an all-zero group gets d = 0 and zero codes. A group holding NaN or infinity gets
// d = NaN and zero codes, so that the products it enters come out NaN, as on the CPU, instead of
// the NaN vanishing (fmaxf skips NaN; converting NaN to int is undefined).
OLLM_HD void quantize_act_group(const float* x, int32_t* q, float* d, int32_t* sums) {
  float amax = 0.0f;
  bool finite = true;
  for (int j = 0; j < 32; ++j) {
    const float a = fabsf(x[j]);
    finite = finite && a <= 3.402823466e38f;  // false for NaN and inf
    amax = fmaxf(amax, a);
  }
  const float dd = finite ? amax / 127.0f : __builtin_nanf("");
  const float id = finite && dd != 0.0f ? 1.0f / dd : 0.0f;
  int s0 = 0, s1 = 0;
  for (int i = 0; i < 8; ++i) {
    uint32_t w = 0;
    for (int b = 0; b < 4; ++b) {
      const int v = finite ? static_cast<int>(roundf(x[4 * i + b] * id)) : 0;
      (i < 4 ? s0 : s1) += v;
      w |= (static_cast<uint32_t>(v) & 0xffu) << (8 * b);
    }
    q[i] = static_cast<int32_t>(w);
  }
  *d = dd;
  *sums = static_cast<int32_t>((static_cast<uint32_t>(s0) & 0xffffu) | (static_cast<uint32_t>(s1) << 16));
}

// a·b + c over four signed byte lanes (__dp4a on the device, the same sum on the host).
OLLM_HD int32_t dot4(int32_t a, int32_t b, int32_t c) {
#if defined(__CUDA_ARCH__)
  return __dp4a(a, b, c);
#else
  for (int i = 0; i < 4; ++i)
    c += static_cast<int8_t>(static_cast<uint32_t>(a) >> (8 * i)) * static_cast<int8_t>(static_cast<uint32_t>(b) >> (8 * i));
  return c;
#endif
}

// One decoded weight group against one quantized activation group (xq: [8] packed codes, xd its
// scale, xs its packed half sums): sum_j value_j * xd * xcode_j in f32, with integer inner sums:
//   xd * (d0 * Σ_{j<16} q_j xq_j + d1 * Σ_{j>=16} q_j xq_j) + xd * (m0 * Σ_{j<16} xq_j + m1 * Σ_{j>=16} xq_j).
template <bool HasMin>
OLLM_HD float group_dot(const Group32& w, const int32_t* xq, float xd, int32_t xs) {
  int32_t i0 = 0, i1 = 0;
  for (int i = 0; i < 4; ++i) i0 = dot4(w.q[i], xq[i], i0);
  for (int i = 4; i < 8; ++i) i1 = dot4(w.q[i], xq[i], i1);
  float r = w.d[0] * static_cast<float>(i0) + w.d[1] * static_cast<float>(i1);
  if constexpr (HasMin) {
    const int32_t s0 = static_cast<int16_t>(static_cast<uint32_t>(xs) & 0xffffu);
    const int32_t s1 = xs >> 16;
    r += w.m[0] * static_cast<float>(s0) + w.m[1] * static_cast<float>(s1);
  }
  return xd * r;
}

// --- The decode kernel's per-lane work (matmul_decode.cu) -------------------------------------

// Read-only loads of the quantized activations (the device's non-coherent cache path).
OLLM_HD void load_act8(const int32_t* p, int32_t q[8]) {
#if defined(__CUDA_ARCH__)
  const int4* xp = reinterpret_cast<const int4*>(p);  // 16-byte aligned: see quantize_act.cuh
  const int4 lo = __ldg(xp), hi = __ldg(xp + 1);
  q[0] = lo.x; q[1] = lo.y; q[2] = lo.z; q[3] = lo.w;
  q[4] = hi.x; q[5] = hi.y; q[6] = hi.z; q[7] = hi.w;
#else
  std::memcpy(q, p, 32);
#endif
}
template <class V>
OLLM_HD V load_ro(const V* p) {
#if defined(__CUDA_ARCH__)
  return __ldg(p);
#else
  return *p;
#endif
}

// Lane `lane` (0..31) of the warp that owns weight row `wr` (groups = k/32 groups): groups lane,
// lane + 32, ... of the row, each decoded once and dotted against the same group of the m <= MT
// activation rows (xq: [m, groups, 8], xd / xs: [m, groups]); acc[r] += that lane's share of
// row r's result. The warp sum of acc over its 32 lanes is y[r, row].
template <uint32_t T, int MT>
OLLM_HD void decode_lane_partial(const uint8_t* wr, int lane, int64_t groups, const int32_t* xq, const float* xd,
                                 const int32_t* xs, int m, float* acc) {
  constexpr bool has_min = QuantTraits<T>::has_min;
  for (int64_t g = lane; g < groups; g += 32) {
    Group32 grp;
    decode_group<T>(wr, g, grp);
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (int r = 0; r < MT; ++r) {
      if (MT == 1 || r < m) {
        const int64_t ag = r * groups + g;
        int32_t q[8];
        load_act8(xq + ag * 8, q);
        acc[r] += group_dot<has_min>(grp, q, load_ro(xd + ag), has_min ? load_ro(xs + ag) : 0);
      }
    }
  }
}

}  // namespace ollm_cuda
