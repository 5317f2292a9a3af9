// Routes a prefill GEMM to the implementation that measured fastest for its weight type
// (docs/BENCHMARKS.md, "Prefill GEMM") and validates shapes once, before any kernel runs.
#include "cpu/gemm.hpp"

#include <cassert>
#include <algorithm>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "cpu/dequantize.hpp"
#include "cpu/gemm_drivers.hpp"
#include "cpu/gemm_float.hpp"
#include "cpu/gemm_int8.hpp"
#include "util/fail.hpp"

namespace ollm::cpu {
namespace {

// Below this many rows the decode path (matmul.hpp) wins: both read every weight byte once, and
// the GEMM's panel packing only pays for itself over enough rows (Q4_K and Q8_0 at 4096×4096:
// decode ahead up to 8 rows by ~5 % with L3-resident weights, GEMM ahead by 30 % at 12;
// docs/BENCHMARKS.md). Weights streamed from DRAM slow the decode path, not the GEMM.
constexpr int64_t min_rows = 8;

// Measured at m = 512 on both cores (docs/BENCHMARKS.md, "Prefill GEMM"): own int8 kernels for
// the quantized types (3.6x the dequantize-then-oneDNN baseline); F32 on oneDNN with the weights
// in place (0.82-0.83 of the FMA peak; ours as fast at 14336 rows, unsteady at 4096); F16 and
// exact BF16 on our f32 tile (0.78-0.90; oneDNN on f32-converted chunks 0.76-0.79 and a 15 MB
// chunk buffer per thread); BF16 with bf16 activations (opt-in) on oneDNN's bf16 matmul (0.89-0.90
// of the vdpbf16ps peak, ours 0.87 and used when built without oneDNN).
GemmPath best_path(DType type, Isa isa, bool exact_f32) noexcept {
  if (int8_format(type).unit != 0) return exact_f32 ? GemmPath::exact_dequant : GemmPath::int8;
  if (type == DType::bf16 && gemm_bf16_activations_enabled() && !exact_f32) {
    if (gemm_onednn_available()) return GemmPath::onednn_bf16;
    if (gemm_bf16_dot_available(isa)) return GemmPath::own_bf16;
  }
  if (type == DType::f32 && gemm_onednn_available()) return GemmPath::onednn;
  return GemmPath::own_float;
}

// Numerics::exact for quantized weights: chunks of rows dequantized to f32 (the bit-exact
// gguf.quants dequantizers) and multiplied on the f32 GEMM — oneDNN's when built with it (its
// baseline path, already chunked per thread), else ours: the prefill pays the dequantization
// once per call and f32 FMA throughput instead of int8 dot products (docs/BENCHMARKS.md).
void gemm_run_exact(Isa isa, const WeightMatrix& w, const float* x, int64_t m, int64_t x_stride, float* y,
                    int64_t y_stride, ThreadPool& pool, int n_threads) {
  if (gemm_onednn_available()) return gemm_run_onednn_dequant(isa, w, x, m, x_stride, y, y_stride, pool, n_threads);
  const int64_t k = w.n_cols;
  const DequantizeRowFn fn = dequantize_row_fn(w.type);
  // About 2 MiB of f32 weights per chunk (L2/L3-sized), at least 64 rows.
  const int64_t chunk = std::max<int64_t>(64, (int64_t{1} << 19) / std::max<int64_t>(k, 1));
  thread_local std::vector<float> wf;
  wf.resize(static_cast<size_t>(std::min(chunk, w.n_rows) * k));
  for (int64_t r0 = 0; r0 < w.n_rows; r0 += chunk) {
    const int64_t rows = std::min(chunk, w.n_rows - r0);
    pool.parallel_for(rows, n_threads, 16, [&](int64_t a, int64_t b, int) {
      for (int64_t r = a; r < b; ++r)
        fn(static_cast<const uint8_t*>(w.data) + static_cast<size_t>(r0 + r) * w.row_stride, wf.data() + r * k, k);
    });
    const WeightMatrix f{DType::f32, wf.data(), rows, k, static_cast<size_t>(k) * 4};
    gemm_run_float(isa, false, f, x, m, x_stride, y + r0, y_stride, pool, n_threads);
  }
}

}  // namespace

bool gemm_bf16_activations_enabled() noexcept {
  static const bool enabled = [] {
    const char* v = std::getenv("OLLM_BF16_ACTIVATIONS");
    return v != nullptr && std::string_view(v) == "1";
  }();
  return enabled;
}

bool gemm_path_available(GemmPath path, DType type) noexcept {
  switch (path) {
    case GemmPath::automatic: return int8_format(type).unit != 0 || gemm_float_type(type);
    case GemmPath::int8: return int8_format(type).unit != 0;
    case GemmPath::own_float: return gemm_float_type(type);
    case GemmPath::own_bf16: return type == DType::bf16 && gemm_bf16_dot_available(Isa::avx512);
    case GemmPath::onednn: return gemm_onednn_available() && gemm_float_type(type);
    case GemmPath::onednn_bf16: return gemm_onednn_available() && type == DType::bf16;
    case GemmPath::onednn_dequant: return gemm_onednn_available() && dequantize_row_fn(type) != nullptr;
    case GemmPath::exact_dequant: return int8_format(type).unit != 0 && dequantize_row_fn(type) != nullptr;
  }
  return false;
}

bool gemm_supports(DType type, int64_t m) noexcept {
  return m >= min_rows && gemm_path_available(GemmPath::automatic, type);
}

void gemm_with(Isa isa, GemmPath path, const WeightMatrix& w, const float* x, int64_t m,
               int64_t x_stride, float* y, int64_t y_stride, ThreadPool& pool, int n_threads) {
  if (path == GemmPath::automatic) path = best_path(w.type, isa, w.exact_f32);
  // Preconditions (callers validate: backend::validate_gemm; matmul routes only what
  // gemm_supports takes).
  assert(gemm_path_available(path, w.type));
  const int64_t n = w.n_rows, k = w.n_cols;
  assert(m >= 0 && n >= 0 && k >= 0 && k % dtype_traits(w.type)->block_elements == 0);
  assert(w.row_stride >= dtype_row_bytes(w.type, k) && x_stride >= k && y_stride >= n);
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t r = 0; r < m; ++r) std::fill(y + r * y_stride, y + r * y_stride + n, 0.0f);
    return;
  }
  n_threads = std::clamp(n_threads, 1, pool.size());
  switch (path) {
    case GemmPath::int8: return gemm_run_int8(isa, w, x, m, x_stride, y, y_stride, pool, n_threads);
    case GemmPath::own_float: return gemm_run_float(isa, false, w, x, m, x_stride, y, y_stride, pool, n_threads);
    case GemmPath::own_bf16:
      if (!gemm_bf16_dot_available(isa))
        fail(ErrorCode::unsupported, "[gemm] bf16 dot products need the avx512 variant and AVX512-BF16 (variant {})",
             isa_name(isa));
      return gemm_run_float(isa, true, w, x, m, x_stride, y, y_stride, pool, n_threads);
    case GemmPath::onednn: return gemm_run_onednn(isa, false, w, x, m, x_stride, y, y_stride, pool, n_threads);
    case GemmPath::onednn_bf16: return gemm_run_onednn(isa, true, w, x, m, x_stride, y, y_stride, pool, n_threads);
    case GemmPath::onednn_dequant:
      return gemm_run_onednn_dequant(isa, w, x, m, x_stride, y, y_stride, pool, n_threads);
    case GemmPath::exact_dequant: return gemm_run_exact(isa, w, x, m, x_stride, y, y_stride, pool, n_threads);
    case GemmPath::automatic: break;
  }
}

void gemm(const WeightMatrix& w, const float* x, int64_t m, int64_t x_stride, float* y,
          int64_t y_stride, ThreadPool& pool, int n_threads) {
  gemm_with(selected_isa(), GemmPath::automatic, w, x, m, x_stride, y, y_stride, pool, n_threads);
}

#if !defined(OLLM_WITH_ONEDNN)
// Built without oneDNN: gemm_onednn.cpp is not compiled and these say so.
bool gemm_onednn_available() noexcept { return false; }
void gemm_onednn_set_one_call(bool) noexcept {}
void gemm_run_onednn(Isa, bool, const WeightMatrix&, const float*, int64_t, int64_t, float*, int64_t, ThreadPool&, int) {
  fail(ErrorCode::unsupported, "[gemm] built without oneDNN (OLLM_ONEDNN=OFF)");
}
void gemm_run_onednn_dequant(Isa, const WeightMatrix&, const float*, int64_t, int64_t, float*, int64_t, ThreadPool&,
                             int) {
  fail(ErrorCode::unsupported, "[gemm] built without oneDNN (OLLM_ONEDNN=OFF)");
}
#endif

}  // namespace ollm::cpu
