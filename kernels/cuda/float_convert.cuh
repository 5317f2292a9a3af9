// f32 -> f16 / bf16 on the device, bit for bit as the CPU's conversions
// (ollm::cpu::f32_to_fp16 / f32_to_bf16 in kernels/cpu/quant_blocks.hpp): integer code rather
// than __float2half_rn, which would canonicalise NaN payloads. Shared by the element-wise ops and
// the KV cache writer.
#pragma once

#include <cstdint>

namespace ollm_cuda {

// Round to nearest even, overflow to inf; NaN keeps its sign and top payload bits (numpy's
// npy_floatbits_to_halfbits: 0x7c00 + (payload >> 13), bumped to 0x7c01).
__device__ __forceinline__ uint16_t f32_to_fp16_bits(float f) {
  const uint32_t u = __float_as_uint(f);
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
    // Subnormal or zero: the significand in units of 2^-24, rounded.
    if (abs < 0x33000000u) return sign;  // < 2^-25: rounds to zero (2^-25 exactly ties to 0)
    const uint32_t e = abs >> 23;        // 102..112
    const uint32_t m = (abs & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - e;
    uint32_t q = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) ++q;
    return sign | static_cast<uint16_t>(q);  // q == 0x400 carries into the smallest normal
  }
  // Normal: rebias, round the 13 dropped bits to nearest even (a carry into the exponent is
  // the right answer, up to inf).
  uint32_t r = abs - 0x38000000u;
  const uint32_t rem = r & 0x1fffu;
  r >>= 13;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1))) ++r;
  return sign | static_cast<uint16_t>(r);
}

// As ggml_compute_fp32_to_bf16: NaN forced quiet (sign and top payload kept), else nearest even.
__device__ __forceinline__ uint16_t f32_to_bf16_bits(float f) {
  const uint32_t u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 64u);
  return static_cast<uint16_t>((static_cast<uint64_t>(u) + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

}  // namespace ollm_cuda
