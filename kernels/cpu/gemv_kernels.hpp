// Internal to the decode matmul: the 8-bit activation formats that the integer dot products read
// (quantized once per call, as ggml's vec_dot_type) and the per-ISA row kernels (matmul.cpp routes).
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu/isa_variant.hpp"
#include "ollm/types.hpp"

namespace ollm::cpu {

// Four consecutive 32-element blocks (128 elements) of one activation row, laid out for the legacy
// weight types (Q4_0..Q8_0, IQ4_NL): a 128-bit lane per block, the block's first 16 elements in
// `lo` and its last 16 in `hi`, so a 512-bit vector of weight codes (4 blocks, low and high
// nibbles) meets its activations in two aligned loads. q = round(x / d), d = max|x| / 127.
struct alignas(64) XqLegacyGroup {
  int8_t lo[64];    // elements 0..15 of block b at lo[16b ..]
  int8_t hi[64];    // elements 16..31 of block b at hi[16b ..]
  int32_t nsum[16]; // -sum(q of block b) at nsum[4b], zero elsewhere: the offset correction
  float d[16];      // block b's scale at d[4b .. 4b+3]
  float s[16];      // d_b * sum(q of block b) at s[4b], zero elsewhere: the min term of Q4_1/Q5_1
};
static_assert(sizeof(XqLegacyGroup) == 320);
inline constexpr int64_t xq_legacy_group_elements = 128;

// One 256-element super-block of an activation row for the K-quants and IQ4_XS (Q8_K-like).
struct alignas(64) XqKBlock {
  int8_t qs[256];     // natural order
  int16_t bsums[16];  // sum of qs in each group of 16
  float d;
  uint8_t pad_[28];
};
static_assert(sizeof(XqKBlock) == 320);

// kquant_nibble_order: XqKBlock with each 128 elements stored as 32-element sub-blocks 0, 2, 1, 3
// (the AVX-512 Q4_K / Q5_K kernels: one load of their packed nibbles then meets two chunks).
enum class ActFormat { f32, legacy, kquant, kquant_nibble_order };

// The row kernels read weights strictly sequentially (a thread's rows are one contiguous range)
// and also prefetch this far ahead: one core streaming Q4_0 alone went from ~31 to ~37 GB/s;
// with both cores busy the gain is within the VM's noise (docs/BENCHMARKS.md, decode matmul).
inline constexpr size_t gemv_prefetch_distance = 16384;

// Bytes of one activation row of k elements in a format (whole groups / super-blocks, padded).
inline size_t act_row_bytes(ActFormat format, int64_t k) {
  switch (format) {
    case ActFormat::legacy: return static_cast<size_t>((k + 127) / 128) * sizeof(XqLegacyGroup);
    case ActFormat::kquant:
    case ActFormat::kquant_nibble_order: return static_cast<size_t>((k + 255) / 256) * sizeof(XqKBlock);
    case ActFormat::f32: break;
  }
  return static_cast<size_t>(k) * sizeof(float);
}

// One row kernel: w: weight rows r in [r_begin, r_end) at w + r * w_stride, each k elements of the
// kernel's type, any byte alignment · x: m activation rows, x[i] in the type's ActFormat (k f32,
// or groups / super-blocks) · y: m output rows; writes y[i][r] = dot(x row i, w row r).
using GemvKernel = void (*)(const uint8_t* w, size_t w_stride, int64_t r_begin, int64_t r_end,
                            int64_t k, const void* const* x, float* const* y, int64_t m);

// Quantizers of one activation row. x: [k] f32 · out: the format's groups, zero-padded past k.
// A block holding a NaN or an infinity gets a NaN scale and zero codes, so results turn NaN.
using ActQuantizer = void (*)(const float* x, int64_t k, void* out);

}  // namespace ollm::cpu

#if defined(OLLM_ISA_NAMESPACE)  // inside the per-ISA kernel sources only
#include <xmmintrin.h>
namespace ollm::cpu::OLLM_ISA_NAMESPACE {
// Prefetches, into L2, the lines that lie gemv_prefetch_distance past the `Bytes` about to be
// read at p.
template <size_t Bytes>
inline void prefetch_ahead(const uint8_t* p) {
  for (size_t o = 0; o < Bytes; o += 64)
    _mm_prefetch(reinterpret_cast<const char*>(p + gemv_prefetch_distance + o), _MM_HINT_T1);
}
}  // namespace ollm::cpu::OLLM_ISA_NAMESPACE
#endif

// x: [k] f32 · out: XqLegacyGroup[ceil(k/128)] (k a multiple of 32)
OLLM_DECLARE_ISA_KERNEL(void quantize_act_legacy(const float* x, int64_t k, void* out))
// x: [k] f32 · out: XqKBlock[k/256] (k a multiple of 256), natural / nibble order
OLLM_DECLARE_ISA_KERNEL(void quantize_act_kquant(const float* x, int64_t k, void* out))
OLLM_DECLARE_ISA_KERNEL(void quantize_act_kquant_nibble_order(const float* x, int64_t k, void* out))
// The row kernel of a weight type in each family, or nullptr when the family lacks the type.
OLLM_DECLARE_ISA_KERNEL(ollm::cpu::GemvKernel gemv_float_kernel(ollm::DType type) noexcept)
OLLM_DECLARE_ISA_KERNEL(ollm::cpu::GemvKernel gemv_legacy_kernel(ollm::DType type) noexcept)
OLLM_DECLARE_ISA_KERNEL(ollm::cpu::GemvKernel gemv_kquant_kernel(ollm::DType type) noexcept)
