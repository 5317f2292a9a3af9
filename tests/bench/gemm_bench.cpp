// Microbenchmark of the prefill GEMM (numbers go to docs/BENCHMARKS.md, never asserted): m = 512
// activation rows at 4096×4096 and 14336×4096 for Q4_K, Q8_0, Q4_0, Q6_K, Q5_0, F16, BF16, F32,
// own kernels vs oneDNN vs dequantize-to-f32-then-oneDNN, as GFLOP/s (2·m·n·k / time) and as a
// fraction of the machine's peak, measured in the same run with register-only loops on every
// thread: vpdpbusd zmm (int8 types), vfmadd231ps zmm (F32, F16), vdpbf16ps zmm (BF16).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cpu/cpu_features.hpp"
#include "cpu/gemm.hpp"
#include "cpu/gemm_drivers.hpp"
#if __has_include("cpu/matmul.hpp")
#include "cpu/matmul.hpp"
#define OLLM_GEMM_BENCH_DECODE 1
#endif
#include "cpu/quant_blocks.hpp"
#include "ollm/types.hpp"

using namespace ollm;
using namespace ollm::cpu;

namespace {

constexpr int bench_threads = 2;

// ---- Peak loops: 12 independent zmm accumulators, operands in registers, nothing else. ----

#define OLLM_PEAK_REP12(OP)                                                                             \
  OP " %%zmm30, %%zmm31, %%zmm0\n" OP " %%zmm30, %%zmm31, %%zmm1\n" OP " %%zmm30, %%zmm31, %%zmm2\n"   \
  OP " %%zmm30, %%zmm31, %%zmm3\n" OP " %%zmm30, %%zmm31, %%zmm4\n" OP " %%zmm30, %%zmm31, %%zmm5\n"   \
  OP " %%zmm30, %%zmm31, %%zmm6\n" OP " %%zmm30, %%zmm31, %%zmm7\n" OP " %%zmm30, %%zmm31, %%zmm8\n"   \
  OP " %%zmm30, %%zmm31, %%zmm9\n" OP " %%zmm30, %%zmm31, %%zmm10\n" OP " %%zmm30, %%zmm31, %%zmm11\n"

#define OLLM_PEAK_LOOP(name, OP)                                                                   \
  __attribute__((noinline, target("avx512f"))) void name(long iterations) {                                        \
    asm volatile("vpxord %%zmm30, %%zmm30, %%zmm30\n vpxord %%zmm31, %%zmm31, %%zmm31\n"           \
                 "1:\n" OLLM_PEAK_REP12(OP) "dec %0\n jnz 1b\n"                                    \
                 : "+r"(iterations)::"zmm0", "zmm1", "zmm2", "zmm3", "zmm4", "zmm5", "zmm6", "zmm7", \
                   "zmm8", "zmm9", "zmm10", "zmm11", "zmm30", "zmm31", "cc");                      \
  }

OLLM_PEAK_LOOP(peak_vpdpbusd, "vpdpbusd")
OLLM_PEAK_LOOP(peak_vfmadd, "vfmadd231ps")
OLLM_PEAK_LOOP(peak_vdpbf16ps, "vdpbf16ps")

struct Peaks {
  double int8 = 0, fma = 0, bf16 = 0;  // GOP/s on bench_threads threads (a MAC counts 2 ops)
};
Peaks peaks;       // wall clock, all threads at once
Peaks core_peaks;  // one thread, per CPU-second of that thread

// Process CPU seconds (all threads): GOP per CPU-second is what one core delivers while it runs,
// a figure that survives other processes sharing the machine (wall-clock rates do not).
double cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Best of `reps` runs of `iterations` loop trips on every thread at once; returns GOP/s.
double measure_peak(void (*loop)(long), double ops_per_trip, ThreadPool& pool, int reps = 7) {
  const long iterations = 20'000'000;
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.run(bench_threads, [&](int, int) { loop(iterations); });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, ops_per_trip * iterations * bench_threads / s / 1e9);
  }
  return best;
}

ThreadPool& pool() {
  static ThreadPool p(bench_threads);
  return p;
}

// One thread: ops per second of that thread's CPU time, best of `reps`.
double measure_core_peak(void (*loop)(long), double ops_per_trip, int reps = 7) {
  const long iterations = 20'000'000;
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    timespec t0, t1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    loop(iterations);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    const double s = static_cast<double>(t1.tv_sec - t0.tv_sec) + 1e-9 * static_cast<double>(t1.tv_nsec - t0.tv_nsec);
    best = std::max(best, ops_per_trip * iterations / s / 1e9);
  }
  return best;
}

