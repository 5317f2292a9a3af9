// Prefill GEMM: many activation rows times one weight matrix, compute-bound. Quantized weights run
// on our own int8 VNNI kernels (panels decoded on the fly, no load-time copy); F32/F16/BF16 run on
// oneDNN or our own float kernels, whichever measured faster (docs/BENCHMARKS.md, "Prefill GEMM").
#pragma once

#include <cstdint>

#include "cpu/isa.hpp"
#include "cpu/thread_pool.hpp"
#include "cpu/weight_matrix.hpp"
#include "ollm/types.hpp"

namespace ollm::cpu {

// Whether gemm() takes this weight type at this many rows (decided by measurement: below some
// m the decode path wins).
bool gemm_supports(DType type, int64_t m) noexcept;

// x: [m, k] f32 row-major (row stride x_stride floats) · w: [n, k] of w.type, rows as stored in
// the (mmapped, any-alignment) file · y: [m, n] f32 (row stride y_stride). y = x · wᵀ.
// Runs on up to n_threads threads of `pool`. Preconditions (callers validate:
// backend::validate_gemm): a type the path takes, k a whole number of blocks, strides that hold a row.
void gemm(const WeightMatrix& w, const float* x, int64_t m, int64_t x_stride, float* y,
          int64_t y_stride, ThreadPool& pool, int n_threads);

// For tests and benchmarks: one ISA variant and one implementation, whatever gemm() would pick.
enum class GemmPath {
  automatic,      // what gemm() does
  int8,           // own int8 VNNI kernels (quantized types)
  own_float,      // own f32 FMA kernels, exact for F32, F16 and BF16 weights
  own_bf16,       // own vdpbf16ps kernels: BF16 weights, activations rounded to bf16 (AVX512-BF16)
  onednn,         // oneDNN f32 matmul: F32 in place, F16/BF16 converted to f32 chunk by chunk
  onednn_bf16,    // oneDNN bf16 matmul: BF16 weights in place, activations rounded to bf16
  onednn_dequant, // baseline: dequantize weight chunks to f32, then oneDNN f32 (any dequantizable type)
  exact_dequant   // Numerics::exact (WeightMatrix::exact_f32): quantized weight chunks dequantized to
                  // f32, then an f32 GEMM (oneDNN's when built with it, else ours); what gemm() picks
                  // for quantized weights when exact_f32 is set
};
// Whether gemm() may round activations to bf16 for BF16 weights (2× the FMA rate, ~0.1 % more
// error): only when the environment sets OLLM_BF16_ACTIVATIONS=1, read once.
bool gemm_bf16_activations_enabled() noexcept;
// Whether `path` can run `type` in this build on this CPU.
bool gemm_path_available(GemmPath path, DType type) noexcept;
void gemm_with(Isa isa, GemmPath path, const WeightMatrix& w, const float* x, int64_t m,
               int64_t x_stride, float* y, int64_t y_stride, ThreadPool& pool, int n_threads);

}  // namespace ollm::cpu
