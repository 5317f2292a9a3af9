// The CPU device: which ops and types the CPU kernels take, weight placement (a view of the
// host data, no copy) and the KV storage and scratch buffers (host memory).
#include <cstdlib>
#include <cstring>
#include <new>

#include "backend/cpu_backend.hpp"
#include "backend/cpu_backend_impl.hpp"
#include "cpu/attention.hpp"
#include "cpu/dequantize.hpp"
#include "cpu/llamacpp_numerics.hpp"
#include "cpu/matmul.hpp"
#include "util/fail.hpp"

namespace ollm::backend {
namespace {

class CpuWeightStore final : public WeightStore {
 public:
  Weight place(const Weight& host) override { return host; }
  Weight place_owned(std::unique_ptr<uint8_t[]> bytes, const Weight& host) override {
    owned_.push_back(std::move(bytes));
    return host;
  }
  Vector place(std::vector<float> host) override {
    if (host.empty()) return {};
    vectors_.push_back(std::make_unique<std::vector<float>>(std::move(host)));
    return {vectors_.back()->data(), static_cast<int64_t>(vectors_.back()->size())};
  }

 private:
  std::vector<std::unique_ptr<uint8_t[]>> owned_;
  std::vector<std::unique_ptr<std::vector<float>>> vectors_;  // stable addresses
};

class CpuDevice final : public Device {
 public:
  std::string name() const override { return "cpu"; }
  std::string display_name() const override { return "CPU"; }

  bool supports(Op op, DType type, Numerics numerics) const override {
    switch (op) {
      case Op::matmul:
      case Op::matmul_experts: return cpu::matmul_supports(type);
      case Op::embedding: return cpu::dequantize_row_fn(type) != nullptr;
      case Op::kv_append: return cpu::attention_supports(type);
      case Op::attention:
        return numerics == Numerics::llamacpp ? cpu::llamacpp::attention_supported(type)
                                              : cpu::attention_supports(type);
      default: return type == DType::f32;
    }
  }

  std::unique_ptr<WeightStore> create_weight_store() override { return std::make_unique<CpuWeightStore>(); }

  std::unique_ptr<Backend> create_backend(const BackendOptions& options) override {
    return make_cpu_backend(*this, options);
  }
};

}  // namespace

CpuBuffer::CpuBuffer(size_t bytes) : size_(bytes) {
  // Rounded up to whole 64-byte lines (aligned_alloc wants a multiple of the alignment).
  const size_t padded = (bytes + 63) / 64 * 64;
  data_ = std::aligned_alloc(64, padded == 0 ? 64 : padded);
  if (!data_) fail(ErrorCode::out_of_memory, "[cpu] cannot allocate {} bytes of scratch", bytes);
}

CpuBuffer::~CpuBuffer() { std::free(data_); }

CpuKvStorage::CpuKvStorage(const KvLayout& layout) : layout_(layout) {
  k_block_bytes_ = layout.k_token_bytes() * static_cast<size_t>(layout.block_tokens);
  v_block_bytes_ = layout.v_token_bytes() * static_cast<size_t>(layout.block_tokens);
  const size_t n = static_cast<size_t>(layout.n_blocks);
  size_t k_arena = 0, v_arena = 0;
  if (layout.n_blocks <= 0 || layout.n_blocks > INT32_MAX || __builtin_mul_overflow(k_block_bytes_, n, &k_arena) ||
      __builtin_mul_overflow(v_block_bytes_, n, &v_arena) || k_arena == 0 || v_arena == 0)
    fail(ErrorCode::internal, "[kv-cache] layout of {} blocks x {} tokens is not a planned one", layout.n_blocks,
         layout.block_tokens);
  try {
    // One arena per layer, allocated without initialisation: pages are touched (and counted as
    // resident) only when a block is first written.
    for (int64_t i = 0; i < layout.n_layers; ++i) {
      k_.emplace_back(new uint8_t[k_arena]);
      v_.emplace_back(new uint8_t[v_arena]);
    }
  } catch (const std::bad_alloc&) {
    fail(ErrorCode::out_of_memory, "[kv-cache] cannot allocate {} bytes for {} blocks of {} tokens",
         layout.total_bytes(), layout.n_blocks, layout.block_tokens);
  }
}

std::shared_ptr<Device> cpu_device() {
  static const std::shared_ptr<Device> device = std::make_shared<CpuDevice>();
  return device;
}

}  // namespace ollm::backend
