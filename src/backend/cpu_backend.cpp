// The CPU backend's op set: each op is the kernels/cpu kernel it names, on the engine's thread
// pool, with the rounding steps of its numerics (Numerics::llamacpp swaps in llama.cpp's,
// Numerics::exact keeps quantized weights in f32 arithmetic).
#include <algorithm>
#include <array>
#include <cstring>

#include "backend/cpu_backend_impl.hpp"
#include "backend/thread_pool_impl.hpp"
#include "backend/validate.hpp"
#include "cpu/attention.hpp"
#include "cpu/llamacpp_numerics.hpp"
#include "cpu/matmul.hpp"
#include "cpu/ops.hpp"
#include "cpu/quant_blocks.hpp"
#include "cpu/quantize.hpp"
#include "util/fail.hpp"

namespace ollm::backend {
namespace {

class CpuRopePlan final : public RopePlan {
 public:
  RopeParams params;       // as the model describes it (the kernels read layout and dims)
  cpu::RopeTable table;    // frequencies after scaling and freq_divisors
  bool llamacpp = false;   // llama.cpp's iterated-angle rope instead of the table
};

class CpuBackend final : public Backend {
 public:
  CpuBackend(const Device& device, const BackendOptions& o) : device_(device), numerics_(o.numerics) {
    // An engine shares the library's pool (the one the public ops use) unless it brings its own
    // or asks for more threads than the machine's pool has.
    pool_ = o.thread_pool ? o.thread_pool : ThreadPool::shared();
    if (!o.thread_pool && o.threads > pool_->size()) pool_ = std::make_shared<ThreadPool>(std::min(o.threads, 255));
    threads_ = o.threads > 0 ? std::min(o.threads, pool_->size()) : pool_->size();
  }

  const Device& device() const noexcept override { return device_; }
  Numerics numerics() const noexcept override { return numerics_; }

  std::unique_ptr<Buffer> allocate(size_t bytes) override { return std::make_unique<CpuBuffer>(bytes); }
  std::unique_ptr<KvStorage> create_kv_storage(const KvLayout& layout) override {
    return std::make_unique<CpuKvStorage>(layout);
  }
  void upload(const void* src, void* dst, size_t bytes) override {
    if (src != dst && bytes > 0) std::memcpy(dst, src, bytes);
  }
  void download(const void* src, void* dst, size_t bytes) override {
    if (src != dst && bytes > 0) std::memcpy(dst, src, bytes);
  }
  // Host memory is the device's: the step reads the caller's arrays in place.
  const DeviceStep& upload_step(const StepIndices& in) override {
    step_.n_rows = static_cast<int64_t>(in.tokens.size());
    step_.n_logit_rows = static_cast<int64_t>(in.logit_rows.size());
    step_.tokens = in.tokens.data();
    step_.positions = in.positions.data();
    step_.kv_slots = in.kv_slots.data();
    step_.block_table = in.block_table.data();
    step_.logit_rows = in.logit_rows.data();
    step_.sequences = in.sequences;
    return step_;
  }

  void embedding(const Weight& t, const int32_t* ids, int64_t n_tok, float* out) override {
    cpu::embedding_rows(t.type, t.data, t.row_stride, t.n_rows, t.n_cols, ids, n_tok, out);
  }

  void rms_norm(const float* x, const Vector& w, float* y, int64_t rows, int64_t n, float eps) override {
    if (numerics_ == Numerics::llamacpp) {
      cpu::llamacpp::rms_norm(x, w.data, y, rows, n, eps);
    } else {
      cpu::rms_norm(x, w.data, y, rows, n, eps);
    }
  }

  void layer_norm(const float* x, const Vector& w, const Vector& b, float* y, int64_t rows, int64_t n,
                  float eps) override {
    cpu::layer_norm(x, w.data, b.data, y, rows, n, eps);
  }

  void matmul(const Weight& w, const float* x, int64_t m, float* y) override {
    if (numerics_ == Numerics::llamacpp && (w.type == DType::f16 || w.type == DType::bf16)) {
      // ggml converts the activations to the weights' type (its vec_dot_type) before the product.
      const size_t count = static_cast<size_t>(m * w.n_cols);
      if (rounded_x_.size() < count) rounded_x_.resize(count);
      for (size_t i = 0; i < count; ++i)
        rounded_x_[i] = w.type == DType::f16 ? cpu::fp16_to_f32(cpu::f32_to_fp16(x[i]))
                                             : cpu::bf16_to_f32(cpu::f32_to_bf16(x[i]));
      x = rounded_x_.data();
    }
    cpu::matmul(cpu_weight(w), x, m, w.n_cols, y, w.n_rows, pool(), threads_);
  }

