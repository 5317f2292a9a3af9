// The backend seam. A Device places a model's weights (and says which ops and types it takes);
// a Backend, made by a Device for one engine, runs the fixed op set on device memory with that
// engine's threads and numerics. src/model and src/runtime reach compute only through these.
//
// Conventions of every op below: pointers are device addresses (host memory on the CPU) of f32
// row-major data unless a type is named; shapes are stated above each op; the model layer has
// validated them (front code), so implementations assume valid input. supports() answers before
// any work starts.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backend/types.hpp"
#include "ollm/engine.hpp"
#include "ollm/ops.hpp"
#include "ollm/thread_pool.hpp"

namespace ollm::backend {

// Device memory of a fixed size, freed on destruction.
class Buffer {
 public:
  virtual ~Buffer() = default;
  virtual void* data() noexcept = 0;
  virtual size_t size() const noexcept = 0;
  float* floats() noexcept { return static_cast<float*>(data()); }
};

// The KV cache's storage for one layout: blocks addressed by id. Owned by the engine, made by
// its backend; the runtime's block allocator hands out the ids.
class KvStorage {
 public:
  virtual ~KvStorage() = default;
  virtual const KvLayout& layout() const noexcept = 0;
};

// A RoPE variant with its frequencies prepared on the device.
class RopePlan {
 public:
  virtual ~RopePlan() = default;
};

// A model's weights on one device. Host data handed in must stay alive as long as the store
// (the mapped file, or the buffers the store is given).
class WeightStore {
 public:
  virtual ~WeightStore() = default;
  // host: a matrix in host memory (usually the mapped file) → the same matrix on the device.
  virtual Weight place(const Weight& host) = 0;
  // The same for a matrix the store takes ownership of (HF experts stacked at load).
  virtual Weight place_owned(std::unique_ptr<uint8_t[]> bytes, const Weight& host) = 0;
  virtual Vector place(std::vector<float> host) = 0;
  // Called after each placement that copies, with the bytes placed so far (a device that
  // copies weights reports its upload through the model load's progress callback). May throw
  // (a cancelled load) out of place().
  std::function<void(uint64_t bytes_placed)> progress;
};

struct BackendOptions {
  int threads = 0;                          // 0: every thread of the pool
  std::shared_ptr<ThreadPool> thread_pool;  // null: the library's shared pool (ThreadPool::shared)
  Numerics numerics = Numerics::standard;
};

class Backend;

class Device {
 public:
  virtual ~Device() = default;
  // "cpu", "cuda:0": the name the registry opened it by.
  virtual std::string name() const = 0;
  // How messages name it: "CPU", "CUDA device 0 (H100)".
  virtual std::string display_name() const = 0;
  // Whether this device runs `op` on data of `type` (the weight type for matmul, embedding and
  // matmul_experts; the KV type for kv_append and attention) under `numerics`.
  virtual bool supports(Op op, DType type, Numerics numerics = Numerics::standard) const = 0;
  virtual std::unique_ptr<WeightStore> create_weight_store() = 0;
  // Throws Error(unsupported) naming the numerics when the device does not implement them.
  virtual std::unique_ptr<Backend> create_backend(const BackendOptions& options) = 0;
};

// The op set. One Backend per engine, driven from one thread at a time.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual const Device& device() const noexcept = 0;
  virtual Numerics numerics() const noexcept = 0;

  // --- memory -----------------------------------------------------------------------------
  // Uninitialised device memory of `bytes` bytes (64-byte aligned).
  virtual std::unique_ptr<Buffer> allocate(size_t bytes) = 0;
  virtual std::unique_ptr<KvStorage> create_kv_storage(const KvLayout& layout) = 0;
  // Host → device and device → host copies of `bytes` bytes.
  virtual void upload(const void* host_src, void* device_dst, size_t bytes) = 0;
  virtual void download(const void* device_src, void* host_dst, size_t bytes) = 0;
  // The step's indices to the device, once per step; the result is valid until the next call.
  virtual const DeviceStep& upload_step(const StepIndices& indices) = 0;

