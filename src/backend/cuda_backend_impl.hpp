// The CUDA backend's op set (cuda_backend.cpp) and matmul dispatch (cuda_matmul.cpp): one stream
// and one cuBLAS handle per backend, a memory pool per backend (so that a block freed by one op
// and handed to the next is ordered by the stream), and the step's indices in one upload.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "backend/cuda_device_impl.hpp"
#include "backend/cuda_memory.hpp"
#include "cuda/attention.cuh"

namespace ollm::backend {

class CudaBackend final : public Backend {
 public:
  CudaBackend(const CudaDevice& device, const BackendOptions& options);
  ~CudaBackend() override;

  const Device& device() const noexcept override { return device_; }
  Numerics numerics() const noexcept override { return numerics_; }

  std::unique_ptr<Buffer> allocate(size_t bytes) override;
  std::unique_ptr<KvStorage> create_kv_storage(const KvLayout& layout) override;
  void upload(const void* host_src, void* device_dst, size_t bytes) override;
  void download(const void* device_src, void* host_dst, size_t bytes) override;
  const DeviceStep& upload_step(const StepIndices& indices) override;

  void embedding(const Weight& table, const int32_t* ids, int64_t n_tok, float* out) override;
  void rms_norm(const float* x, const Vector& w, float* y, int64_t rows, int64_t n, float eps) override;
  void layer_norm(const float* x, const Vector& w, const Vector& b, float* y, int64_t rows, int64_t n,
                  float eps) override;
  void matmul(const Weight& w, const float* x, int64_t m, float* y) override;
  void matmul_shared_input(std::span<const Weight* const> ws, std::span<float* const> ys, const float* x,
                           int64_t m) override;
  void matmul_experts(const Weight& experts, int64_t n_experts, const float* x, int64_t m, const int32_t* expert_ids,
                      int64_t n_sel, float* y) override;
  std::unique_ptr<RopePlan> make_rope(const RopeParams& params, std::span<const float> freq_divisors) override;
  void rope(const RopePlan& plan, float* x, int64_t n_tok, int n_heads, const int32_t* pos) override;
  void kv_append(KvStorage& kv, int64_t layer, const float* k, const float* v, int64_t n_rows,
                 const int32_t* slots) override;
  void attention(KvStorage& kv, int64_t layer, const AttentionParams& p, const DeviceStep& step, const float* q,
                 float* out) override;
  void gated_activation(Activation act, const float* gate, const float* up, float* out, int64_t rows, int64_t n,
                        int64_t gate_stride, int64_t up_stride) override;
  void add(const float* a, const float* b, float* y, int64_t count) override;
  void add_bias(float* y, const Vector& bias, int64_t rows) override;
  void scale(float* x, float s, int64_t count) override;
  void softcap(float* x, float cap, int64_t count) override;
  void router_top_k(float* logits, int64_t rows, int64_t n_experts, int64_t k, bool renormalize, int32_t* ids,
                    float* weights) override;
  void expert_combine(const float* expert_out, const float* weights, int64_t rows, int64_t k, int64_t n,
                      float* out) override;
  void gather_rows(const float* src, int64_t n, const int32_t* rows, int64_t count, float* dst) override;
  void copy_columns(const float* src, int64_t src_stride, int64_t col0, int64_t cols, float* dst, int64_t dst_stride,
                    int64_t rows) override;

 private:
  // Throws the error of a kernel launch, naming the op.
  void launched(cudaError_t err, std::string_view op) const;
  // Device scratch of at least `bytes`, kept between calls (one per purpose).
  void* scratch(std::unique_ptr<Buffer>& slot, size_t bytes);
  // cuBLAS for float weights and many rows (cuda_matmul.cpp).
  void gemm_float(const Weight& w, const float* x, int64_t m, float* y);

  const CudaDevice& device_;
  Numerics numerics_;
  int dev_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  std::shared_ptr<CudaMemoryPool> pool_;

  // The step: every index array packed into one pinned buffer, copied in one transfer.
  std::unique_ptr<PinnedBuffer> step_host_;
  std::unique_ptr<Buffer> step_device_;
  cudaEvent_t step_copied_ = nullptr;
  DeviceStep step_;
  const ollm_cuda::AttnSequence* step_sequences_ = nullptr;  // device copy of step_.sequences
  int64_t step_max_keys_ = 0;

  std::unique_ptr<Buffer> matmul_scratch_, float_gemm_scratch_, expert_rows_, expert_index_, attention_scratch_;
  std::vector<int32_t> expert_ids_host_;
};

}  // namespace ollm::backend