  void matmul_shared_input(std::span<const Weight* const> ws, std::span<float* const> ys, const float* x,
                           int64_t m) override {
    std::array<cpu::WeightMatrix, 4> copies{};
    std::array<float*, 4> outs{};
    if (ws.size() != ys.size() || ws.size() > copies.size() || ws.empty())
      fail(ErrorCode::internal, "[cpu] matmul_shared_input takes 1 to {} matrices with one output each", copies.size());
    bool rounds_x = false;  // llama.cpp numerics round x per float weight type: one matrix at a time
    for (size_t i = 0; i < ws.size(); ++i) {
      copies[i] = cpu_weight(*ws[i]);
      outs[i] = ys[i];
      rounds_x |= numerics_ == Numerics::llamacpp && (ws[i]->type == DType::f16 || ws[i]->type == DType::bf16);
    }
    if (rounds_x) {
      for (size_t i = 0; i < ws.size(); ++i) matmul(*ws[i], x, m, ys[i]);
      return;
    }
    cpu::matmul_shared_input(copies.data(), outs.data(), ws.size(), x, m, copies[0].n_cols, pool(), threads_);
  }

  void matmul_experts(const Weight& experts, int64_t n_experts, const float* x, int64_t m, const int32_t* expert_ids,
                      int64_t n_sel, float* y) override {
    cpu::matmul_experts(cpu_weight(experts), n_experts, x, m, experts.n_cols, expert_ids, n_sel, y, pool(), threads_);
  }

  std::unique_ptr<RopePlan> make_rope(const RopeParams& params, std::span<const float> divisors) override {
    auto plan = std::make_unique<CpuRopePlan>();
    plan->params = params;
    RopeParams scaled = params;
    if (!divisors.empty()) scaled.scaling = cpu::RopeScaling::none;  // the divisors are the scaling
    validate_rope_params(scaled);
    plan->table = cpu::make_rope_table(scaled);
    // theta_i = pos * base^(-2i/d) / freq_divisors[i], as llama.cpp's rope with freq_factors.
    for (size_t i = 0; i < divisors.size() && i < plan->table.inv_freq.size(); ++i)
      plan->table.inv_freq[i] /= divisors[i];
    plan->llamacpp = numerics_ == Numerics::llamacpp && cpu::llamacpp::rope_supported(params) && divisors.empty();
    return plan;
  }

  void rope(const RopePlan& plan, float* x, int64_t n_tok, int n_heads, const int32_t* pos) override {
    const auto& p = static_cast<const CpuRopePlan&>(plan);
    if (p.llamacpp) {
      cpu::llamacpp::rope(p.params, x, n_tok, n_heads, pos);
    } else {
      cpu::rope(p.params, p.table, x, n_tok, n_heads, pos);
    }
  }

  void kv_append(KvStorage& storage, int64_t layer, const float* k, const float* v, int64_t n_rows,
                 const int32_t* slots) override {
    auto& kv = static_cast<CpuKvStorage&>(storage);
    const KvLayout& l = kv.layout();
    const int64_t k_dim = static_cast<int64_t>(l.n_kv_heads) * l.head_dim;
    const int64_t v_dim = static_cast<int64_t>(l.n_kv_heads) * l.head_dim_v;
    const size_t k_bytes = l.k_token_bytes(), v_bytes = l.v_token_bytes();
    for (int64_t r = 0; r < n_rows; ++r) {
      const int32_t block = static_cast<int32_t>(slots[r] / l.block_tokens);
      const int64_t slot = slots[r] % l.block_tokens;
      cpu::quantize_row(l.type, k + r * k_dim, kv.k_block(layer, block) + slot * k_bytes, k_dim);
      cpu::quantize_row(l.type, v + r * v_dim, kv.v_block(layer, block) + slot * v_bytes, v_dim);
    }
  }

