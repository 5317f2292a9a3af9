// Internal layout of the int8 prefill GEMM (gemm.cpp routes here): activation rows quantized to
// int8 tiles of gemm_mr rows, weight panels of gemm_nr rows decoded on the fly into unsigned codes
// in the vpdpbusd layout, and the per-ISA kernels that make and consume them.
//
// Arithmetic: a weight element is  scale * (code - bias)  or  scale * code + min  with an unsigned
// code (0..255) and one scale (and min) per `sub` elements; an activation element is
// d_a * q with q in [-127, 127] and one d_a per 256 elements (a "group"). Then per sub-block
//   sum_k w*x = d_a * (scale * (sum_k code*q - bias * sum_k q) + min * sum_k q)
// so the kernel accumulates code*q with vpdpbusd (unsigned weights × signed activations), starts
// the int32 accumulator at -bias*sum(q) (precomputed per activation sub-block) and folds scale and
// min in float after each sub-block; d_a is applied once per group. The K-quants' mins are
// -dmin * m with a small integer m per sub-block and one dmin per 256 elements: their min term
// is summed exactly in integers (vpdpwssd of m against sum(q), two sub-blocks per lane) and
// scaled once per group, half the multiplies of a float min per sub-block.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "cpu/isa_variant.hpp"
#include "cpu/weight_matrix.hpp"
#include "ollm/types.hpp"

namespace ollm::cpu {

inline constexpr int gemm_mr = 6;       // activation rows per register tile
inline constexpr int gemm_nr = 32;      // output columns (weight rows) per packed panel
inline constexpr int gemm_group = 256;  // activation elements per int8 scale (K-quant formats; legacy: 32)
inline constexpr int gemm_block = 32;   // elements per packed weight block (8 vpdpbusd steps)
inline constexpr int gemm_panel_group = 2;  // panels packed together and run over each activation tile

// How a weight type maps onto the int8 kernel; unit == 0 means not supported.
struct Int8Format {
  int unit = 0;          // elements one decode call handles: 32 (legacy blocks) or 256 (K-quants)
  int sub = 32;          // elements per weight scale: 16 or 32
  int bias = 0;          // value = scale * (code - bias); 0 for types with a min
  bool has_min = false;  // value = scale * code + min, a float min per sub-block (Q4_1, Q5_1)
  bool int_min = false;  // value = scale * code - dmin * m, integer m per sub-block (K-quants)
};

constexpr Int8Format int8_format(DType type) noexcept {
  switch (type) {
    case DType::q8_0: return {32, 32, 128, false, false};
    case DType::q4_0: return {32, 32, 8, false, false};
    case DType::q4_1: return {32, 32, 0, true, false};
    case DType::q5_0: return {32, 32, 16, false, false};
    case DType::q5_1: return {32, 32, 0, true, false};
    case DType::iq4_nl: return {32, 32, 128, false, false};
    case DType::q2_k: return {256, 16, 0, false, true};
    case DType::q3_k: return {256, 16, 4, false, false};
    case DType::q4_k: return {256, 32, 0, false, true};
    case DType::q5_k: return {256, 32, 0, false, true};
    case DType::q6_k: return {256, 16, 32, false, false};
    case DType::iq4_xs: return {256, 32, 128, false, false};
    default: return {};
  }
}

// Bytes of one packed 32-element block of a panel: codes [8 steps][2 halves][16 columns][4 k]
// (1024 bytes: one zmm per half per step), then per sub-block gemm_nr f32 scales, then (float
// mins) per sub-block gemm_nr f32 mins.
constexpr size_t int8_block_bytes(const Int8Format& f) noexcept {
  const size_t subs = static_cast<size_t>(gemm_block / f.sub);
  return static_cast<size_t>(gemm_block) * gemm_nr + subs * gemm_nr * 4 * (f.has_min ? 2 : 1);
}

// Integer mins: after each unit's blocks, gemm_nr f32 -dmin, then the unit's m as int16 pairs of
// sub-blocks, [unit/sub/2][gemm_nr][2].
constexpr size_t int8_unit_tail_bytes(const Int8Format& f) noexcept {
  return f.int_min ? gemm_nr * 4 + static_cast<size_t>(f.unit / f.sub / 2) * gemm_nr * 4 : 0;
}

// Bytes of a panel of kc elements (whole units) and the offset of its block b.
constexpr size_t int8_panel_bytes(const Int8Format& f, int64_t kc) noexcept {
  return static_cast<size_t>(kc / gemm_block) * int8_block_bytes(f) +
         static_cast<size_t>(kc / f.unit) * int8_unit_tail_bytes(f);
}
constexpr size_t int8_block_offset(const Int8Format& f, int64_t b) noexcept {
  return static_cast<size_t>(b) * int8_block_bytes(f) +
         static_cast<size_t>(b / (f.unit / gemm_block)) * int8_unit_tail_bytes(f);
}
// Offset of unit u's tail (integer mins).
constexpr size_t int8_tail_offset(const Int8Format& f, int64_t u) noexcept {
  return int8_block_offset(f, (u + 1) * (f.unit / gemm_block)) - int8_unit_tail_bytes(f);
}

// Quantized activations for rows [0, tiles * gemm_mr), tile-major; rows past m are zeros.
// Per tile t (k elements per row, k a multiple of 32):
//   q     + t*mr*k           [k/4][mr][4] int8   (4 consecutive k of one row = one broadcast)
//   corr  + t*mr*(k/sub)     [k/sub][mr] int32  -bias * sum(q) over each weight sub-block
//   qsum  + t*mr*(k/sub)     [k/sub][mr] f32     sum(q) (for float mins)
//   qsum16 + t*mr*(k/sub)    [k/sub/2][mr][2] int16  sum(q) of sub-block pairs (integer mins)
//   scale + t*mr*groups      [groups][mr] f32    d_a per `group` elements (NaN if the group had a
//                                                NaN or infinity, so the outputs become NaN)
struct ActTiles {
  int8_t* q = nullptr;
  int32_t* corr = nullptr;
  float* qsum = nullptr;
  int16_t* qsum16 = nullptr;
  float* scale = nullptr;
  int64_t k = 0;
  int sub = 32;
  int bias = 0;
  // Activation elements per scale: the weight format's decode unit, 32 for the legacy formats
  // and 256 for K-quants, exactly as the decode path quantizes them (matmul.hpp), so a row gives
  // the same values whichever path a batch sends it through.
  int group = gemm_group;
  bool f16_scales = false;  // scales rounded to fp16 (WeightMatrix::f16_act_scales; group 32 only)
};

// Hands out the panels of one GEMM to whichever thread asks next, so a thread that is descheduled
// (a busy machine) or starts late takes fewer panels instead of making the others wait for it.
struct PanelQueue {
  std::atomic<int64_t> next{0};
  int64_t end = 0;
  int64_t take() noexcept {
    const int64_t p = next.fetch_add(1, std::memory_order_relaxed);
    return p < end ? p : -1;
  }
};

constexpr int64_t gemm_groups(int64_t k, int group = gemm_group) noexcept { return (k + group - 1) / group; }

}  // namespace ollm::cpu