  // --- ops --------------------------------------------------------------------------------
  // table: [vocab, n] (Weight rows; supports(embedding, type)) · ids: [n_tok] in [0, vocab) ·
  // out: [n_tok, n].
  virtual void embedding(const Weight& table, const int32_t* ids, int64_t n_tok, float* out) = 0;
  // x, y: [rows, n] (y may be x) · w: [n] or empty. y = x / sqrt(mean(x²) + eps) · w.
  virtual void rms_norm(const float* x, const Vector& w, float* y, int64_t rows, int64_t n, float eps) = 0;
  // x, y: [rows, n] (y may be x) · w, b: [n] or empty. y = (x - mean) / sqrt(var + eps) · w + b.
  virtual void layer_norm(const float* x, const Vector& w, const Vector& b, float* y, int64_t rows, int64_t n,
                          float eps) = 0;
  // w: [n, k] · x: [m, k] · y: [m, n]. y = x · wᵀ.
  virtual void matmul(const Weight& w, const float* x, int64_t m, float* y) = 0;
  // Up to 4 matrices over the same rows: ws[i]: [n_i, k] · x: [m, k] · ys[i]: [m, n_i]; results
  // equal one matmul per matrix, bit for bit (a backend may fuse them into one pass).
  virtual void matmul_shared_input(std::span<const Weight* const> ws, std::span<float* const> ys, const float* x,
                                   int64_t m) = 0;
  // experts: [n_experts · n, k] (expert e's rows from e·n) · x: [m, k] · expert_ids: [m, n_sel]
  // in [0, n_experts) · y: [m, n_sel, n]. Only the selected experts' rows are read.
  virtual void matmul_experts(const Weight& experts, int64_t n_experts, const float* x, int64_t m,
                              const int32_t* expert_ids, int64_t n_sel, float* y) = 0;
  // params: a RoPE variant · freq_divisors: [rot_dims / 2] (llama.cpp's rope_freqs) or empty.
  virtual std::unique_ptr<RopePlan> make_rope(const RopeParams& params, std::span<const float> freq_divisors) = 0;
  // x: [n_tok, n_heads, head_dim], rotated in place · pos: [n_tok].
  virtual void rope(const RopePlan& plan, float* x, int64_t n_tok, int n_heads, const int32_t* pos) = 0;
  // k: [n_rows, n_kv_heads · head_dim] · v: [n_rows, n_kv_heads · head_dim_v] · slots: [n_rows]
  // (block id · block_tokens + slot). Rows are stored in the cache's type in layer `layer`.
  virtual void kv_append(KvStorage& kv, int64_t layer, const float* k, const float* v, int64_t n_rows,
                         const int32_t* slots) = 0;
  // q: [n_rows, n_heads, head_dim] · out: [n_rows, n_heads, head_dim_v]. Each sequence of `step`
  // attends its own rows to its keys in layer `layer` (p.causal, p.window, p.softcap, p.sinks).
  virtual void attention(KvStorage& kv, int64_t layer, const AttentionParams& p, const DeviceStep& step,
                         const float* q, float* out) = 0;
  // gate: [rows, n] (row stride gate_stride) · up: [rows, n] (stride up_stride) · out: [rows, n]
  // (out may be gate or up when their stride is n). out = act(gate) · up.
  virtual void gated_activation(Activation act, const float* gate, const float* up, float* out, int64_t rows,
                                int64_t n, int64_t gate_stride, int64_t up_stride) = 0;
  // y = a + b over [count] (y may be a or b).
  virtual void add(const float* a, const float* b, float* y, int64_t count) = 0;
  // y: [rows, bias.size] += bias per row.
  virtual void add_bias(float* y, const Vector& bias, int64_t rows) = 0;
  // x *= s over [count].
  virtual void scale(float* x, float s, int64_t count) = 0;
  // x = cap · tanh(x / cap) over [count], cap > 0.
  virtual void softcap(float* x, float cap, int64_t count) = 0;
  // logits: [rows, n_experts], replaced by their softmax · ids, weights: [rows, k], the k most
  // probable experts by descending probability (ties: lower id) and their probabilities,
  // renormalised to sum 1 when `renormalize`.
  virtual void router_top_k(float* logits, int64_t rows, int64_t n_experts, int64_t k, bool renormalize,
                            int32_t* ids, float* weights) = 0;
  // expert_out: [rows, k, n] · weights: [rows, k] · out: [rows, n] = Σ_j weights[r, j] · expert_out[r, j].
  virtual void expert_combine(const float* expert_out, const float* weights, int64_t rows, int64_t k, int64_t n,
                              float* out) = 0;
  // src: [*, n] · rows: [count] · dst: [count, n] = src[rows[i]].
  virtual void gather_rows(const float* src, int64_t n, const int32_t* rows, int64_t count, float* dst) = 0;
  // dst[r, 0..cols) = src[r, col0..col0 + cols) for r < rows; src row stride src_stride, dst row
  // stride dst_stride (floats).
  virtual void copy_columns(const float* src, int64_t src_stride, int64_t col0, int64_t cols, float* dst,
                            int64_t dst_stride, int64_t rows) = 0;
};

// --- the registry ---------------------------------------------------------------------------
// "cpu", "cuda", "cuda:N". Throws Error(unsupported) "[cuda] not compiled in ..." in a build
// without CUDA, Error(not_found) for a device that is not there, Error(invalid_argument) for a
// name that is none of these.
std::shared_ptr<Device> open_device(std::string_view name);
// The backends this build contains ("cpu", and "cuda" when compiled in).
std::vector<std::string> compiled_backends();

}  // namespace ollm::backend
