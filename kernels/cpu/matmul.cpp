// Routes matmul / matmul_experts to the selected ISA's row kernels (gemv_kernels.hpp): quantizes
// the activation rows once per call, then hands out chunks of weight rows to the pool's threads.
#include "cpu/matmul.hpp"

#include <cassert>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "cpu/gemv_kernels.hpp"
#include "cpu/isa_variant.hpp"
#include "cpu/matmul_exact.hpp"
#include "cpu/quant_blocks.hpp"
#include "util/fail.hpp"

// The prefill GEMM (another op family) takes large m when it exists and supports the type.
#if __has_include("cpu/gemm.hpp")
#include "cpu/gemm.hpp"
#include "cpu/gemm_int8.hpp"
#define OLLM_MATMUL_HAS_GEMM 1
#endif

namespace ollm::cpu {
namespace {

struct Plan {
  ActFormat format;
  ActQuantizer quantize;  // nullptr for f32 activations
  GemvKernel kernel;
};

ActFormat act_format(DType type) noexcept {
  switch (type) {
    case DType::q4_0: case DType::q4_1: case DType::q5_0: case DType::q5_1: case DType::q8_0: case DType::iq4_nl:
      return ActFormat::legacy;
    case DType::q2_k: case DType::q3_k: case DType::q4_k: case DType::q5_k: case DType::q6_k: case DType::iq4_xs:
      return ActFormat::kquant;
    default: return ActFormat::f32;
  }
}

Plan plan_for(Isa isa, DType type, bool exact_f32 = false) {
  ActFormat format = act_format(type);
  if (exact_f32 && format != ActFormat::f32)  // f32 activations, f32 arithmetic (Numerics::exact)
    return {ActFormat::f32, nullptr,
            pick_isa(isa, &scalar::gemv_exact_kernel, &avx2::gemv_exact_kernel, &avx512::gemv_exact_kernel)(type)};
  if (isa == Isa::avx512 && (type == DType::q4_k || type == DType::q5_k)) format = ActFormat::kquant_nibble_order;
  switch (format) {
    case ActFormat::legacy:
      return {format, pick_isa<ActQuantizer>(isa, &scalar::quantize_act_legacy, &avx2::quantize_act_legacy,
                                             &avx512::quantize_act_legacy),
              pick_isa(isa, &scalar::gemv_legacy_kernel, &avx2::gemv_legacy_kernel, &avx512::gemv_legacy_kernel)(type)};
    case ActFormat::kquant:
    case ActFormat::kquant_nibble_order:
      return {format,
              format == ActFormat::kquant
                  ? pick_isa<ActQuantizer>(isa, &scalar::quantize_act_kquant, &avx2::quantize_act_kquant,
                                           &avx512::quantize_act_kquant)
                  : pick_isa<ActQuantizer>(isa, &scalar::quantize_act_kquant_nibble_order,
                                           &avx2::quantize_act_kquant_nibble_order,
                                           &avx512::quantize_act_kquant_nibble_order),
              pick_isa(isa, &scalar::gemv_kquant_kernel, &avx2::gemv_kquant_kernel, &avx512::gemv_kquant_kernel)(type)};
    case ActFormat::f32: break;
  }
  return {format, nullptr,
          pick_isa(isa, &scalar::gemv_float_kernel, &avx2::gemv_float_kernel, &avx512::gemv_float_kernel)(type)};
}

// A per-calling-thread scratch buffer, 64-byte aligned, grown on demand and kept between calls so
// decode steps do not allocate.
struct Scratch {
  struct Free {
    void operator()(uint8_t* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> bytes;
  size_t capacity = 0;
  uint8_t* get(size_t n) {
    if (n > capacity) {
      const size_t rounded = (n + 63) / 64 * 64;
      auto* p = static_cast<uint8_t*>(std::aligned_alloc(64, rounded));
      if (!p) fail(ErrorCode::out_of_memory, "[matmul] cannot allocate {} bytes of activation scratch", rounded);
      bytes.reset(p);
      capacity = rounded;
    }
    return bytes.get();
  }
};
thread_local Scratch act_scratch;
thread_local std::vector<const void*> x_rows;
thread_local std::vector<float*> y_rows;

// WeightMatrix::f16_act_scales on one quantized legacy row: each block's scale d becomes
// fp16(d) and its min term d * sum follows it (ggml's block_q8_0 / block_q8_1).
void round_legacy_scales_to_f16(void* row, int64_t k) {
  auto* groups = static_cast<XqLegacyGroup*>(row);
  for (int64_t b = 0; b < k / 32; ++b) {
    XqLegacyGroup& g = groups[b / 4];
    const int j = static_cast<int>(b % 4);
    const float d = fp16_to_f32(f32_to_fp16(g.d[4 * j]));
    for (int l = 0; l < 4; ++l) g.d[4 * j + l] = d;
    g.s[4 * j] = d * static_cast<float>(-g.nsum[4 * j]);
  }
}

// Quantizes m activation rows into `out` (act_row_bytes apart), over threads when it is worth it.
void quantize_rows(const Plan& plan, const float* x, int64_t m, int64_t x_stride, int64_t k, uint8_t* out,
                   bool f16_scales, ThreadPool& pool, int n_threads) {
  const size_t row_bytes = act_row_bytes(plan.format, k);
  const bool round_scales = f16_scales && plan.format == ActFormat::legacy;
  auto rows = [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      uint8_t* row = out + static_cast<size_t>(i) * row_bytes;
      plan.quantize(x + i * x_stride, k, row);
      if (round_scales) round_legacy_scales_to_f16(row, k);
    }
  };
  if (n_threads > 1 && m >= 4 && m * k >= (int64_t{1} << 16)) {
    pool.parallel_for(m, n_threads, 1, [&](int64_t begin, int64_t end, int) { rows(begin, end); });
  } else {
    rows(0, m);
  }
}

// One weight matrix (or one expert's rows) and the activation / output rows that meet it, with
// the row kernel of its type.
struct Segment {
  const uint8_t* w;
  int64_t n_rows;
  const void* const* x;
  float* const* y;
  int64_t m;
  GemvKernel kernel;
  size_t w_stride;
};

// Splits every segment's rows into chunks (multiples of 16 rows, at most about 64 KiB of weights)
// and gives each thread one contiguous run of chunks, so each core streams one sequential range
// (interleaving chunks between threads defeats the hardware prefetchers: measured 2x slower).
// A thread that finishes its run takes the remaining chunks of the others from their fronts, so
// one slowed down by other work on the machine does not hold everyone up.
void run_segments(const std::vector<Segment>& segments, int64_t k, ThreadPool& pool, int n_threads) {
  constexpr int64_t row_grain = 16;
  constexpr size_t chunk_bytes = size_t{64} << 10;
  int64_t total_rows = 0;
  size_t w_stride = 1;  // the widest rows set the chunk size
  for (const Segment& s : segments) {
    total_rows += s.n_rows;
    w_stride = std::max(w_stride, s.w_stride);
  }
  if (total_rows == 0) return;
  n_threads = std::clamp(n_threads <= 0 ? pool.size() : n_threads, 1, pool.size());
  int64_t chunk = std::max<int64_t>(row_grain, static_cast<int64_t>(chunk_bytes / w_stride) / row_grain * row_grain);
  // At least about four chunks per thread, so that stealing can balance.
  const int64_t per_thread = (total_rows + 4 * n_threads - 1) / (4 * n_threads);
  chunk = std::min(chunk, std::max<int64_t>(row_grain, (per_thread + row_grain - 1) / row_grain * row_grain));

  std::vector<int64_t> first_chunk(segments.size() + 1, 0);
  for (size_t s = 0; s < segments.size(); ++s)
    first_chunk[s + 1] = first_chunk[s] + (segments[s].n_rows + chunk - 1) / chunk;
  const int64_t n_chunks = first_chunk.back();
  auto run_chunk = [&](int64_t c) {
    const size_t s = static_cast<size_t>(std::upper_bound(first_chunk.begin(), first_chunk.end(), c) - first_chunk.begin() - 1);
    const Segment& seg = segments[s];
    const int64_t r0 = (c - first_chunk[s]) * chunk;
    const int64_t r1 = std::min(seg.n_rows, r0 + chunk);
    seg.kernel(seg.w, seg.w_stride, r0, r1, k, seg.x, seg.y, seg.m);
  };
  const int used = static_cast<int>(std::min<int64_t>(n_threads, n_chunks));
  if (used <= 1) {
    for (int64_t c = 0; c < n_chunks; ++c) run_chunk(c);
    return;
  }
  // Thread t owns chunks [end[t-1], end[t]); next[t] is the front of what is left of them.
  struct alignas(64) Front {
    std::atomic<int64_t> next;
  };
  std::vector<Front> front(static_cast<size_t>(used));
  std::vector<int64_t> end(static_cast<size_t>(used));
  for (int t = 0; t < used; ++t) {
    front[static_cast<size_t>(t)].next.store(n_chunks * t / used, std::memory_order_relaxed);
    end[static_cast<size_t>(t)] = n_chunks * (t + 1) / used;
  }
  pool.run(used, [&](int t, int) {
    for (int i = 0; i < used; ++i) {  // own run first, then the others' leftovers
      const auto u = static_cast<size_t>((t + i) % used);
      for (int64_t c = front[u].next.fetch_add(1, std::memory_order_relaxed); c < end[u];
           c = front[u].next.fetch_add(1, std::memory_order_relaxed))
        run_chunk(c);
    }
  });
}

// The activation rows in the plan's format: quantized into scratch, or the f32 rows themselves.
const void* const* prepare_x(const Plan& plan, const float* x, int64_t m, int64_t x_stride, int64_t k,
                             bool f16_scales, ThreadPool& pool, int n_threads) {
  x_rows.resize(static_cast<size_t>(m));
  if (plan.format == ActFormat::f32) {
    for (int64_t i = 0; i < m; ++i) x_rows[static_cast<size_t>(i)] = x + i * x_stride;
    return x_rows.data();
  }
  const size_t row_bytes = act_row_bytes(plan.format, k);
  uint8_t* buf = act_scratch.get(row_bytes * static_cast<size_t>(m));
  quantize_rows(plan, x, m, x_stride, k, buf, f16_scales, pool, n_threads);
  for (int64_t i = 0; i < m; ++i) x_rows[static_cast<size_t>(i)] = buf + static_cast<size_t>(i) * row_bytes;
  return x_rows.data();
}

}  // namespace

bool matmul_supports(DType type) noexcept {
  switch (type) {
    case DType::f32: case DType::f16: case DType::bf16:
    case DType::q4_0: case DType::q4_1: case DType::q5_0: case DType::q5_1: case DType::q8_0:
    case DType::q2_k: case DType::q3_k: case DType::q4_k: case DType::q5_k: case DType::q6_k:
    case DType::iq4_nl: case DType::iq4_xs:
      return true;
    default: return false;
  }
}

void decode_matmul(Isa isa, const WeightMatrix& w, const float* x, int64_t m, int64_t x_stride, float* y,
                   int64_t y_stride, ThreadPool& pool, int n_threads) {
  if (m <= 0 || w.n_rows <= 0) return;
  if (w.n_cols == 0) {
    for (int64_t i = 0; i < m; ++i) std::fill_n(y + i * y_stride, w.n_rows, 0.0f);
    return;
  }
  const Plan plan = plan_for(isa, w.type, w.exact_f32);
  assert(plan.kernel);  // precondition: matmul_supports(w.type) (ollm::matmul, Device::supports)
  const void* const* xs = prepare_x(plan, x, m, x_stride, w.n_cols, w.f16_act_scales, pool, n_threads);
  y_rows.resize(static_cast<size_t>(m));
  for (int64_t i = 0; i < m; ++i) y_rows[static_cast<size_t>(i)] = y + i * y_stride;
  const std::vector<Segment> segments{
      {static_cast<const uint8_t*>(w.data), w.n_rows, xs, y_rows.data(), m, plan.kernel, w.row_stride}};
  run_segments(segments, w.n_cols, pool, n_threads);
}

#if defined(OLLM_MATMUL_HAS_GEMM)
namespace {
// Whether m rows of w go to the prefill GEMM rather than the decode row kernels. The int8 GEMM
// tiles have SIMD code for AVX-512 only (gemm_int8.cpp; plain C++ elsewhere); on an AVX2-only CPU
// the decode path's AVX2 integer dot products over the same 8-bit activation blocks are several
// times faster for prompts (docs/BENCHMARKS.md), so quantized weights stay on it there. The f32
// GEMM of Numerics::exact (exact_f32) and the float GEMMs have AVX2 code and are kept.
bool use_gemm(Isa isa, const WeightMatrix& w, int64_t m) noexcept {
  if (m <= 1 || !gemm_supports(w.type, m)) return false;
  return w.exact_f32 || int8_format(w.type).unit == 0 || isa == Isa::avx512;
}
}  // namespace
#endif

void matmul(const WeightMatrix& w, const float* x, int64_t m, int64_t x_stride, float* y, int64_t y_stride,
            ThreadPool& pool, int n_threads) {
#if defined(OLLM_MATMUL_HAS_GEMM)
  // use_gemm decides the crossover from the decode path (m rows).
  if (use_gemm(selected_isa(), w, m)) {
    gemm(w, x, m, x_stride, y, y_stride, pool, n_threads);
    return;
  }
#endif
  decode_matmul(selected_isa(), w, x, m, x_stride, y, y_stride, pool, n_threads);
}

void matmul_shared_input(const WeightMatrix* ws, float* const* ys, size_t count, const float* x, int64_t m,
                         int64_t x_stride, ThreadPool& pool, int n_threads) {
  if (count == 0 || m <= 0) return;
  const Isa isa = selected_isa();
  // The matrices that decode together: same activation format, k and scale rounding as the first
  // such one. Prefill-sized m (the GEMM packs each matrix anyway) and any other matrix run alone.
  std::vector<size_t> shared, alone;
  std::vector<GemvKernel> kernels;  // of the shared matrices
  Plan first{};
  for (size_t i = 0; i < count; ++i) {
    const WeightMatrix& w = ws[i];
    bool gemm_rows = false;
#if defined(OLLM_MATMUL_HAS_GEMM)
    gemm_rows = use_gemm(isa, w, m);
#endif
    const Plan plan = plan_for(isa, w.type, w.exact_f32);
    const bool joins = !gemm_rows && plan.kernel != nullptr && w.n_rows > 0 && w.n_cols > 0 &&
                       (shared.empty() || (plan.format == first.format && w.n_cols == ws[shared[0]].n_cols &&
                                           w.f16_act_scales == ws[shared[0]].f16_act_scales &&
                                           w.exact_f32 == ws[shared[0]].exact_f32));
    if (joins && shared.empty()) first = plan;
    if (joins) kernels.push_back(plan.kernel);
    (joins ? shared : alone).push_back(i);
  }
  if (shared.size() == 1) alone.insert(alone.begin(), shared[0]), shared.clear();
  if (!shared.empty()) {
    const WeightMatrix& w0 = ws[shared[0]];
    const void* const* xs = prepare_x(first, x, m, x_stride, w0.n_cols, w0.f16_act_scales, pool, n_threads);
    std::vector<std::vector<float*>> rows(shared.size());
    std::vector<Segment> segments;
    for (size_t j = 0; j < shared.size(); ++j) {
      const WeightMatrix& w = ws[shared[j]];
      for (int64_t r = 0; r < m; ++r) rows[j].push_back(ys[shared[j]] + r * w.n_rows);
      segments.push_back({static_cast<const uint8_t*>(w.data), w.n_rows, xs, rows[j].data(), m,
                          kernels[j], w.row_stride});
    }
    run_segments(segments, w0.n_cols, pool, n_threads);
  }
  for (size_t i : alone) matmul(ws[i], x, m, x_stride, ys[i], ws[i].n_rows, pool, n_threads);
}

namespace {

// Groups the (token, slot) pairs by expert; each expert's group runs either on the prefill GEMM
// (when allow_gemm and gemm_supports() takes that many rows: its rows are gathered into a
// contiguous block and the results scattered back) or, all remaining groups together, on the
// decode kernels, whose threads share out every group's weight rows.
void experts_impl(Isa isa, bool allow_gemm, const WeightMatrix& experts, int64_t n_experts, const float* x,
                  int64_t m, int64_t x_stride, const int32_t* expert_ids, int64_t n_sel, float* y, ThreadPool& pool,
                  int n_threads) {
  if (m <= 0 || n_sel <= 0 || n_experts <= 0) return;
  const int64_t n = experts.n_rows / n_experts;
  const int64_t k = experts.n_cols;
  assert(n * n_experts == experts.n_rows);  // precondition: backend::validate_experts
  // A counting sort of the pairs by expert id.
  std::vector<int64_t> offset(static_cast<size_t>(n_experts) + 1, 0);
  for (int64_t i = 0; i < m * n_sel; ++i) {
    const int32_t e = expert_ids[i];
    assert(e >= 0 && e < n_experts);  // precondition: backend::validate_expert_ids
    ++offset[static_cast<size_t>(e) + 1];
  }
  for (int64_t e = 0; e < n_experts; ++e) offset[e + 1] += offset[e];
  if (n == 0) return;
  if (k == 0) {
    std::fill_n(y, m * n_sel * n, 0.0f);
    return;
  }
  std::vector<int64_t> pair(static_cast<size_t>(m * n_sel));  // pair index i*n_sel+s, by expert
  std::vector<int64_t> fill(offset.begin(), offset.end() - 1);
  for (int64_t i = 0; i < m * n_sel; ++i) pair[static_cast<size_t>(fill[static_cast<size_t>(expert_ids[i])]++)] = i;

  const auto* base = static_cast<const uint8_t*>(experts.data);
  auto expert_matrix = [&](int64_t e) {
    return WeightMatrix{experts.type, base + static_cast<size_t>(e * n) * experts.row_stride, n, k, experts.row_stride,
                        experts.f16_act_scales, experts.exact_f32};
  };
  std::vector<int64_t> decode_experts, gemm_experts;
  for (int64_t e = 0; e < n_experts; ++e) {
    const int64_t count = offset[e + 1] - offset[e];
    if (count == 0) continue;
    bool to_gemm = false;
#if defined(OLLM_MATMUL_HAS_GEMM)
    to_gemm = allow_gemm && use_gemm(isa, expert_matrix(e), count);
#else
    (void)allow_gemm;
#endif
    (to_gemm ? gemm_experts : decode_experts).push_back(e);
  }

  if (!decode_experts.empty()) {
    const Plan plan = plan_for(isa, experts.type, experts.exact_f32);
    assert(plan.kernel);  // precondition: matmul_supports(experts.type)
    const void* const* xs = prepare_x(plan, x, m, x_stride, k, experts.f16_act_scales, pool, n_threads);
    std::vector<const void*> gx(pair.size());
    std::vector<float*> gy(pair.size());
    for (size_t j = 0; j < pair.size(); ++j) {
      gx[j] = xs[pair[j] / n_sel];
      gy[j] = y + pair[j] * n;
    }
    std::vector<Segment> segments;
    for (int64_t e : decode_experts)
      segments.push_back({static_cast<const uint8_t*>(expert_matrix(e).data), n, gx.data() + offset[e],
                          gy.data() + offset[e], offset[e + 1] - offset[e], plan.kernel, experts.row_stride});
    run_segments(segments, k, pool, n_threads);
  }

#if defined(OLLM_MATMUL_HAS_GEMM)
  std::vector<float> gathered, results;
  for (int64_t e : gemm_experts) {
    const int64_t count = offset[e + 1] - offset[e];
    gathered.resize(static_cast<size_t>(count * k));
    results.resize(static_cast<size_t>(count * n));
    for (int64_t j = 0; j < count; ++j)
      std::copy_n(x + pair[static_cast<size_t>(offset[e] + j)] / n_sel * x_stride, k, gathered.data() + j * k);
    gemm(expert_matrix(e), gathered.data(), count, k, results.data(), n, pool, n_threads);
    for (int64_t j = 0; j < count; ++j)
      std::copy_n(results.data() + j * n, n, y + pair[static_cast<size_t>(offset[e] + j)] * n);
  }
#endif
}

}  // namespace

void decode_matmul_experts(Isa isa, const WeightMatrix& experts, int64_t n_experts, const float* x, int64_t m,
                           int64_t x_stride, const int32_t* expert_ids, int64_t n_sel, float* y, ThreadPool& pool,
                           int n_threads) {
  experts_impl(isa, false, experts, n_experts, x, m, x_stride, expert_ids, n_sel, y, pool, n_threads);
}

void matmul_experts(const WeightMatrix& experts, int64_t n_experts, const float* x, int64_t m, int64_t x_stride,
                    const int32_t* expert_ids, int64_t n_sel, float* y, ThreadPool& pool, int n_threads) {
  experts_impl(selected_isa(), true, experts, n_experts, x, m, x_stride, expert_ids, n_sel, y, pool, n_threads);
}

}  // namespace ollm::cpu