void measure_peaks() {
  peaks.int8 = measure_peak(peak_vpdpbusd, 12 * 64 * 2, pool());
  peaks.fma = measure_peak(peak_vfmadd, 12 * 16 * 2, pool());
  core_peaks.int8 = measure_core_peak(peak_vpdpbusd, 12 * 64 * 2);
  core_peaks.fma = measure_core_peak(peak_vfmadd, 12 * 16 * 2);
  if (cpu_features().avx512_bf16) {
    peaks.bf16 = measure_peak(peak_vdpbf16ps, 12 * 32 * 2, pool());
    core_peaks.bf16 = measure_core_peak(peak_vdpbf16ps, 12 * 32 * 2);
  }
  std::printf("peak (%d threads, wall clock, register-only): vpdpbusd %.0f GOP/s, vfmadd231ps %.0f GFLOP/s, "
              "vdpbf16ps %.0f GFLOP/s\n", bench_threads, peaks.int8, peaks.fma, peaks.bf16);
  std::printf("peak (1 thread, per CPU-second): vpdpbusd %.0f GOP/s, vfmadd231ps %.0f GFLOP/s, vdpbf16ps %.0f GFLOP/s\n",
              core_peaks.int8, core_peaks.fma, core_peaks.bf16);
}

void BM_peak(benchmark::State& state, void (*loop)(long), double ops_per_trip) {
  const long iterations = 10'000'000;
  for (auto _ : state) pool().run(bench_threads, [&](int, int) { loop(iterations); });
  state.counters["GOPs"] = benchmark::Counter(ops_per_trip * iterations * bench_threads / 1e9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

// ---- Weights: random valid blocks (fp16 scales sane, codes random), no slow quantizer. ----

struct Weights {
  std::vector<uint8_t> bytes;
  WeightMatrix w;
};

Weights make_weights(DType type, int64_t n, int64_t k) {
  const auto t = *dtype_traits(type);
  const size_t row_bytes = dtype_row_bytes(type, k);
  Weights out;
  out.bytes.resize(static_cast<size_t>(n) * row_bytes + 64);
  std::mt19937_64 rng(42);
  for (size_t i = 0; i + 8 <= out.bytes.size(); i += 8) {
    const uint64_t v = rng();
    std::memcpy(out.bytes.data() + i, &v, 8);
  }
  uint8_t* base = out.bytes.data();
  const size_t blocks = static_cast<size_t>(n) * row_bytes / t.block_bytes;
  const uint16_t small = f32_to_fp16(0.01f);
  auto set16 = [](uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); };
  for (size_t b = 0; b < blocks; ++b) {
    uint8_t* p = base + b * t.block_bytes;
    switch (type) {
      case DType::q8_0: case DType::q4_0: case DType::q5_0: set16(p, small); break;
      case DType::q4_k: set16(p, small); set16(p + 2, small); break;
      case DType::q6_k: set16(p + offsetof(block_q6_K, d), small); break;
      case DType::f16: set16(p, f32_to_fp16(static_cast<float>(static_cast<int8_t>(p[0])) / 256.0f)); break;
      case DType::bf16: set16(p, f32_to_bf16(static_cast<float>(static_cast<int8_t>(p[0])) / 256.0f)); break;
      case DType::f32: {
        const float v = static_cast<float>(static_cast<int8_t>(p[0])) / 256.0f;
        std::memcpy(p, &v, 4);
        break;
      }
      default: break;
    }
  }
  out.w = {type, base, n, k, row_bytes};
  return out;
}

double peak_for(DType type, const Peaks& p = peaks) {
  if (type == DType::bf16) return p.bf16;
  if (type == DType::f16 || type == DType::f32) return p.fma;
  return p.int8;
}

// args: n, k, threads, onednn one-call strategy
void BM_gemm(benchmark::State& state, DType type, GemmPath path) {
  const int64_t m = 512, n = state.range(0), k = state.range(1);
  const int threads = static_cast<int>(state.range(2));
  gemm_onednn_set_one_call(state.range(3) != 0);
  if (!gemm_path_available(path, type)) {
    state.SkipWithError("path not available");
    return;
  }
  static std::vector<float> x, y;
  x.assign(static_cast<size_t>(m * k), 0.0f);
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (auto& v : x) v = dist(rng);
  y.assign(static_cast<size_t>(m * n), 0.0f);
  const Weights wt = make_weights(type, n, k);
  gemm_with(selected_isa(), path, wt.w, x.data(), m, k, y.data(), n, pool(), threads);  // warm-up
  const double cpu0 = cpu_seconds();
  for (auto _ : state) {
    gemm_with(selected_isa(), path, wt.w, x.data(), m, k, y.data(), n, pool(), threads);
    benchmark::ClobberMemory();
  }
  const double cpu_s = cpu_seconds() - cpu0;
  const double flops = 2.0 * m * n * k;
  // bf16 dot products are measured against the vdpbf16ps peak, everything else float against FMA.
  const bool bf16_dot = path == GemmPath::own_bf16 || path == GemmPath::onednn_bf16;
  const DType peak_type = type == DType::bf16 && !bf16_dot ? DType::f32 : type;
  state.counters["GFLOPs"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  // Fraction of the matching peak (both threads); 1-thread runs against half of it.
  const double peak = peak_for(peak_type) * threads / bench_threads;
  state.counters["of_peak"] = benchmark::Counter(peak > 0 ? flops / 1e9 / peak : 0,
                                                 benchmark::Counter::kIsIterationInvariantRate);
  // Per CPU-second of all threads (spinning included), against one core's peak.
  const double per_core_peak = peak_for(peak_type, core_peaks);
  state.counters["of_peak_cpu"] =
      per_core_peak > 0 ? flops * static_cast<double>(state.iterations()) / cpu_s / 1e9 / per_core_peak : 0;
  gemm_onednn_set_one_call(false);
}

#if defined(OLLM_GEMM_BENCH_DECODE)
// Small m: the decode path (matmul.hpp) against the GEMM, to place gemm_supports()'s crossover.
void BM_crossover(benchmark::State& state, DType type) {
  const int64_t m = state.range(0), n = 4096, k = 4096;
  const bool use_gemm = state.range(1) != 0;
  std::vector<float> x(static_cast<size_t>(m * k)), y(static_cast<size_t>(m * n));
  std::mt19937 rng(2);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (auto& v : x) v = dist(rng);
  const Weights wt = make_weights(type, n, k);
  for (auto _ : state) {
    if (use_gemm)
      gemm_with(selected_isa(), GemmPath::automatic, wt.w, x.data(), m, k, y.data(), n, pool(), bench_threads);
    else
      decode_matmul(selected_isa(), wt.w, x.data(), m, k, y.data(), n, pool(), bench_threads);
    benchmark::ClobberMemory();
  }
  state.counters["GFLOPs"] = benchmark::Counter(2.0 * m * n * k / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}
#endif

void register_all() {
  benchmark::RegisterBenchmark("peak/vpdpbusd_zmm", BM_peak, peak_vpdpbusd, 12.0 * 64 * 2)->UseRealTime();
  benchmark::RegisterBenchmark("peak/vfmadd231ps_zmm", BM_peak, peak_vfmadd, 12.0 * 16 * 2)->UseRealTime();
  if (cpu_features().avx512_bf16)
    benchmark::RegisterBenchmark("peak/vdpbf16ps_zmm", BM_peak, peak_vdpbf16ps, 12.0 * 32 * 2)->UseRealTime();

  struct Entry {
    DType type;
    const char* name;
  };
  struct Variant {
    GemmPath path;
    const char* name;
    bool one_thread;  // also at 1 thread
    bool one_call;    // also as one oneDNN call with 2 OpenMP threads
  };
  const std::vector<Variant> quantized = {{GemmPath::int8, "int8", true, false},
                                          {GemmPath::onednn_dequant, "dequant_onednn", false, false}};
  const std::vector<Variant> floats = {{GemmPath::own_float, "own_f32", true, false},
                                       {GemmPath::onednn, "onednn_f32", false, true}};
  const std::vector<Variant> bf16 = {{GemmPath::own_float, "own_f32", true, false},
                                     {GemmPath::onednn, "onednn_f32", false, false},
                                     {GemmPath::own_bf16, "own_bf16", true, false},
                                     {GemmPath::onednn_bf16, "onednn_bf16", false, true}};
  for (const Entry e : {Entry{DType::q4_k, "Q4_K"}, Entry{DType::q8_0, "Q8_0"}, Entry{DType::q4_0, "Q4_0"},
                        Entry{DType::q6_k, "Q6_K"}, Entry{DType::q5_0, "Q5_0"}, Entry{DType::f16, "F16"},
                        Entry{DType::bf16, "BF16"}, Entry{DType::f32, "F32"}}) {
    const bool is_float = e.type == DType::f16 || e.type == DType::bf16 || e.type == DType::f32;
    for (const Variant& v : e.type == DType::bf16 ? bf16 : is_float ? floats : quantized) {
      auto* b = benchmark::RegisterBenchmark((std::string("gemm/") + e.name + "/" + v.name).c_str(), BM_gemm,
                                             e.type, v.path);
      b->ArgNames({"n", "k", "threads", "omp1call"})->UseRealTime()->Unit(benchmark::kMillisecond);
      for (const auto nk : {std::pair<int64_t, int64_t>{4096, 4096}, {14336, 4096}}) {
        b->Args({nk.first, nk.second, 2, 0});
        if (v.one_thread) b->Args({nk.first, nk.second, 1, 0});
        if (v.one_call) b->Args({nk.first, nk.second, 2, 1});
      }
    }
  }
#if defined(OLLM_GEMM_BENCH_DECODE)
  for (const Entry e : {Entry{DType::q4_k, "Q4_K"}, Entry{DType::q8_0, "Q8_0"}}) {
    auto* b = benchmark::RegisterBenchmark((std::string("crossover/") + e.name).c_str(), BM_crossover, e.type);
    b->ArgNames({"m", "gemm"})->UseRealTime()->Unit(benchmark::kMillisecond);
    for (const int64_t m : {2, 4, 6, 8, 12, 16, 32, 64})
      for (const int64_t g : {0, 1}) b->Args({m, g});
  }
#endif
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  measure_peaks();
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
