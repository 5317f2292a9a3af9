// Threaded drivers of the own GEMM kernels: activation quantization split over the pool, weight
// panels split over the pool, scratch reused across calls (no per-call page faults, no copy of
// the weights: each thread decodes one small panel at a time).
#include "cpu/gemm_drivers.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "cpu/cpu_features.hpp"
#include "cpu/gemm_float.hpp"
#include "cpu/gemm_int8.hpp"
#include "util/fail.hpp"

namespace ollm::cpu {
namespace {

// A 64-byte aligned buffer that only grows; one per thread and purpose.
class ScratchBuffer {
 public:
  void* get(size_t bytes) {
    if (bytes > size_) {
      const size_t rounded = (bytes + 4095) / 4096 * 4096;
      void* p = std::aligned_alloc(64, rounded);
      if (p == nullptr) fail(ErrorCode::out_of_memory, "[gemm] cannot allocate {} bytes of scratch", rounded);
      data_.reset(p);
      size_ = rounded;
    }
    return data_.get();
  }

 private:
  struct Free {
    void operator()(void* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<void, Free> data_;
  size_t size_ = 0;
};

// Most elements of k per packed panel: a multiple of 256 (the activation group and every decode
// unit). Chosen by measurement (docs/BENCHMARKS.md): the packed panel (~150 KB at 4096) stays in
// L2 while every activation tile streams past it.
constexpr int64_t int8_kc = 4096;
// Activation rows per pass: bounds the scratch to ~rows * k bytes whatever m is (each pass packs
// the weights again, so passes are as large as the memory budget allows).
constexpr int64_t int8_max_pass_rows = 1024;

constexpr int64_t float_kc = 256;
constexpr int64_t float_act_bytes = int64_t{16} << 20;

// Runs body(queue) on up to n_threads threads, all taking panels from one queue.
template <class Fn>
void run_panels(ThreadPool& pool, int n_threads, int64_t panels, Fn&& body) {
  PanelQueue queue;
  queue.end = panels;
  const int used = static_cast<int>(std::clamp<int64_t>(panels, 1, std::max(1, n_threads)));
  pool.run(used, [&](int, int) { body(queue); });
}

// Runs body(t0, t1) over [0, count) in chunks of `grain` taken dynamically by up to n_threads.
template <class Fn>
void run_chunks(ThreadPool& pool, int n_threads, int64_t count, int64_t grain, Fn&& body) {
  PanelQueue queue;
  queue.end = (count + grain - 1) / grain;
  const int used = static_cast<int>(std::clamp<int64_t>(queue.end, 1, std::max(1, n_threads)));
  pool.run(used, [&](int, int) {
    for (int64_t c = queue.take(); c >= 0; c = queue.take()) body(c * grain, std::min(count, (c + 1) * grain));
  });
}

}  // namespace

void gemm_run_int8(Isa isa, const WeightMatrix& w, const float* x, int64_t m, int64_t x_stride,
                   float* y, int64_t y_stride, ThreadPool& pool, int n_threads) {
  const Int8Format f = int8_format(w.type);
  const int64_t k = w.n_cols;
  const auto quantize = pick_isa(isa, &scalar::gemm_quantize_tiles, &avx2::gemm_quantize_tiles,
                                 &avx512::gemm_quantize_tiles);
  const auto panels_fn = pick_isa(isa, &scalar::gemm_int8_panels, &avx2::gemm_int8_panels,
                                  &avx512::gemm_int8_panels);
  const int64_t panel_groups = (w.n_rows + gemm_panel_group * gemm_nr - 1) / (gemm_panel_group * gemm_nr);
  // k chunks of at most int8_kc elements, balanced, whole groups (k = 14336: 4 chunks of 3584).
  const int64_t k_groups = gemm_groups(k), n_chunks = (k + int8_kc - 1) / int8_kc;
  const int64_t kc_max = (k_groups + n_chunks - 1) / n_chunks * gemm_group;
  const size_t panel_bytes = gemm_panel_group * int8_panel_bytes(f, kc_max);

  thread_local ScratchBuffer act_buffer;
  // Passes of at most int8_max_pass_rows rows, balanced (1000 rows: one pass, 1100: two of 552).
  const int64_t n_passes = (m + int8_max_pass_rows - 1) / int8_max_pass_rows;
  const int64_t pass_rows = ((m + n_passes - 1) / n_passes + gemm_mr - 1) / gemm_mr * gemm_mr;
  const int64_t max_tiles = (pass_rows + gemm_mr - 1) / gemm_mr;
  const int64_t subs = k / f.sub, groups = gemm_groups(k, f.unit);
  const size_t q_bytes = static_cast<size_t>(max_tiles * gemm_mr * k);
  const size_t meta_bytes = static_cast<size_t>(max_tiles * gemm_mr) * (10 * subs + 4 * groups);
  auto* base = static_cast<uint8_t*>(act_buffer.get(q_bytes + meta_bytes));
  ActTiles a;
  a.q = reinterpret_cast<int8_t*>(base);
  a.corr = reinterpret_cast<int32_t*>(base + q_bytes);
  a.qsum = reinterpret_cast<float*>(a.corr + max_tiles * gemm_mr * subs);
  a.scale = a.qsum + max_tiles * gemm_mr * subs;
  a.qsum16 = f.int_min ? reinterpret_cast<int16_t*>(a.scale + max_tiles * gemm_mr * groups) : nullptr;
  a.k = k;
  a.sub = f.sub;
  a.bias = f.bias;
  a.group = f.unit;
  a.f16_scales = w.f16_act_scales && f.unit == 32;

  for (int64_t r0 = 0; r0 < m; r0 += pass_rows) {
    const int64_t rows = std::min(pass_rows, m - r0);
    const int64_t tiles = (rows + gemm_mr - 1) / gemm_mr;
    const float* xp = x + r0 * x_stride;
    run_chunks(pool, n_threads, tiles, 4, [&](int64_t t0, int64_t t1) { quantize(xp, x_stride, rows, t0, t1, a); });
    float* yp = y + r0 * y_stride;
    // Panels outermost, each over all of k: a panel's y block (rows × 32 floats) stays in L2
    // across its k chunks (a k-outer order rewrites all of y per chunk, measured slower).
    run_panels(pool, n_threads, panel_groups, [&](PanelQueue& queue) {
      thread_local ScratchBuffer panel_buffer;
      auto* scratch = static_cast<uint8_t*>(panel_buffer.get(panel_bytes));
      panels_fn(w, f, a, rows, queue, kc_max, yp, y_stride, scratch);
    });
  }
}

bool gemm_float_type(DType type) noexcept {
  return type == DType::f32 || type == DType::f16 || type == DType::bf16;
}

bool gemm_bf16_dot_available(Isa isa) noexcept {
  return isa == Isa::avx512 && cpu_features().avx512_bf16;
}

void gemm_run_float(Isa isa, bool bf16_dot, const WeightMatrix& w, const float* x, int64_t m,
                    int64_t x_stride, float* y, int64_t y_stride, ThreadPool& pool, int n_threads) {
  const int64_t k = w.n_cols;
  const int64_t panels = (w.n_rows + gemm_nr - 1) / gemm_nr;
  bf16_dot = bf16_dot && w.type == DType::bf16 && gemm_bf16_dot_available(isa);
  const int64_t kc_max = float_kc;  // even
  const int64_t kp = bf16_dot ? (k + 1) / 2 * 2 : k;
  const size_t elem = bf16_dot ? 2 : 4;
  // Packed activations of at most float_act_bytes per pass.
  const int64_t budget_rows = std::max<int64_t>(gemm_mr_float, float_act_bytes / (static_cast<int64_t>(elem) * kp));
  const int64_t pass_rows = std::min(m, budget_rows / gemm_mr_float * gemm_mr_float);
  const int64_t max_tiles = (pass_rows + gemm_mr_float - 1) / gemm_mr_float;
  thread_local ScratchBuffer act_buffer;
  void* xt = act_buffer.get(static_cast<size_t>(max_tiles * gemm_mr_float * kp) * elem);

  const auto pack_f32 = pick_isa(isa, &scalar::gemm_pack_rows_f32, &avx2::gemm_pack_rows_f32,
                                 &avx512::gemm_pack_rows_f32);
  const auto panels_f32 = pick_isa(isa, &scalar::gemm_f32_panels, &avx2::gemm_f32_panels,
                                   &avx512::gemm_f32_panels);
  for (int64_t r0 = 0; r0 < m; r0 += pass_rows) {
    const int64_t rows = std::min(pass_rows, m - r0);
    const int64_t tiles = (rows + gemm_mr_float - 1) / gemm_mr_float;
    const float* xp = x + r0 * x_stride;
    float* yp = y + r0 * y_stride;
    run_chunks(pool, n_threads, tiles, 4, [&](int64_t t0, int64_t t1) {
      if (bf16_dot)
        avx512::gemm_pack_rows_bf16(xp, x_stride, rows, k, t0, t1, static_cast<uint16_t*>(xt));
      else
        pack_f32(xp, x_stride, rows, k, t0, t1, static_cast<float*>(xt));
    });
    run_panels(pool, n_threads, panels, [&](PanelQueue& queue) {
      thread_local ScratchBuffer panel_buffer;
      if (bf16_dot) {
        auto* scratch = static_cast<uint16_t*>(panel_buffer.get(gemm_bf16_panel_bytes(kc_max)));
        avx512::gemm_bf16_panels(w, static_cast<const uint16_t*>(xt), rows, queue, kc_max, yp, y_stride, scratch);
      } else {
        auto* scratch = static_cast<float*>(panel_buffer.get(gemm_f32_panel_bytes(kc_max)));
        panels_f32(w, static_cast<const float*>(xt), rows, queue, kc_max, yp, y_stride, scratch);
      }
    });
  }
}

}  // namespace ollm::cpu
