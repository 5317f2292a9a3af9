// Quantized matmul for decode (few activation rows) over weights as stored in a GGUF file, and the
// grouped mixture-of-experts matmul. Weights are read in place (mapped file, any row alignment).
#pragma once

#include <cstdint>

#include "cpu/isa.hpp"
#include "cpu/thread_pool.hpp"
#include "cpu/weight_matrix.hpp"
#include "ollm/types.hpp"

namespace ollm::cpu {

// Whether matmul() can take this weight type (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K,
// Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS).
bool matmul_supports(DType type) noexcept;

// x: [m, k] f32 row-major, row stride x_stride floats · w: [n, k] of w.type, blocks along k ·
// y: [m, n] f32, row stride y_stride floats. y = x · wᵀ. Any m; small m (decode) streams every
// weight byte once; for large m the prefill GEMM (cpu/gemm.hpp) runs when it takes the type.
// Preconditions (callers validate): matmul_supports(w.type), k a whole number of blocks.
void matmul(const WeightMatrix& w, const float* x, int64_t m, int64_t x_stride, float* y,
            int64_t y_stride, ThreadPool& pool, int n_threads);

// Several weight matrices over the same activation rows (q, k, v; gate, up): ws[i]: [n_i, k] ·
// x: [m, k] (row stride x_stride) · ys[i]: [m, n_i] contiguous. The same results as one matmul()
// per matrix, bit for bit; for decode-sized m the matrices whose types share an activation format
// are quantized for once and run in one pass over the pool (one hand-off instead of several).
void matmul_shared_input(const WeightMatrix* ws, float* const* ys, size_t count, const float* x, int64_t m,
                         int64_t x_stride, ThreadPool& pool, int n_threads);

// Mixture of experts. experts: [n_experts, n, k] (n_rows = n_experts * n; expert e's rows at
// e*n ..) · x: [m, k], row stride x_stride · expert_ids: [m, n_sel] int32 in [0, n_experts) ·
// y: [m, n_sel, n] f32 contiguous. Only the selected experts' rows are read; the activation rows
// are grouped by expert so each selected expert's weights stream once per call (an expert chosen
// by many rows, as in prefill, runs on the prefill GEMM when gemm_supports() takes that count).
// Preconditions (callers validate: backend::validate_experts, validate_expert_ids; a type
// matmul_supports takes).
void matmul_experts(const WeightMatrix& experts, int64_t n_experts, const float* x, int64_t m,
                    int64_t x_stride, const int32_t* expert_ids, int64_t n_sel, float* y,
                    ThreadPool& pool, int n_threads);

// The decode path on one named ISA variant (tests and benchmarks cover every variant with these;
// the isa must be supported). matmul() is the GEMM route plus decode_matmul(selected_isa(), ...).
void decode_matmul(Isa isa, const WeightMatrix& w, const float* x, int64_t m, int64_t x_stride, float* y,
                   int64_t y_stride, ThreadPool& pool, int n_threads);
void decode_matmul_experts(Isa isa, const WeightMatrix& experts, int64_t n_experts, const float* x, int64_t m,
                           int64_t x_stride, const int32_t* expert_ids, int64_t n_sel, float* y,
                           ThreadPool& pool, int n_threads);

}  // namespace ollm::cpu
