// Microbenchmarks of attention and the row ops (numbers go to docs/BENCHMARKS.md, never asserted):
// the machine's read bandwidth, decode attention as GB/s of K/V read (cold: a different cache per
// "layer", as in a real decode step), causal prefill as GFLOP/s, rms_norm and rope throughput.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "cpu/attention.hpp"
#include "cpu/ops.hpp"
#include "cpu/quant_blocks.hpp"
#include "cpu/quantize.hpp"
#include "cpu/thread_pool.hpp"

using namespace ollm;
using namespace ollm::cpu;

namespace {

constexpr size_t cold_bytes = size_t{256} << 20;  // well past the 32 MiB L3

ThreadPool& pool() {
  static ThreadPool p(2);
  return p;
}

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// Read bandwidth: threads sum disjoint slices of a 256 MiB buffer (8 independent accumulators).
void BM_read_bandwidth(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const size_t n = cold_bytes / 8;
  static std::vector<uint64_t> buf(n, 1);
  std::vector<uint64_t> sums(static_cast<size_t>(threads));
  for (auto _ : state) {
    pool().parallel_for(static_cast<int64_t>(n), threads, 4096, [&](int64_t b, int64_t e, int t) {
      uint64_t a[8] = {};
      for (int64_t i = b; i + 8 <= e; i += 8)
        for (int j = 0; j < 8; ++j) a[j] += buf[static_cast<size_t>(i + j)];
      sums[static_cast<size_t>(t)] = a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
    });
    benchmark::DoNotOptimize(sums.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(cold_bytes));
}
BENCHMARK(BM_read_bandwidth)->Arg(1)->Arg(2)->UseRealTime()->MinTime(1.0);

// One layer's K and V for one sequence (bits 8: Q8_0, 16: F16, 32: F32), blocks of 256 tokens.
struct Layer {
  std::vector<uint8_t> k, v;
  std::vector<const void*> kb, vb;
};

struct DecodeSetup {
  AttentionParams p;
  DType type;
  int64_t n_kv;
  size_t token_bytes;
  std::vector<Layer> layers;
  std::vector<float> q;
  std::vector<int32_t> pos;
};

DecodeSetup make_setup(DType type, int64_t n_kv, int64_t n_q, size_t min_total) {
  DecodeSetup s;
  s.p.n_heads = 32;
  s.p.n_kv_heads = 8;
  s.p.head_dim = s.p.head_dim_v = 128;
  s.p.scale = 1.0f / std::sqrt(128.0f);
  s.type = type;
  s.n_kv = n_kv;
  s.token_bytes = dtype_row_bytes(type, 8 * 128);
  const size_t layer_bytes = 2 * s.token_bytes * static_cast<size_t>(n_kv);
  const size_t n_layers = std::max<size_t>(1, min_total / layer_bytes);
  const auto vals = random_floats(static_cast<size_t>(n_kv) * 8 * 128, 1);
  std::vector<uint8_t> row_bytes(s.token_bytes * static_cast<size_t>(n_kv));
  if (type == DType::q8_0) quantize_row(type, vals.data(), row_bytes.data(), static_cast<int64_t>(vals.size()));
  for (size_t i = 0; i < vals.size() && type != DType::q8_0; ++i) {
    if (type == DType::f32) {
      std::memcpy(row_bytes.data() + 4 * i, &vals[i], 4);
    } else {
      const uint16_t h = type == DType::f16 ? f32_to_fp16(vals[i]) : f32_to_bf16(vals[i]);
      std::memcpy(row_bytes.data() + 2 * i, &h, 2);
    }
  }
  const int64_t bt = 256;
  s.layers.resize(n_layers);
  for (Layer& l : s.layers) {
    l.k = row_bytes;
    l.v = row_bytes;
    for (int64_t t = 0; t < n_kv; t += bt) {
      l.kb.push_back(l.k.data() + static_cast<size_t>(t) * s.token_bytes);
      l.vb.push_back(l.v.data() + static_cast<size_t>(t) * s.token_bytes);
    }
  }
  s.q = random_floats(static_cast<size_t>(n_q) * 32 * 128, 2);
  for (int64_t i = 0; i < n_q; ++i) s.pos.push_back(static_cast<int32_t>(n_kv - n_q + i));
  return s;
}

// Decode: one query per step over n_kv cached tokens; every iteration reads another layer's cache.
DType type_of_bits(int64_t bits) { return bits == 8 ? DType::q8_0 : bits == 16 ? DType::f16 : DType::f32; }

void BM_attention_decode(benchmark::State& state) {
  const DType type = type_of_bits(state.range(0));
  const int64_t n_kv = state.range(1);
  const int threads = static_cast<int>(state.range(2));
  const bool cold = state.range(3) != 0;  // 0: one cache read again and again (caches warm)
  DecodeSetup s = make_setup(type, n_kv, 1, cold ? cold_bytes : 0);
  std::vector<float> out(32 * 128);
  size_t li = 0;
  for (auto _ : state) {
    const Layer& l = s.layers[li];
    li = (li + 1) % s.layers.size();
    const KvView k{type, l.kb.data(), 256, n_kv, s.token_bytes};
    const KvView v{type, l.vb.data(), 256, n_kv, s.token_bytes};
    attention(s.p, s.q.data(), s.pos.data(), 1, k, v, out.data(), pool(), threads);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(2 * s.token_bytes) * n_kv);
  state.counters["layers"] = static_cast<double>(s.layers.size());
}
BENCHMARK(BM_attention_decode)
    ->ArgsProduct({{8, 16, 32}, {512, 4096, 16384}, {1, 2}, {1}})
    ->ArgsProduct({{8, 16, 32}, {512, 4096}, {1, 2}, {0}})
    ->ArgNames({"bits", "n_kv", "threads", "cold"})
    ->UseRealTime()
    ->MinTime(1.0);

// Causal prefill of 512 new tokens into an empty cache (positions 0..511).
void BM_attention_prefill(benchmark::State& state) {
  const DType type = type_of_bits(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  const int64_t n = 512;
  DecodeSetup s = make_setup(type, n, n, 0);
  std::vector<float> out(static_cast<size_t>(n) * 32 * 128);
  const Layer& l = s.layers[0];
  const KvView k{type, l.kb.data(), 256, n, s.token_bytes};
  const KvView v{type, l.vb.data(), 256, n, s.token_bytes};
  for (auto _ : state) {
    attention(s.p, s.q.data(), s.pos.data(), n, k, v, out.data(), pool(), threads);
    benchmark::DoNotOptimize(out.data());
  }
  // QK^T and PV: 2 flops per multiply-add each, over the n(n+1)/2 visible (query, key) pairs.
  const double flops = 4.0 * 128 * 32 * (double(n) * (n + 1) / 2);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_attention_prefill)
    ->ArgsProduct({{8, 16, 32}, {1, 2}})
    ->ArgNames({"bits", "threads"})
    ->UseRealTime()
    ->MinTime(1.0);

// rms_norm over [rows, 4096] (one thread): bytes = read x + write y.
void BM_rms_norm(benchmark::State& state) {
  const int64_t rows = state.range(0), n = 4096;
  const auto x = random_floats(static_cast<size_t>(rows * n), 3);
  const auto w = random_floats(static_cast<size_t>(n), 4);
  std::vector<float> y(x.size());
  for (auto _ : state) {
    rms_norm(x.data(), w.data(), y.data(), rows, n, 1e-6f);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * rows * n * 8);
}
BENCHMARK(BM_rms_norm)->Arg(1)->Arg(64)->Arg(512)->UseRealTime();

// rope on q of [n_tok, 32 heads, 128] (one thread, neox layout, positions 1000..): items = tokens.
void BM_rope(benchmark::State& state) {
  const int64_t n_tok = state.range(0);
  RopeParams p;
  p.head_dim = p.rot_dims = 128;
  p.theta_base = 500000.0f;
  p.layout = state.range(1) ? RopeLayout::neox : RopeLayout::normal;
  const RopeTable t = make_rope_table(p);
  auto x = random_floats(static_cast<size_t>(n_tok) * 32 * 128, 5);
  std::vector<int32_t> pos(static_cast<size_t>(n_tok));
  for (int64_t i = 0; i < n_tok; ++i) pos[static_cast<size_t>(i)] = static_cast<int32_t>(1000 + i);
  for (auto _ : state) {
    rope(p, t, x.data(), n_tok, 32, pos.data());
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * n_tok);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * n_tok * 32 * 128 * 8);
}
BENCHMARK(BM_rope)->ArgsProduct({{1, 512}, {0, 1}})->ArgNames({"n_tok", "neox"})->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
