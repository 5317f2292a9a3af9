// Decode matmul (m = 1) throughput in GB/s of weight bytes streamed, next to the machine's read
// bandwidth: BM_read_bandwidth (threads summing a 1 GiB buffer with 512-bit loads, with and without
// software prefetch) and, paired with every matmul iteration, a 2-thread pass over 64 MiB: `bw`,
// the reference of the ratio `of_bw` (see paired_bandwidth_pass).
// Weights rotate over copies totalling >= 256 MiB, so every call streams from DRAM as a decode
// step does (a model's layers never stay in cache); `hot` variants reuse one copy.
//   build-gemv/tests/matmul_bench --benchmark_filter=... [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cpu/gemm.hpp"
#include "cpu/isa.hpp"
#include "cpu/matmul.hpp"
#include "cpu/quantize.hpp"
#include "cpu/thread_pool.hpp"
#include "ollm/types.hpp"

using namespace ollm;

namespace {

struct FreeDeleter {
  void operator()(void* p) const noexcept { std::free(p); }
};
using Bytes = std::unique_ptr<uint8_t, FreeDeleter>;

Bytes alloc_bytes(size_t n) {
  void* p = std::aligned_alloc(4096, (n + 4095) / 4096 * 4096);
  if (!p) std::abort();
  std::memset(p, 0, n);  // fault the pages in before timing
  return Bytes(static_cast<uint8_t*>(p));
}

// Sums n bytes with 512-bit loads; with `prefetch`, also prefetches 16 KiB ahead as the matmul
// kernels do (on this VM the hardware prefetchers alone do not reach the full rate).
__attribute__((target("avx512f"))) int64_t sum_bytes(const uint8_t* p, size_t n, bool prefetch) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i < n; i += 256) {
    if (prefetch)
      for (size_t o = 0; o < 256; o += 64) _mm_prefetch(reinterpret_cast<const char*>(p + i + 16384 + o), _MM_HINT_T0);
    a0 = _mm512_add_epi64(a0, _mm512_load_si512(p + i));
    a1 = _mm512_add_epi64(a1, _mm512_load_si512(p + i + 64));
    a2 = _mm512_add_epi64(a2, _mm512_load_si512(p + i + 128));
    a3 = _mm512_add_epi64(a3, _mm512_load_si512(p + i + 192));
  }
  return _mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3)));
}

// The machine's read bandwidth: each thread sums its part of a 1 GiB buffer. args: threads,
// software prefetch (0/1).
void BM_read_bandwidth(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const bool prefetch = state.range(1) != 0;
  const size_t bytes = size_t{1} << 30;
  Bytes buf = alloc_bytes(bytes);
  cpu::ThreadPool pool(threads);
  std::vector<int64_t> sums(static_cast<size_t>(threads));
  double seconds = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.run(threads, [&](int t, int used) {
      const size_t part = bytes / static_cast<size_t>(used);
      sums[static_cast<size_t>(t)] = sum_bytes(buf.get() + part * static_cast<size_t>(t), part, prefetch);
    });
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(sums.data());
  }
  const double gbs = static_cast<double>(bytes) * static_cast<double>(state.iterations()) / 1e9 / seconds;
  state.counters["GB/s"] = gbs;
}

// A row-major matrix of n rows of type: 64 distinct rows quantized from Gaussian values, then
// repeated (the memory system cannot tell; generating 500M quantized values would take minutes).
std::vector<uint8_t> make_rows(DType type, int64_t k, int distinct) {
  const size_t row_bytes = dtype_row_bytes(type, k);
  std::vector<uint8_t> rows(row_bytes * static_cast<size_t>(distinct));
  std::vector<float> v(static_cast<size_t>(k));
  uint64_t s = 0x9e3779b97f4a7c15ull;
  for (int r = 0; r < distinct; ++r) {
    for (float& x : v) {
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      const double u1 = (static_cast<double>(s >> 11) + 0.5) / 9007199254740992.0;
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      const double u2 = (static_cast<double>(s >> 11) + 0.5) / 9007199254740992.0;
      x = static_cast<float>(0.02 * std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2));
    }
    cpu::quantize_row(type, v.data(), rows.data() + row_bytes * static_cast<size_t>(r), k);
  }
  return rows;
}