  void attention(KvStorage& storage, int64_t layer, const AttentionParams& p, const DeviceStep& step, const float* q,
                 float* out) override {
    auto& kv = static_cast<CpuKvStorage&>(storage);
    const KvLayout& l = kv.layout();
    const int64_t q_dim = static_cast<int64_t>(p.n_heads) * p.head_dim;
    const int64_t o_dim = static_cast<int64_t>(p.n_heads) * p.head_dim_v;
    for (const StepSequence& s : step.sequences) {
      const int64_t n_keys = s.n_cached + s.n_rows;
      const size_t n_blocks = static_cast<size_t>((n_keys + l.block_tokens - 1) / l.block_tokens);
      k_blocks_.resize(n_blocks);
      v_blocks_.resize(n_blocks);
      for (size_t b = 0; b < n_blocks; ++b) {
        const int32_t id = step.block_table[static_cast<size_t>(s.table_offset) + b];
        k_blocks_[b] = kv.k_block(layer, id);
        v_blocks_[b] = kv.v_block(layer, id);
      }
      const cpu::KvView kv_k{l.type, k_blocks_.data(), l.block_tokens, n_keys, l.k_token_bytes()};
      const cpu::KvView kv_v{l.type, v_blocks_.data(), l.block_tokens, n_keys, l.v_token_bytes()};
      const float* sq = q + s.first_row * q_dim;
      const int32_t* pos = step.positions + s.first_row;
      float* so = out + s.first_row * o_dim;
      if (numerics_ == Numerics::llamacpp) {
        cpu::llamacpp::attention(p, sq, pos, s.n_rows, kv_k, kv_v, so, pool(), threads_);
      } else {
        cpu::attention(p, sq, pos, s.n_rows, kv_k, kv_v, so, pool(), threads_);
      }
    }
  }

  void gated_activation(Activation act, const float* gate, const float* up, float* out, int64_t rows, int64_t n,
                        int64_t gate_stride, int64_t up_stride) override {
    if (numerics_ == Numerics::llamacpp && act == Activation::gelu_tanh) {
      cpu::llamacpp::gelu_tanh_gated(gate, up, out, rows, n, gate_stride, up_stride);
    } else {
      cpu::gated_activation(act, gate, up, out, rows, n, gate_stride, up_stride);
    }
  }

  void add(const float* a, const float* b, float* y, int64_t count) override { cpu::add(a, b, y, count); }

  void add_bias(float* y, const Vector& bias, int64_t rows) override {
    const int64_t n = bias.size;
    for (int64_t r = 0; r < rows; ++r) cpu::add(y + r * n, bias.data, y + r * n, n);
  }

  void scale(float* x, float s, int64_t count) override { cpu::scale(x, s, count); }
  void softcap(float* x, float cap, int64_t count) override { cpu::softcap(x, cap, count); }

  void router_top_k(float* logits, int64_t rows, int64_t n_experts, int64_t k, bool renormalize, int32_t* ids,
                    float* weights) override {
    cpu::softmax(logits, rows, n_experts);
    for (int64_t r = 0; r < rows; ++r) {
      cpu::top_k(logits + r * n_experts, n_experts, k, ids + r * k, weights + r * k);
      if (!renormalize) continue;
      float sum = 0;
      for (int64_t j = 0; j < k; ++j) sum += weights[r * k + j];
      for (int64_t j = 0; j < k; ++j) weights[r * k + j] /= sum;
    }
  }

  void expert_combine(const float* expert_out, const float* weights, int64_t rows, int64_t k, int64_t n,
                      float* out) override {
    for (int64_t r = 0; r < rows; ++r) {
      float* o = out + r * n;
      std::fill(o, o + n, 0.0f);
      for (int64_t j = 0; j < k; ++j) {
        const float w = weights[r * k + j];
        const float* src = expert_out + (r * k + j) * n;
        for (int64_t i = 0; i < n; ++i) o[i] += w * src[i];
      }
    }
  }

  void gather_rows(const float* src, int64_t n, const int32_t* rows, int64_t count, float* dst) override {
    for (int64_t i = 0; i < count; ++i)
      std::memcpy(dst + i * n, src + static_cast<int64_t>(rows[i]) * n, static_cast<size_t>(n) * sizeof(float));
  }

  void copy_columns(const float* src, int64_t src_stride, int64_t col0, int64_t cols, float* dst, int64_t dst_stride,
                    int64_t rows) override {
    for (int64_t r = 0; r < rows; ++r)
      std::memcpy(dst + r * dst_stride, src + r * src_stride + col0, static_cast<size_t>(cols) * sizeof(float));
  }

 private:
  cpu::ThreadPool& pool() const noexcept { return *pool_->impl().pool; }

  // The descriptor as this backend's numerics have it multiply.
  cpu::WeightMatrix cpu_weight(const Weight& w) const noexcept {
    cpu::WeightMatrix out{w.type, w.data, w.n_rows, w.n_cols, w.row_stride};
    out.f16_act_scales = numerics_ == Numerics::llamacpp;
    out.exact_f32 = numerics_ == Numerics::exact;
    return out;
  }

  const Device& device_;
  Numerics numerics_;
  std::shared_ptr<ThreadPool> pool_;
  int threads_ = 1;
  DeviceStep step_;
  std::vector<float> rounded_x_;
  std::vector<const void*> k_blocks_, v_blocks_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(const Device& device, const BackendOptions& options) {
  return std::make_unique<CpuBackend>(device, options);
}

}  // namespace ollm::backend
