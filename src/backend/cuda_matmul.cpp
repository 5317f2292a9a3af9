// The CUDA backend's matmuls: which kernel runs a weight type and row count.
//   quantized weights, standard numerics: decode_matmul (kernels/cuda/matmul_quant.cuh): dp4a on
//     8-bit activations for m <= 16 rows, f16 tile dequantization + cuBLAS for more;
//   F32/F16/BF16 weights, m <= 16: matmul_f32acc, f32 activations and arithmetic (the decode
//     path is bandwidth-bound, so converting nothing costs nothing);
//   F32/F16/BF16 weights, m > 16: cuBLAS (SGEMM in f32; F16 and BF16 on tensor cores, with the
//     activations rounded to the weights' type, F16 with a power-of-two row scale against
//     overflow);
//   Numerics::exact: matmul_f32acc for every type and row count (weights decoded to their exact
//     f32 values, as the CPU's exact path).
// Mixture-of-experts matmuls group the step's (row, expert) pairs by expert on the host, gather
// each expert's rows, run one matmul per expert on its slice of the stacked weights and scatter
// the results back.
#include <algorithm>

#include "backend/cuda_backend_impl.hpp"
#include "backend/cuda_support.hpp"
#include "backend/expert_groups.hpp"
#include "cuda/elementwise.cuh"
#include "cuda/matmul_f32acc.cuh"
#include "cuda/matmul_quant.cuh"
#include "cuda/quantize_act.cuh"
#include "util/fail.hpp"