// `copies` matrices of n rows of type, each row_bytes * n bytes.
std::vector<Bytes> make_matrices(DType type, int64_t n, int64_t k, size_t copies) {
  const size_t row_bytes = dtype_row_bytes(type, k);
  const std::vector<uint8_t> pattern = make_rows(type, k, 64);
  std::vector<Bytes> mats;
  for (size_t c = 0; c < copies; ++c) {
    mats.push_back(alloc_bytes(row_bytes * static_cast<size_t>(n)));
    for (int64_t r = 0; r < n; r += 64) {
      const size_t rows = static_cast<size_t>(std::min<int64_t>(64, n - r));
      std::memcpy(mats.back().get() + static_cast<size_t>(r) * row_bytes, pattern.data(), rows * row_bytes);
    }
  }
  return mats;
}

size_t copies_for(size_t matrix_bytes, bool hot) {
  return hot ? 1 : std::max<size_t>(1, ((size_t{256} << 20) + matrix_bytes - 1) / matrix_bytes);
}

// The VM's read bandwidth jumps between ~35-45 and ~65-75 GB/s from one second to the next
// (other tenants of the host), so a ratio against a bandwidth measured minutes earlier means
// little. Each matmul benchmark iteration therefore pairs a read-bandwidth pass (2 threads, 64
// MiB of a 256 MiB buffer, plain loads: the best of the BM_read_bandwidth variants) with >= 32
// MiB of matmul calls, and reports medians: of_bw is the median of the per-iteration ratios.
// `pool` must be the matmul's own pool: a second pool's workers would still be spinning (the pool
// spins ~0.3 ms before sleeping) on the cores the matmul then uses.
double paired_bandwidth_pass(size_t iteration, cpu::ThreadPool& pool) {
  static const size_t bytes = size_t{256} << 20, part = size_t{64} << 20;
  static Bytes buf = alloc_bytes(bytes);
  const uint8_t* base = buf.get() + (iteration % (bytes / part)) * part;
  int64_t sums[2] = {0, 0};
  const auto t0 = std::chrono::steady_clock::now();
  pool.run(2, [&](int t, int used) {
    const size_t half = part / static_cast<size_t>(used);
    sums[t] = sum_bytes(base + half * static_cast<size_t>(t), half, false);
  });
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  benchmark::DoNotOptimize(sums);
  return static_cast<double>(part) / 1e9 / s;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// args: type id, n, k, threads, hot (1: one copy, stays in cache when it fits). Manual time: only
// the matmul calls count; an iteration is as many calls as stream >= 32 MiB (us/call: per call).
void BM_matmul(benchmark::State& state) {
  const auto type = static_cast<DType>(state.range(0));
  const int64_t n = state.range(1), k = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  const bool hot = state.range(4) != 0;
  const size_t row_bytes = dtype_row_bytes(type, k);
  const size_t matrix_bytes = row_bytes * static_cast<size_t>(n);
  const size_t copies = copies_for(matrix_bytes, hot);
  const std::vector<Bytes> mats = make_matrices(type, n, k, copies);
  std::vector<float> x(static_cast<size_t>(k)), y(static_cast<size_t>(n));
  for (int64_t j = 0; j < k; ++j) x[static_cast<size_t>(j)] = std::sin(0.37f * static_cast<float>(j));
  cpu::ThreadPool pool(2);  // the bandwidth pass always uses 2 threads, the matmul `threads`
  const int calls = static_cast<int>(std::max<size_t>(1, (size_t{32} << 20) / matrix_bytes));
  size_t c = 0, iteration = 0;
  std::vector<double> mm, bw, ratio, per_call;
  for (auto _ : state) {
    // Cache-resident runs measure the compute side alone: no bandwidth pass to evict them.
    const double b = hot ? 0.0 : paired_bandwidth_pass(iteration++, pool);
    const auto t0 = std::chrono::steady_clock::now();
    for (int call = 0; call < calls; ++call) {
      const cpu::WeightMatrix w{type, mats[c].get(), n, k, row_bytes};
      cpu::matmul(w, x.data(), 1, k, y.data(), n, pool, threads);
      benchmark::DoNotOptimize(y.data());
      c = (c + 1) % copies;
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(s);
    const double gbs = static_cast<double>(matrix_bytes) * calls / 1e9 / s;
    mm.push_back(gbs), per_call.push_back(s / calls * 1e6);
    if (!hot) bw.push_back(b), ratio.push_back(gbs / b);
  }
  state.SetLabel(std::string(dtype_name(type)) + (hot ? " hot" : ""));
  state.counters["MB"] = static_cast<double>(matrix_bytes) / 1e6;
  state.counters["GB/s"] = median(mm);
  state.counters["us/call"] = median(per_call);
  if (!hot) {
    state.counters["bw"] = median(bw);  // paired read bandwidth (2 threads)
    state.counters["of_bw"] = median(ratio);
  }
}

// A few activation rows: the decode path (path 0) against the prefill GEMM (path 1) on a
// 4096 x 4096 matrix streamed from DRAM, 2 threads. args: type id, m, path.
void BM_rows(benchmark::State& state) {
  const auto type = static_cast<DType>(state.range(0));
  const int64_t m = state.range(1), n = 4096, k = 4096;
  const bool use_gemm = state.range(2) != 0;
  const size_t row_bytes = dtype_row_bytes(type, k);
  const size_t copies = copies_for(row_bytes * static_cast<size_t>(n), false);
  const std::vector<Bytes> mats = make_matrices(type, n, k, copies);
  std::vector<float> x(static_cast<size_t>(m * k)), y(static_cast<size_t>(m * n));
  for (size_t j = 0; j < x.size(); ++j) x[j] = std::sin(0.37f * static_cast<float>(j));
  cpu::ThreadPool pool(2);
  size_t c = 0;
  for (auto _ : state) {
    const cpu::WeightMatrix w{type, mats[c].get(), n, k, row_bytes};
    if (use_gemm) cpu::gemm(w, x.data(), m, k, y.data(), n, pool, 2);
    else cpu::decode_matmul(cpu::selected_isa(), w, x.data(), m, k, y.data(), n, pool, 2);
    benchmark::DoNotOptimize(y.data());
    c = (c + 1) % copies;
  }
  state.SetLabel(std::string(dtype_name(type)) + (use_gemm ? " gemm" : " decode"));
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(m), benchmark::Counter::kIsIterationInvariantRate);
}

void row_counts(benchmark::internal::Benchmark* b) {
  for (DType t : {DType::q4_0, DType::q4_k, DType::q8_0, DType::f16})
    for (int64_t m : {1, 2, 4, 8, 16, 32}) {
      b->Args({static_cast<int64_t>(t), m, 0});
      if (m >= 4 && cpu::gemm_supports(t, m)) b->Args({static_cast<int64_t>(t), m, 1});
    }
}

void decode_shapes(benchmark::internal::Benchmark* b) {
  const int64_t shapes[][2] = {{4096, 4096}, {14336, 4096}, {4096, 14336}, {128256, 4096}};
  for (DType t : {DType::f16, DType::q4_0, DType::q4_k, DType::q6_k, DType::q8_0})
    for (const auto& s : shapes)
      for (int threads : {2, 1}) b->Args({static_cast<int64_t>(t), s[0], s[1], threads, 0});
  for (DType t : {DType::f32, DType::bf16, DType::q4_1, DType::q5_0, DType::q5_1, DType::q2_k, DType::q3_k,
                  DType::q5_k, DType::iq4_nl, DType::iq4_xs})
    b->Args({static_cast<int64_t>(t), 14336, 4096, 2, 0});
  // Cache-resident: the compute side alone.
  for (DType t : {DType::f16, DType::q4_0, DType::q4_k, DType::q6_k, DType::q8_0})
    for (int threads : {2, 1}) b->Args({static_cast<int64_t>(t), 1024, 4096, threads, 1});
}

}  // namespace

BENCHMARK(BM_read_bandwidth)
    ->Args({2, 0})->Args({2, 1})->Args({1, 0})->Args({1, 1})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_matmul)->Apply(decode_shapes)->Unit(benchmark::kMicrosecond)->UseManualTime();
BENCHMARK(BM_rows)->Apply(row_counts)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_MAIN();
