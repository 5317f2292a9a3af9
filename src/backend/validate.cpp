// Front-code validation of kernel arguments: the checks (and messages) the CPU kernels made
// themselves before ollm issue 14, raised once before any kernel runs.
#include "backend/validate.hpp"

#include <cmath>

#include "cpu/dequantize.hpp"
#include "util/fail.hpp"

namespace ollm::backend {

void validate_rope_params(const RopeParams& p) {
  if (p.rot_dims <= 0 || p.rot_dims % 2 != 0 || p.rot_dims > p.head_dim)
    fail(ErrorCode::invalid_argument, "[rope] rot_dims {} must be even and in (0, head_dim {}]", p.rot_dims,
         p.head_dim);
  if (!(p.theta_base > 0.0f) || !std::isfinite(p.theta_base))
    fail(ErrorCode::invalid_argument, "[rope] theta_base {} must be positive", p.theta_base);
  if (p.scaling != RopeScalingType::none && (!(p.factor > 0.0f) || !std::isfinite(p.factor)))
    fail(ErrorCode::invalid_argument, "[rope] scaling factor {} must be positive", p.factor);
  if ((p.scaling == RopeScalingType::llama3 || p.scaling == RopeScalingType::yarn) && p.original_max_positions <= 0)
    fail(ErrorCode::invalid_argument, "[rope] {} scaling needs original_max_positions > 0 (got {})",
         p.scaling == RopeScalingType::llama3 ? "llama3" : "yarn", p.original_max_positions);
}

void validate_embedding_table(DType type, int64_t n) {
  if (!cpu::dequantize_row_fn(type))
    fail(ErrorCode::unsupported, "[embedding] no dequantizer for table type {}", dtype_name(type));
  const auto traits = dtype_traits(type);
  if (n <= 0 || n % traits->block_elements != 0)
    fail(ErrorCode::invalid_argument, "[embedding] row length {} is not a whole number of {}-element {} blocks", n,
         traits->block_elements, traits->name);
}

void validate_token_ids(const int32_t* ids, int64_t n_tok, int64_t vocab) {
  for (int64_t t = 0; t < n_tok; ++t)
    if (ids[t] < 0 || ids[t] >= vocab)
      fail(ErrorCode::invalid_argument, "[embedding] token id {} (at index {}) is outside the vocabulary [0, {})",
           ids[t], t, vocab);
}

void validate_experts(int64_t n_rows, int64_t n_experts) {
  if (n_experts <= 0 || n_rows % n_experts != 0)
    fail(ErrorCode::invalid_argument, "[matmul] experts: {} rows are not {} experts of equal size", n_rows,
         n_experts);
}

void validate_expert_ids(const int32_t* ids, int64_t m, int64_t n_sel, int64_t n_experts) {
  for (int64_t i = 0; i < m * n_sel; ++i)
    if (ids[i] < 0 || ids[i] >= n_experts)
      fail(ErrorCode::invalid_argument, "[matmul] experts: id {} (token {}, slot {}) is outside [0, {})", ids[i],
           i / n_sel, i % n_sel, n_experts);
}

void validate_gemm(cpu::GemmPath path, const cpu::WeightMatrix& w, int64_t m, int64_t x_stride, int64_t y_stride) {
  if (!cpu::gemm_path_available(path, w.type))
    fail(ErrorCode::unsupported, "[gemm] no prefill GEMM for {} weights on this path", dtype_name(w.type));
  const auto traits = dtype_traits(w.type);
  const int64_t n = w.n_rows, k = w.n_cols;
  if (m < 0 || n < 0 || k < 0 || k % traits->block_elements != 0)
    fail(ErrorCode::invalid_argument, "[gemm] bad shape m={} n={} k={} for {} (k must be a multiple of {})", m, n,
         k, traits->name, traits->block_elements);
  if (w.row_stride < dtype_row_bytes(w.type, k) || x_stride < k || y_stride < n)
    fail(ErrorCode::invalid_argument, "[gemm] strides too small: weight row {} bytes < {}, x {} < k={}, y {} < n={}",
         w.row_stride, dtype_row_bytes(w.type, k), x_stride, k, y_stride, n);
}

}  // namespace ollm::backend
