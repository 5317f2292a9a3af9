// Front-code validation of kernel arguments (ollm issue 14: "shapes are validated once in
// device-agnostic front code; kernels assume valid input"). The public ops (ollm/ops.hpp), the
// model layer and a backend's plan builders call these before any kernel runs; each throws the
// ollm::Error the kernels used to raise, naming the values. Kernels keep a debug-only assert.
#pragma once
#include <cstdint>

#include "cpu/gemm.hpp"
#include "cpu/matmul.hpp"
#include "ollm/ops.hpp"

namespace ollm::backend {

// rot_dims even and in (0, head_dim], a finite positive theta_base, a finite positive factor when
// scaled, original_max_positions > 0 for llama3/yarn. Error(invalid_argument) "[rope] ...".
void validate_rope_params(const RopeParams& p);

// An embedding table of `type` with rows of n elements: a dequantizer exists (Error(unsupported))
// and n is a positive whole number of blocks (Error(invalid_argument)).
void validate_embedding_table(DType type, int64_t n);
// ids: [n_tok], each in [0, vocab). Error(invalid_argument) naming the id, its index and vocab.
void validate_token_ids(const int32_t* ids, int64_t n_tok, int64_t vocab);

// A stacked experts matrix: n_rows is n_experts blocks of equal size (n_experts > 0).
void validate_experts(int64_t n_rows, int64_t n_experts);
// ids: [m, n_sel], each in [0, n_experts). Error(invalid_argument) naming the id, token and slot.
void validate_expert_ids(const int32_t* ids, int64_t m, int64_t n_sel, int64_t n_experts);

// cpu::gemm_with's preconditions: the path exists for w.type in this build (Error(unsupported)),
// sizes are non-negative with k a whole number of blocks, and the strides hold a row.
void validate_gemm(cpu::GemmPath path, const cpu::WeightMatrix& w, int64_t m, int64_t x_stride, int64_t y_stride);

}  // namespace ollm::backend
