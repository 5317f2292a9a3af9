// The CUDA backend's op set: each op launches the kernels/cuda kernel it names on the backend's
// stream. Ops are asynchronous; download() synchronises, so a kernel fault surfaces there (or at
// the next CUDA call) as Error(device_failure). Numerics::exact changes the matmul only (f32
// arithmetic on every weight type, cuda_matmul.cpp); the other kernels are f32 either way.
#include <algorithm>
#include <cstring>

#include "backend/cuda_backend_impl.hpp"
#include "backend/cuda_support.hpp"
#include "backend/validate.hpp"
#include "cpu/ops.hpp"
#include "cuda/elementwise.cuh"
#include "cuda/embedding.cuh"
#include "cuda/kv_cache.cuh"
#include "cuda/norm.cuh"
#include "cuda/rope.cuh"
#include "cuda/router.cuh"
#include "util/fail.hpp"

namespace ollm::backend {
namespace {

class CudaRopePlan final : public RopePlan {
 public:
  std::unique_ptr<Buffer> inv_freq;  // [rot_dims / 2] f32 on the device
  int head_dim = 0, rot_dims = 0;
  bool neox = true;
  float mscale = 1;
};

}  // namespace

CudaBackend::CudaBackend(const CudaDevice& device, const BackendOptions& options)
    : device_(device), numerics_(options.numerics), dev_(device.index()) {
  cuda_use_device(dev_);
  pool_ = std::make_shared<CudaMemoryPool>(dev_);
  cuda_check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "[cuda] creating the engine's stream");
  try {
    cuda_check(cudaEventCreateWithFlags(&step_copied_, cudaEventDisableTiming), "[cuda] creating an event");
    cublas_check(cublasCreate(&cublas_), "[cuda] creating the cuBLAS handle");
    cublas_check(cublasSetStream(cublas_, stream_), "[cuda] binding cuBLAS to the stream");
    // Plain f32 GEMMs stay f32 (no TF32): the F32 weight path promises f32 rounding.
    cublas_check(cublasSetMathMode(cublas_, CUBLAS_DEFAULT_MATH), "[cuda] cuBLAS math mode");
  } catch (...) {
    if (cublas_) (void)cublasDestroy(cublas_);
    if (step_copied_) (void)cudaEventDestroy(step_copied_);
    (void)cudaStreamDestroy(stream_);
    throw;
  }
}

CudaBackend::~CudaBackend() {
  (void)cudaSetDevice(dev_);
  // Nothing queued may outlive the scratch buffers (members, freed into the pool after this body).
  (void)cudaStreamSynchronize(stream_);
  (void)cublasDestroy(cublas_);
  (void)cudaEventDestroy(step_copied_);
  (void)cudaStreamDestroy(stream_);
}

void CudaBackend::launched(cudaError_t err, std::string_view op) const {
  if (err != cudaSuccess) cuda_fail(err, fmt::format("[cuda] {} on {}", op, device_.name()));
}

void* CudaBackend::scratch(std::unique_ptr<Buffer>& slot, size_t bytes) {
  if (!slot || slot->size() < bytes) {
    slot.reset();
    slot = allocate(std::max<size_t>(bytes, 256));
  }
  return slot->data();
}

// --- memory -------------------------------------------------------------------------------------

std::unique_ptr<Buffer> CudaBackend::allocate(size_t bytes) {
  cuda_use_device(dev_);
  return std::make_unique<CudaBuffer>(pool_, bytes);
}

std::unique_ptr<KvStorage> CudaBackend::create_kv_storage(const KvLayout& layout) {
  if (!ollm_cuda::kv_type_supported(ggml_id(layout.type)))
    fail(ErrorCode::unsupported, "[cuda] a KV cache of {} (CUDA stores F32, F16, BF16 or Q8_0)",
         dtype_name(layout.type));
  return std::make_unique<CudaKvStorage>(dev_, layout);
}

void CudaBackend::upload(const void* src, void* dst, size_t bytes) {
  if (bytes == 0) return;
  cuda_use_device(dev_);
  // From pageable memory this returns once the source is staged: the caller may reuse it.
  cuda_check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_), "[cuda] upload");
}

void CudaBackend::download(const void* src, void* dst, size_t bytes) {
  if (bytes == 0) return;
  cuda_use_device(dev_);
  cuda_check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_), "[cuda] download");
  cuda_check(cudaStreamSynchronize(stream_), fmt::format("[cuda] completing the step on {}", device_.name()));
}

