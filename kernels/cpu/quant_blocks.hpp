// The GGUF/ggml quantized block layouts, byte for byte, and the half-precision conversions
// (fp16 and bf16) whose rounding and NaN behaviour match numpy and the gguf package.
#pragma once

#include <cstdint>
#include <cstring>

namespace ollm::cpu {

inline constexpr int qk_legacy = 32;  // elements per block of Q4_0..Q8_1 and IQ4_NL
inline constexpr int qk_k = 256;      // elements per super-block of the K-quants and IQ4_XS
inline constexpr int k_scale_size = 12;

// Every struct is packed to alignment 1: blocks sit at any byte offset inside a mapped file
// (a Q4_0 block is 18 bytes), so fields must be read with memcpy-safe accesses.
#pragma pack(push, 1)

struct block_q4_0 {
  uint16_t d;              // fp16 scale
  uint8_t qs[qk_legacy / 2];  // element j in the low nibble of qs[j], element j+16 in the high nibble
};
struct block_q4_1 {
  uint16_t d, m;           // fp16 scale and minimum
  uint8_t qs[qk_legacy / 2];
};
struct block_q5_0 {
  uint16_t d;
  uint8_t qh[4];           // little-endian u32: bit j is the 5th bit of element j
  uint8_t qs[qk_legacy / 2];
};
struct block_q5_1 {
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[qk_legacy / 2];
};
struct block_q8_0 {
  uint16_t d;
  int8_t qs[qk_legacy];
};
struct block_q8_1 {
  uint16_t d, s;           // fp16 scale and fp16 of d * sum(qs)
  int8_t qs[qk_legacy];
};
struct block_q2_K {
  uint8_t scales[qk_k / 16];  // low nibble: scale, high nibble: min, per 16 elements
  uint8_t qs[qk_k / 4];       // 2-bit codes
  uint16_t d, dmin;
};
struct block_q3_K {
  uint8_t hmask[qk_k / 8];    // high bit of each code (set means +0, clear means -4)
  uint8_t qs[qk_k / 4];       // low 2 bits
  uint8_t scales[12];         // sixteen 6-bit scales, packed
  uint16_t d;
};
struct block_q4_K {
  uint16_t d, dmin;
  uint8_t scales[k_scale_size];  // eight 6-bit scales and eight 6-bit mins, packed
  uint8_t qs[qk_k / 2];
};
struct block_q5_K {
  uint16_t d, dmin;
  uint8_t scales[k_scale_size];
  uint8_t qh[qk_k / 8];
  uint8_t qs[qk_k / 2];
};
struct block_q6_K {
  uint8_t ql[qk_k / 2];       // low 4 bits
  uint8_t qh[qk_k / 4];       // high 2 bits
  int8_t scales[qk_k / 16];
  uint16_t d;
};
struct block_q8_K {
  float d;                    // f32 scale (the only block with a full-precision scale)
  int8_t qs[qk_k];
  int16_t bsums[qk_k / 16];   // sums of qs in groups of 16, for the K-quant dot products
};
struct block_iq4_nl {
  uint16_t d;
  uint8_t qs[qk_legacy / 2];  // indices into iq4nl_values
};
struct block_iq4_xs {
  uint16_t d;
  uint16_t scales_h;          // high 2 bits of eight 6-bit scales
  uint8_t scales_l[qk_k / 64];// low 4 bits of eight 6-bit scales
  uint8_t qs[qk_k / 2];
};

#pragma pack(pop)

static_assert(sizeof(block_q4_0) == 18);
static_assert(sizeof(block_q4_1) == 20);
static_assert(sizeof(block_q5_0) == 22);
static_assert(sizeof(block_q5_1) == 24);
static_assert(sizeof(block_q8_0) == 34);
static_assert(sizeof(block_q8_1) == 36);
static_assert(sizeof(block_q2_K) == 2 + 2 + qk_k / 16 + qk_k / 4);
static_assert(sizeof(block_q3_K) == 2 + qk_k / 4 + qk_k / 8 + 12);
static_assert(sizeof(block_q4_K) == 144);
static_assert(sizeof(block_q5_K) == 176);
static_assert(sizeof(block_q6_K) == 210);
static_assert(sizeof(block_q8_K) == 292);
static_assert(sizeof(block_iq4_nl) == 18);
static_assert(sizeof(block_iq4_xs) == 136);

// The 16 non-linear levels of IQ4_NL / IQ4_XS (ggml's kvalues_iq4nl).
inline constexpr int8_t iq4nl_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// fp16 -> f32, exact. NaN payloads are kept (not quieted), as numpy's half->float cast does;
// the F16C instruction would quiet them, which is why this stays in software.
inline float fp16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t em = h & 0x7fffu;
  if (em >= 0x7c00u) return f32_from_bits(sign | 0x7f800000u | ((em & 0x3ffu) << 13));  // inf, NaN
  if (em >= 0x0400u) return f32_from_bits(sign | ((em << 13) + 0x38000000u));            // normal
  // Subnormal or zero: em * 2^-24 is exact in f32.
  return f32_from_bits(sign | f32_bits(static_cast<float>(em) * 0x1p-24f));
}

// f32 -> fp16, round to nearest even, overflow to inf. NaN keeps its sign and top payload bits
// and stays NaN (numpy's npy_floatbits_to_halfbits: 0x7c00 + (payload >> 13), bumped to 0x7c01).
inline uint16_t f32_to_fp16(float f) {
  const uint32_t u = f32_bits(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t abs = u & 0x7fffffffu;
  if (abs >= 0x7f800000u) {
    if (abs == 0x7f800000u) return sign | 0x7c00u;
    uint16_t nan = static_cast<uint16_t>(0x7c00u + ((abs & 0x7fffffu) >> 13));
    if (nan == 0x7c00u) nan = 0x7c01u;
    return sign | nan;
  }
  if (abs >= 0x47800000u) return sign | 0x7c00u;  // >= 65536: inf whatever the rounding
  if (abs < 0x38800000u) {
    // Result is subnormal or zero: scale the significand to units of 2^-24 and round.
    if (abs < 0x33000000u) return sign;  // < 2^-25: rounds to zero (2^-25 exactly ties to 0)
    const uint32_t e = abs >> 23;  // 102..112
    const uint32_t m = (abs & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - e;  // value = m * 2^(e-150) = (m >> shift) units of 2^-24
    uint32_t q = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) ++q;
    return sign | static_cast<uint16_t>(q);  // q == 0x400 carries into the smallest normal
  }
  // Normal: rebias the exponent, round the 13 dropped bits to nearest even (a carry into the
  // exponent is the right answer, up to inf).
  uint32_t r = abs - 0x38000000u;
  const uint32_t rem = r & 0x1fffu;
  r >>= 13;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1))) ++r;
  return sign | static_cast<uint16_t>(r);
}

inline float bf16_to_f32(uint16_t h) { return f32_from_bits(static_cast<uint32_t>(h) << 16); }

// f32 -> bf16 as ggml_compute_fp32_to_bf16 and gguf.quants.BF16: NaN is forced quiet (keeping
// the sign and top payload), everything else rounds to nearest even.
inline uint16_t f32_to_bf16(float f) {
  uint32_t u = f32_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 64u);
  return static_cast<uint16_t>((static_cast<uint64_t>(u) + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// Unaligned little-endian loads/stores of the fp16 and u32 fields (x86 and every target we
// build for is little-endian, like the file format).
inline uint16_t load_u16(const void* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline uint32_t load_u32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace ollm::cpu