// x: [m, k] f32 (row stride x_stride) · fills tiles [tile_begin, tile_end) of `a` (a.k == k).
OLLM_DECLARE_ISA_KERNEL(void gemm_quantize_tiles(const float* x, int64_t x_stride, int64_t m,
                                                 int64_t tile_begin, int64_t tile_end,
                                                 const ollm::cpu::ActTiles& a))

// Decodes weight rows [col0, col0 + gemm_nr) (rows past w.n_rows contribute zeros), elements
// [k0, k0 + kc), into one panel of int8_panel_bytes(f, kc) (64-byte aligned). k0 and kc are
// whole decode units of the type.
OLLM_DECLARE_ISA_KERNEL(void gemm_pack_panel(const ollm::cpu::WeightMatrix& w,
                                             const ollm::cpu::Int8Format& f, int64_t col0,
                                             int64_t k0, int64_t kc, uint8_t* panel))

// For the groups of gemm_panel_group panels (of gemm_nr columns each) this thread takes from
// `groups` until it is empty: packs the group's weight rows into `scratch` (gemm_panel_group *
// int8_panel_bytes(f, kc) bytes, 64-byte aligned) kc elements of k at a time and runs the
// register tile over every activation tile for each chunk. kc is a multiple of 256 (the last
// chunk takes the rest of k).
OLLM_DECLARE_ISA_KERNEL(void gemm_int8_panels(const ollm::cpu::WeightMatrix& w,
                                              const ollm::cpu::Int8Format& f,
                                              const ollm::cpu::ActTiles& a, int64_t m,
                                              ollm::cpu::PanelQueue& groups, int64_t kc,
                                              float* y, int64_t y_stride, uint8_t* scratch))