const DeviceStep& CudaBackend::upload_step(const StepIndices& in) {
  cuda_use_device(dev_);
  const size_t n_ints = in.tokens.size() + in.positions.size() + in.kv_slots.size() + in.block_table.size() +
                        in.logit_rows.size();
  const size_t seq_offset = align_up(n_ints * sizeof(int32_t), 16);
  const size_t bytes = seq_offset + in.sequences.size() * sizeof(ollm_cuda::AttnSequence);
  // The previous step's copy out of the pinned buffer must be over before it is rewritten.
  cuda_check(cudaEventSynchronize(step_copied_), "[cuda] step upload");
  if (!step_host_ || step_host_->size() < bytes) {
    step_host_.reset();
    step_host_ = std::make_unique<PinnedBuffer>(std::max<size_t>(bytes * 2, 4096));
  }
  uint8_t* const host = step_host_->data();
  void* const device = scratch(step_device_, step_host_->size());
  size_t at = 0;
  auto place = [&](const std::vector<int32_t>& v) {
    std::memcpy(host + at, v.data(), v.size() * sizeof(int32_t));
    const auto* p = reinterpret_cast<const int32_t*>(static_cast<uint8_t*>(device) + at);
    at += v.size() * sizeof(int32_t);
    return p;
  };
  step_.tokens = place(in.tokens);
  step_.positions = place(in.positions);
  step_.kv_slots = place(in.kv_slots);
  step_.block_table = place(in.block_table);
  step_.logit_rows = place(in.logit_rows);
  step_max_keys_ = 0;
  auto* seqs = reinterpret_cast<ollm_cuda::AttnSequence*>(host + seq_offset);
  for (size_t i = 0; i < in.sequences.size(); ++i) {
    const StepSequence& s = in.sequences[i];
    seqs[i] = {s.first_row, s.n_rows, s.n_cached + s.n_rows, s.table_offset};
    step_max_keys_ = std::max(step_max_keys_, s.n_cached + s.n_rows);
  }
  step_sequences_ = reinterpret_cast<const ollm_cuda::AttnSequence*>(static_cast<uint8_t*>(device) + seq_offset);
  cuda_check(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, stream_), "[cuda] step upload");
  cuda_check(cudaEventRecord(step_copied_, stream_), "[cuda] step upload");
  step_.n_rows = static_cast<int64_t>(in.tokens.size());
  step_.n_logit_rows = static_cast<int64_t>(in.logit_rows.size());
  step_.sequences = in.sequences;
  return step_;
}

// --- ops ----------------------------------------------------------------------------------------

void CudaBackend::embedding(const Weight& t, const int32_t* ids, int64_t n_tok, float* out) {
  launched(ollm_cuda::launch_embedding(ggml_id(t.type), t.data, t.row_stride, t.n_cols, ids, n_tok, out, stream_),
           "embedding");
}

void CudaBackend::rms_norm(const float* x, const Vector& w, float* y, int64_t rows, int64_t n, float eps) {
  launched(ollm_cuda::launch_rms_norm(x, w.empty() ? nullptr : w.data, y, rows, n, eps, stream_), "rms_norm");
}

void CudaBackend::layer_norm(const float* x, const Vector& w, const Vector& b, float* y, int64_t rows, int64_t n,
                             float eps) {
  launched(ollm_cuda::launch_layer_norm(x, w.empty() ? nullptr : w.data, b.empty() ? nullptr : b.data, y, rows, n,
                                        eps, stream_),
           "layer_norm");
}

std::unique_ptr<RopePlan> CudaBackend::make_rope(const RopeParams& params, std::span<const float> divisors) {
  RopeParams scaled = params;
  if (!divisors.empty()) scaled.scaling = RopeScalingType::none;  // the divisors are the scaling
  validate_rope_params(scaled);
  // The frequencies are the CPU's, computed on the host once: both devices rotate by the same
  // f32 inverse frequencies.
  cpu::RopeTable table = cpu::make_rope_table(scaled);
  for (size_t i = 0; i < divisors.size() && i < table.inv_freq.size(); ++i) table.inv_freq[i] /= divisors[i];
  auto plan = std::make_unique<CudaRopePlan>();
  plan->head_dim = params.head_dim;
  plan->rot_dims = params.rot_dims;
  plan->neox = params.layout == RopeLayout::neox;
  plan->mscale = table.mscale;
  plan->inv_freq = allocate(table.inv_freq.size() * sizeof(float));
  upload(table.inv_freq.data(), plan->inv_freq->data(), table.inv_freq.size() * sizeof(float));
  return plan;
}

void CudaBackend::rope(const RopePlan& plan, float* x, int64_t n_tok, int n_heads, const int32_t* pos) {
  const auto& p = static_cast<const CudaRopePlan&>(plan);
  launched(ollm_cuda::launch_rope(x, n_tok, n_heads, p.head_dim, p.rot_dims, p.neox, p.inv_freq->floats(), p.mscale,
                                  pos, stream_),
           "rope");
}

