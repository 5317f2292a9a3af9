// Internal layout of the own float prefill GEMM (F32, F16 and BF16 weights): activation rows
// packed into tiles of gemm_mr_float rows, weight panels of gemm_nr rows converted on the fly —
// to f32 for FMA, or kept as bf16 pairs for vdpbf16ps when the CPU has AVX512-BF16.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu/gemm_int8.hpp"
#include "cpu/isa.hpp"
#include "cpu/isa_variant.hpp"
#include "cpu/weight_matrix.hpp"

namespace ollm::cpu {

inline constexpr int gemm_mr_float = 12;  // activation rows per register tile (24 zmm accumulators)

// Weight panel: [kc][gemm_nr] f32, or [kc/2][gemm_nr][2] bf16 (kc even).
constexpr size_t gemm_f32_panel_bytes(int64_t kc) noexcept { return static_cast<size_t>(kc) * gemm_nr * 4; }
constexpr size_t gemm_bf16_panel_bytes(int64_t kc) noexcept { return static_cast<size_t>(kc) * gemm_nr * 2; }

// Whether BF16 weights can use vdpbf16ps with this ISA variant on this CPU.
bool gemm_bf16_dot_available(Isa isa) noexcept;

}  // namespace ollm::cpu

// x: [m, k] f32 (stride x_stride) · xt: tiles [tile_begin, tile_end) of [k][gemm_mr_float] f32,
// tile t at xt + t * k * gemm_mr_float; rows past m are zeros.
OLLM_DECLARE_ISA_KERNEL(void gemm_pack_rows_f32(const float* x, int64_t x_stride, int64_t m,
                                                int64_t k, int64_t tile_begin, int64_t tile_end,
                                                float* xt))

// w: [n, k] F32/F16/BF16 · xt: packed activations of m rows · y[:m, panel columns] = x · wᵀ
// for the panels of gemm_nr columns taken from `panels`; scratch: gemm_f32_panel_bytes(kc_max).
OLLM_DECLARE_ISA_KERNEL(void gemm_f32_panels(const ollm::cpu::WeightMatrix& w, const float* xt,
                                             int64_t m, ollm::cpu::PanelQueue& panels,
                                             int64_t kc_max, float* y, int64_t y_stride,
                                             float* scratch))

// w: [n, k] F32/F16/BF16 · out: rows [r0, r1) of w as f32, [r1 - r0][k] (for oneDNN, which has
// no f16 matmul on CPUs without AVX512-FP16).
OLLM_DECLARE_ISA_KERNEL(void gemm_weight_rows_f32(const ollm::cpu::WeightMatrix& w, int64_t r0,
                                                  int64_t r1, float* out))

// x: [rows, k] f32 (stride x_stride) · out: [rows, k] bf16 (stride out_stride), rounded to
// nearest even like f32_to_bf16 (NaN stays NaN).
OLLM_DECLARE_ISA_KERNEL(void gemm_rows_to_bf16(const float* x, int64_t x_stride, int64_t rows,
                                               int64_t k, uint16_t* out, int64_t out_stride))

// Only in the avx512 variant, only for CPUs with AVX512-BF16 (gemm_bf16_dot_available).
namespace ollm::cpu::avx512 {
// x: [m, k] f32 · xb: tiles of [kp/2][gemm_mr_float][2] bf16 (kp = k rounded up to even; the pad
// element and rows past m are zeros), tile t at xb + t * kp * gemm_mr_float.
void gemm_pack_rows_bf16(const float* x, int64_t x_stride, int64_t m, int64_t k,
                         int64_t tile_begin, int64_t tile_end, uint16_t* xb);
// w: [n, k] BF16 · xb as above · scratch: gemm_bf16_panel_bytes(kc_max); kc_max even.
void gemm_bf16_panels(const ollm::cpu::WeightMatrix& w, const uint16_t* xb, int64_t m,
                      ollm::cpu::PanelQueue& panels, int64_t kc_max, float* y, int64_t y_stride,
                      uint16_t* scratch);
}  // namespace ollm::cpu::avx512