namespace ollm::backend {
namespace {

// Rows up to which float weights take the f32-accumulating kernel rather than cuBLAS.
constexpr int64_t decode_rows = 16;

bool float_type(DType t) { return t == DType::f32 || t == DType::f16 || t == DType::bf16; }

}  // namespace

void CudaBackend::matmul(const Weight& w, const float* x, int64_t m, float* y) {
  if (m <= 0 || w.n_rows == 0) return;
  const uint32_t type = ggml_id(w.type);
  if (numerics_ == Numerics::exact || (float_type(w.type) && m <= decode_rows)) {
    launched(ollm_cuda::launch_matmul_f32acc(type, w.data, w.n_rows, w.n_cols, w.row_stride, x, m, y, stream_),
             "matmul (f32 arithmetic)");
    return;
  }
  if (float_type(w.type)) {
    gemm_float(w, x, m, y);
    return;
  }
  const size_t bytes = ollm_cuda::decode_matmul_scratch_bytes(m, w.n_cols);
  void* s = scratch(matmul_scratch_, bytes);
  launched(ollm_cuda::decode_matmul(type, w.data, w.n_rows, w.n_cols, w.row_stride, x, m, y, s, matmul_scratch_->size(),
                                    stream_),
           "matmul (quantized)");
}

// Row-major y[m, n] = x[m, k] · w[n, k]ᵀ is, in cuBLAS's column-major terms, yᵀ (n x m, ld n) =
// op_T(w as k x n, ld row_stride / element) · xᵀ (k x m, ld k).
void CudaBackend::gemm_float(const Weight& w, const float* x, int64_t m, float* y) {
  const int64_t n = w.n_rows, k = w.n_cols;
  const float one = 1.0f, zero = 0.0f;
  if (n > INT32_MAX || m > INT32_MAX || k > INT32_MAX)
    fail(ErrorCode::unsupported, "[cuda] a {} x {} x {} matmul is beyond cuBLAS's 32-bit sizes", m, n, k);
  const int in = static_cast<int>(n), im = static_cast<int>(m), ik = static_cast<int>(k);
  if (w.type == DType::f32) {
    const int lda = static_cast<int>(w.row_stride / sizeof(float));
    cublas_check(cublasSgemm(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, in, im, ik, &one, static_cast<const float*>(w.data),
                             lda, x, ik, &zero, y, in),
                 "[cuda] matmul (F32 weights, cuBLAS)");
    return;
  }
  const int lda = static_cast<int>(w.row_stride / 2);
  const size_t x16_bytes = align_up(static_cast<size_t>(m * k) * 2, 256);
  auto* base = static_cast<uint8_t*>(scratch(float_gemm_scratch_, x16_bytes + static_cast<size_t>(m) * 4));
  auto* x16 = reinterpret_cast<uint16_t*>(base);
  auto* row_scale = reinterpret_cast<float*>(base + x16_bytes);
  const bool f16 = w.type == DType::f16;
  if (f16) {
    launched(ollm_cuda::launch_act_to_f16_scaled(x, m, k, x16, row_scale, stream_), "matmul (activations to f16)");
  } else {
    launched(ollm_cuda::launch_f32_to_bf16(x, x16, m * k, stream_), "matmul (activations to bf16)");
  }
  const cudaDataType_t t = f16 ? CUDA_R_16F : CUDA_R_16BF;
  cublas_check(cublasGemmEx(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, in, im, ik, &one, w.data, t, lda, x16, t, ik, &zero, y,
                            CUDA_R_32F, in, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
               f16 ? "[cuda] matmul (F16 weights, cuBLAS)" : "[cuda] matmul (BF16 weights, cuBLAS)");
  if (f16) launched(ollm_cuda::launch_scale_rows(y, m, n, row_scale, stream_), "matmul (row scales)");
}

// Bit-equal to one matmul per matrix: it is one matmul per matrix.
void CudaBackend::matmul_shared_input(std::span<const Weight* const> ws, std::span<float* const> ys, const float* x,
                                      int64_t m) {
  if (ws.size() != ys.size() || ws.empty())
    fail(ErrorCode::internal, "[cuda] matmul_shared_input takes matrices with one output each");
  for (size_t i = 0; i < ws.size(); ++i) matmul(*ws[i], x, m, ys[i]);
}

void CudaBackend::matmul_experts(const Weight& experts, int64_t n_experts, const float* x, int64_t m,
                                 const int32_t* expert_ids, int64_t n_sel, float* y) {
  if (m <= 0) return;
  const int64_t n = experts.n_rows / n_experts, k = experts.n_cols, pairs = m * n_sel;
  // The router's choice is on the device; the grouping needs it here (one small synchronising
  // copy per MoE matmul).
  expert_ids_host_.resize(static_cast<size_t>(pairs));
  download(expert_ids, expert_ids_host_.data(), expert_ids_host_.size() * sizeof(int32_t));
  const ExpertPlan plan = plan_expert_groups(expert_ids_host_, m, n_sel, n_experts);

  auto* index = static_cast<int32_t*>(scratch(expert_index_, static_cast<size_t>(pairs) * 2 * sizeof(int32_t)));
  upload(plan.input_rows.data(), index, static_cast<size_t>(pairs) * sizeof(int32_t));
  upload(plan.output_rows.data(), index + pairs, static_cast<size_t>(pairs) * sizeof(int32_t));
  const size_t xg_bytes = align_up(static_cast<size_t>(pairs * k) * sizeof(float), 256);
  auto* rows = static_cast<uint8_t*>(scratch(expert_rows_, xg_bytes + static_cast<size_t>(pairs * n) * sizeof(float)));
  auto* xg = reinterpret_cast<float*>(rows);
  auto* yg = reinterpret_cast<float*>(rows + xg_bytes);
  launched(ollm_cuda::launch_gather_rows(x, k, index, pairs, xg, stream_), "matmul_experts (gather)");
  for (const ExpertGroup& g : plan.groups) {
    Weight slice = experts;
    slice.data = static_cast<const uint8_t*>(experts.data) + static_cast<size_t>(g.expert) *
                                                                 static_cast<size_t>(n) * experts.row_stride;
    slice.n_rows = n;
    matmul(slice, xg + g.first * k, g.count, yg + g.first * n);
  }
  launched(ollm_cuda::launch_scatter_rows(yg, n, index + pairs, pairs, y, stream_), "matmul_experts (scatter)");
}

}  // namespace ollm::backend