void CudaBackend::kv_append(KvStorage& storage, int64_t layer, const float* k, const float* v, int64_t n_rows,
                            const int32_t* slots) {
  auto& kv = static_cast<CudaKvStorage&>(storage);
  const KvLayout& l = kv.layout();
  const uint32_t type = ggml_id(l.type);
  launched(ollm_cuda::launch_kv_append(type, k, n_rows, static_cast<int64_t>(l.n_kv_heads) * l.head_dim, slots,
                                       kv.k_arena(layer), l.k_token_bytes(), stream_),
           "kv_append (K)");
  launched(ollm_cuda::launch_kv_append(type, v, n_rows, static_cast<int64_t>(l.n_kv_heads) * l.head_dim_v, slots,
                                       kv.v_arena(layer), l.v_token_bytes(), stream_),
           "kv_append (V)");
}

void CudaBackend::attention(KvStorage& storage, int64_t layer, const AttentionParams& p, const DeviceStep& step,
                            const float* q, float* out) {
  // The kernel reads the device copy of the sequences that upload_step made with the step.
  if (&step != &step_)
    fail(ErrorCode::internal, "[cuda] attention takes the DeviceStep returned by this backend's upload_step");
  auto& kv = static_cast<CudaKvStorage&>(storage);
  const KvLayout& l = kv.layout();
  ollm_cuda::AttnParams ap{};
  ap.n_heads = p.n_heads;
  ap.n_kv_heads = p.n_kv_heads;
  ap.head_dim = p.head_dim;
  ap.head_dim_v = p.head_dim_v;
  ap.scale = p.scale;
  ap.softcap = p.softcap;
  ap.causal = p.causal;
  ap.window = p.window;
  ap.sinks = p.sinks;
  auto* split_scratch = static_cast<float*>(scratch(attention_scratch_, ollm_cuda::attention_scratch_bytes()));
  launched(ollm_cuda::launch_paged_attention(ap, ggml_id(l.type), q, step.positions, step_sequences_,
                                             static_cast<int>(step.sequences.size()), step.n_rows, step_max_keys_,
                                             step.block_table, l.block_tokens, kv.k_arena(layer), l.k_token_bytes(),
                                             kv.v_arena(layer), l.v_token_bytes(), out, split_scratch,
                                             attention_scratch_->size(), stream_),
           "attention");
}

void CudaBackend::gated_activation(Activation act, const float* gate, const float* up, float* out, int64_t rows,
                                   int64_t n, int64_t gate_stride, int64_t up_stride) {
  launched(ollm_cuda::launch_gated_activation(static_cast<int>(act), gate, up, out, rows, n, gate_stride, up_stride,
                                              stream_),
           "gated_activation");
}

void CudaBackend::add(const float* a, const float* b, float* y, int64_t count) {
  launched(ollm_cuda::launch_add(a, b, y, count, stream_), "add");
}

void CudaBackend::add_bias(float* y, const Vector& bias, int64_t rows) {
  launched(ollm_cuda::launch_add_bias(y, bias.data, rows, bias.size, stream_), "add_bias");
}

void CudaBackend::scale(float* x, float s, int64_t count) {
  launched(ollm_cuda::launch_scale(x, s, count, stream_), "scale");
}

void CudaBackend::softcap(float* x, float cap, int64_t count) {
  launched(ollm_cuda::launch_softcap(x, cap, count, stream_), "softcap");
}

void CudaBackend::router_top_k(float* logits, int64_t rows, int64_t n_experts, int64_t k, bool renormalize,
                               int32_t* ids, float* weights) {
  launched(ollm_cuda::launch_router_top_k(logits, rows, n_experts, k, renormalize, ids, weights, stream_),
           "router_top_k");
}

void CudaBackend::expert_combine(const float* expert_out, const float* weights, int64_t rows, int64_t k, int64_t n,
                                 float* out) {
  launched(ollm_cuda::launch_expert_combine(expert_out, weights, rows, k, n, out, stream_), "expert_combine");
}

void CudaBackend::gather_rows(const float* src, int64_t n, const int32_t* rows, int64_t count, float* dst) {
  launched(ollm_cuda::launch_gather_rows(src, n, rows, count, dst, stream_), "gather_rows");
}

void CudaBackend::copy_columns(const float* src, int64_t src_stride, int64_t col0, int64_t cols, float* dst,
                               int64_t dst_stride, int64_t rows) {
  launched(ollm_cuda::launch_copy_columns(src, src_stride, col0, cols, dst, dst_stride, rows, stream_),
           "copy_columns");
}

std::unique_ptr<Backend> make_cuda_backend(const CudaDevice& device, const BackendOptions& options) {
  return std::make_unique<CudaBackend>(device, options);
}

}  // namespace ollm::backend
