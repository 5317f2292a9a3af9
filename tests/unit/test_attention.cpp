// CPU attention on every compiled ISA variant and 1/2/3 threads against a float64 reference written
// out here (HF eager semantics: scale, soft-cap, causal/window masks, GQA head mapping, gpt-oss
// sinks): block-based caches with blocks that do not divide the tokens, odd row alignment and NaN
// padding, F32/F16/BF16, prefill continuing a cache, long-KV decode through the split-KV path.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "cpu/attention.hpp"
#include "cpu/dequantize.hpp"
#include "cpu/quant_blocks.hpp"
#include "cpu/quantize.hpp"
#include "cpu/thread_pool.hpp"
#include "ollm/error.hpp"
#include "ollm/ops.hpp"
#include "cpu/llamacpp_numerics.hpp"
#include "ops_test_support.hpp"

using namespace ollm;
using namespace ollm::cpu;
using ops_test::Buffer;
using ops_test::random_floats;
using ops_test::rel_error;

namespace {

// Normalised error tolerance per K/V type. The reference reads the same (rounded) K/V values, so
// every type is held to f32 accumulation error.
double tolerance(DType type) {
  switch (type) {
    case DType::f32: return 5e-6;
    case DType::f16: return 5e-6;
    case DType::bf16: return 5e-6;
    case DType::q8_0: return 5e-6;
    default: return 0.0;
  }
}

// A sequence's K or V in blocks of block_tokens rows. Rows are token_stride bytes apart (padded,
// odd) at an odd byte offset; padding and unused rows hold 0xff bytes, a NaN in every type, so a
// read of anything but a valid row shows up in the output.
struct Cache {
  DType type;
  int n_kv_heads, dim;
  int64_t n_tokens, block_tokens;
  size_t token_stride;
  std::vector<std::vector<uint8_t>> storage;
  std::vector<const void*> blocks;
  std::vector<double> values;  // [n_tokens, n_kv_heads * dim]: what the cache holds, as f64

  KvView view() const { return {type, blocks.data(), block_tokens, n_tokens, token_stride}; }
  double at(int64_t token, int head, int e) const { return values[(token * n_kv_heads + head) * dim + e]; }
};

Cache make_cache(DType type, int64_t n_tokens, int64_t block_tokens, int n_kv_heads, int dim, uint64_t seed) {
  Cache c{type, n_kv_heads, dim, n_tokens, block_tokens, 0, {}, {}, {}};
  const size_t row_elems = static_cast<size_t>(n_kv_heads) * static_cast<size_t>(dim);
  c.token_stride = dtype_row_bytes(type, static_cast<int64_t>(row_elems)) + 5;
  const int64_t n_blocks = std::max<int64_t>(1, (n_tokens + block_tokens - 1) / block_tokens);
  const auto raw = random_floats(static_cast<size_t>(n_tokens) * row_elems, seed);
  c.values.resize(raw.size());
  c.storage.resize(static_cast<size_t>(n_blocks));
  for (int64_t b = 0; b < n_blocks; ++b) {
    auto& s = c.storage[static_cast<size_t>(b)];
    s.assign(static_cast<size_t>(block_tokens) * c.token_stride + 3, 0xff);
    c.blocks.push_back(s.data() + 3);
  }
  for (int64_t t = 0; t < n_tokens; ++t) {
    uint8_t* row = c.storage[static_cast<size_t>(t / block_tokens)].data() + 3 +
                   static_cast<size_t>(t % block_tokens) * c.token_stride;
    if (type == DType::q8_0) {  // whole blocks per head: quantize the row, read back what it holds
      const float* src = raw.data() + static_cast<size_t>(t) * row_elems;
      quantize_row(type, src, row, static_cast<int64_t>(row_elems));
      std::vector<float> back(row_elems);
      dequantize_row(type, row, back.data(), static_cast<int64_t>(row_elems));
      for (size_t i = 0; i < row_elems; ++i) c.values[static_cast<size_t>(t) * row_elems + i] = back[i];
      continue;
    }
    for (size_t i = 0; i < row_elems; ++i) {
      const float f = raw[static_cast<size_t>(t) * row_elems + i];
      double stored = f;
      if (type == DType::f32) {
        std::memcpy(row + 4 * i, &f, 4);
      } else {
        const uint16_t h = type == DType::f16 ? f32_to_fp16(f) : f32_to_bf16(f);
        std::memcpy(row + 2 * i, &h, 2);
        stored = type == DType::f16 ? fp16_to_f32(h) : bf16_to_f32(h);
      }
      c.values[static_cast<size_t>(t) * row_elems + i] = stored;
    }
  }
  return c;
}

// HF eager attention in float64 (GQA by repeat_kv: head h reads KV head h / group).
std::vector<double> reference(const AttentionParams& p, const std::vector<float>& q, const std::vector<int32_t>& pos,
                              const Cache& k, const Cache& v) {
  const int64_t n_q = static_cast<int64_t>(pos.size());
  const int group = p.n_heads / p.n_kv_heads;
  std::vector<double> out(static_cast<size_t>(n_q * p.n_heads * p.head_dim_v), 0.0);
  std::vector<double> s(static_cast<size_t>(k.n_tokens));
  for (int64_t i = 0; i < n_q; ++i)
    for (int h = 0; h < p.n_heads; ++h) {
      const int kh = h / group;
      const float* qr = q.data() + (i * p.n_heads + h) * p.head_dim;
      double m = -INFINITY;
      std::vector<int64_t> visible;
      for (int64_t j = 0; j < k.n_tokens; ++j) {
        if (p.causal && j > pos[i]) continue;
        if (p.window > 0 && pos[i] - j >= p.window) continue;
        double dot = 0.0;
        for (int e = 0; e < p.head_dim; ++e) dot += double(qr[e]) * k.at(j, kh, e);
        dot *= p.scale;
        if (p.softcap > 0) dot = p.softcap * std::tanh(dot / p.softcap);
        s[j] = dot;
        m = std::max(m, dot);
        visible.push_back(j);
      }
      if (p.sinks) m = std::max(m, double(p.sinks[h]));
      if (visible.empty() && !p.sinks) continue;  // no key: a zero row
      double denom = p.sinks ? std::exp(p.sinks[h] - m) : 0.0;
      for (int64_t j : visible) denom += std::exp(s[j] - m);
      double* o = out.data() + (i * p.n_heads + h) * p.head_dim_v;
      for (int64_t j : visible) {
        const double w = std::exp(s[j] - m) / denom;
        for (int e = 0; e < p.head_dim_v; ++e) o[e] += w * v.at(j, kh, e);
      }
    }
  return out;
}

struct Case {
  const char* name;
  int n_heads, n_kv_heads, head_dim, head_dim_v;
  DType type;
  int64_t n_kv, block_tokens, n_q, first_pos;
  bool causal = true;
  int64_t window = 0;
  float softcap = 0;
  bool sinks = false;
  float q_amp = 1;
};

ThreadPool& test_pool() {
  static ThreadPool pool(3);
  return pool;
}

// Runs one case on every ISA and 1/2/3 threads; queries at first_pos, first_pos + 1, ...
void run_case(const Case& c, const std::vector<int32_t>& explicit_pos = {}) {
  const std::string name = c.name;
  CAPTURE(name);
  AttentionParams p;
  p.n_heads = c.n_heads;
  p.n_kv_heads = c.n_kv_heads;
  p.head_dim = c.head_dim;
  p.head_dim_v = c.head_dim_v;
  p.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  p.softcap = c.softcap;
  p.causal = c.causal;
  p.window = c.window;
  const auto sinks = random_floats(static_cast<size_t>(c.n_heads), 7, -2.0f, 4.0f);
  if (c.sinks) p.sinks = sinks.data();
  const Cache k = make_cache(c.type, c.n_kv, c.block_tokens, c.n_kv_heads, c.head_dim, 101);
  const Cache v = make_cache(c.type, c.n_kv, c.block_tokens, c.n_kv_heads, c.head_dim_v, 202);
  std::vector<int32_t> pos = explicit_pos;
  if (pos.empty())
    for (int64_t i = 0; i < c.n_q; ++i) pos.push_back(static_cast<int32_t>(c.first_pos + i));
  const int64_t n_q = static_cast<int64_t>(pos.size());
  const auto qv = random_floats(static_cast<size_t>(n_q * c.n_heads * c.head_dim), 303, -c.q_amp, c.q_amp);
  Buffer q(qv.size());
  q.assign(qv);
  const auto ref = reference(p, qv, pos, k, v);
  Buffer out(ref.size(), 3);
  for (Isa isa : ops_test::supported_isas()) {
    const std::string isa_s = isa_name(isa);
    CAPTURE(isa_s);
    for (int threads : {1, 2, 3}) {
      CAPTURE(threads);
      out.poison();
      attention(isa, p, q.data(), pos.data(), n_q, k.view(), v.view(), out.data(), test_pool(), threads);
      const double err = rel_error(out.data(), ref.data(), ref.size());
      CHECK(err < tolerance(c.type));
      CHECK_INTACT(out);
      CHECK_INTACT(q);
    }
  }
  // Numerics::llamacpp's attention (cpu/llamacpp_numerics.hpp): exact order-of-rounding differences
  // only with an F32 cache; with F16 it rounds q and the probabilities to fp16 (relative 2^-11 each).
  if (llamacpp::attention_supported(c.type)) {
    for (int threads : {1, 3}) {
      CAPTURE(threads);
      out.poison();
      llamacpp::attention(p, q.data(), pos.data(), n_q, k.view(), v.view(), out.data(), test_pool(), threads);
      CHECK_INTACT(out);
      CHECK_INTACT(q);
      const double err = rel_error(out.data(), ref.data(), ref.size());
      MESSAGE(name << ": llamacpp numerics, normalised error " << err);
      CHECK(err < (c.type == DType::f32 ? 5e-6 : 2e-3));
    }
  }
}

}  // namespace

TEST_CASE("attention: GQA ratios 1/2/4/8 and MQA, prefill continuing a cache, causal") {
  // 37 new queries at positions 63..99 over a 100-token cache in blocks of 16.
  run_case({"ratio 1", 8, 8, 64, 64, DType::f32, 100, 16, 37, 63});
  run_case({"ratio 2", 8, 4, 64, 64, DType::f32, 100, 16, 37, 63});
  run_case({"ratio 4", 8, 2, 64, 64, DType::f32, 100, 16, 37, 63});
  run_case({"ratio 8", 16, 2, 64, 64, DType::f32, 100, 16, 37, 63});
  run_case({"MQA", 8, 1, 64, 64, DType::f32, 100, 16, 37, 63});
  run_case({"ratio 3", 6, 2, 64, 64, DType::f16, 100, 13, 37, 63});
}

TEST_CASE("attention: head dims 32/64/80/128/256 and tails, K/V types F32/F16/BF16, odd block sizes") {
  for (DType type : {DType::f32, DType::f16, DType::bf16}) {
    CAPTURE(dtype_name(type));
    run_case({"hd 32", 4, 2, 32, 32, type, 70, 7, 37, 33});
    run_case({"hd 64", 4, 2, 64, 64, type, 70, 7, 37, 33});
    run_case({"hd 80", 4, 2, 80, 80, type, 70, 7, 37, 33});
    run_case({"hd 128", 4, 1, 128, 128, type, 70, 9, 37, 33});
    run_case({"hd 256", 4, 2, 256, 256, type, 45, 1000, 37, 8});
    run_case({"hd 72 (vector tail)", 4, 2, 72, 72, type, 50, 6, 11, 39});
    run_case({"hd 20, v 12 (tails only)", 2, 1, 20, 12, type, 50, 5, 9, 41});
    run_case({"hd 96, v 64", 4, 2, 96, 64, type, 60, 16, 20, 40});
  }
}

TEST_CASE("attention: Q8_0 K/V (head dims in whole 32-element blocks)") {
  run_case({"q8_0 hd 64", 8, 2, 64, 64, DType::q8_0, 100, 16, 37, 63});
  run_case({"q8_0 hd 128, decode", 8, 2, 128, 128, DType::q8_0, 1500, 64, 1, 1499});
  run_case({"q8_0 hd 32, v 96, window, sinks", 4, 1, 32, 96, DType::q8_0, 70, 7, 20, 50, true, 9, 0, true});
  run_case({"q8_0 hd 256, softcap", 4, 2, 256, 256, DType::q8_0, 40, 9, 5, 35, true, 0, 30.0f, false, 4.0f});
}

TEST_CASE("attention: bidirectional, sliding window, soft-capping, sinks and their combinations") {
  run_case({"bidirectional", 4, 2, 64, 64, DType::f32, 50, 8, 20, 0, false});
  run_case({"bidirectional window", 4, 2, 64, 64, DType::f32, 50, 8, 20, 10, false, 7});
  run_case({"causal window 16", 8, 2, 64, 64, DType::f16, 120, 32, 37, 83, true, 16});
  run_case({"window 1 (self only)", 4, 4, 32, 32, DType::f32, 40, 8, 10, 30, true, 1});
  run_case({"softcap 20, large scores", 4, 2, 128, 128, DType::f32, 90, 16, 37, 53, true, 0, 20.0f, false, 6.0f});
  run_case({"softcap 50 + window", 4, 2, 128, 128, DType::bf16, 90, 16, 37, 53, true, 24, 50.0f, false, 4.0f});
  run_case({"sinks", 8, 2, 64, 64, DType::f32, 80, 16, 37, 43, true, 0, 0, true});
  run_case({"sinks + window (gpt-oss local)", 8, 1, 64, 64, DType::bf16, 80, 16, 37, 43, true, 12, 0, true, 3.0f});
  run_case({"sinks, bidirectional", 4, 2, 32, 32, DType::f16, 30, 8, 5, 0, false, 0, 0, true});
}

TEST_CASE("attention: unsorted positions, positions past the cache, rows that see no key") {
  run_case({"unsorted", 4, 2, 64, 64, DType::f32, 100, 16, 0, 0}, {90, 3, 50, 3, 0, 99, 64});
  run_case({"past the cache", 4, 2, 64, 64, DType::f16, 40, 16, 0, 0}, {39, 45, 200});
  // A window that starts after the last key: nothing visible, zero rows (and sinks: still zero).
  run_case({"nothing visible", 4, 2, 64, 64, DType::f32, 20, 8, 0, 0, true, 5}, {50, 10, 60});
  run_case({"nothing visible, sinks", 4, 2, 64, 64, DType::f32, 20, 8, 0, 0, true, 5, 0, true}, {50, 10, 60});
  run_case({"empty cache", 4, 2, 64, 64, DType::f32, 0, 8, 0, 0}, {0, 1});
}

TEST_CASE("attention: decode over a long cache takes the split-KV path and matches float64") {
  AttentionParams p;
  p.n_heads = 32;
  p.n_kv_heads = 8;
  p.head_dim = p.head_dim_v = 128;
  CHECK(plan_attention(p, 1, 4096, 1).kv_splits == 1);
  CHECK(plan_attention(p, 1, 4096, 1).heads_per_item == 8);  // decode reads whole token rows
  CHECK(plan_attention(p, 512, 4096, 2).heads_per_item == 1);
  CHECK(plan_attention(p, 1, 4096, 3).kv_splits > 1);  // 8 heads over 3 threads: split to balance
  CHECK(plan_attention(p, 512, 4096, 3).kv_splits == 1);  // prefill: items are plenty
  p.n_kv_heads = 1;
  CHECK(plan_attention(p, 1, 4096, 2).kv_splits > 1);
  CHECK(plan_attention(p, 1, 100, 2).kv_splits == 1);  // too short to be worth splitting
  run_case({"decode 32/8 hd128 f16", 32, 8, 128, 128, DType::f16, 4096, 256, 1, 4095});
  run_case({"decode MQA f32", 8, 1, 128, 128, DType::f32, 4096, 100, 1, 4095});
  run_case({"decode 2 queries, window, sinks", 8, 2, 64, 64, DType::bf16, 3000, 64, 2, 2998, true, 1000, 0, true});
  run_case({"decode softcap", 4, 4, 64, 64, DType::f16, 2048, 128, 1, 2047, true, 0, 30.0f, false, 5.0f});
}

TEST_CASE("attention: a NaN in a query poisons that query's rows only") {
  AttentionParams p;
  p.n_heads = 4;
  p.n_kv_heads = 2;
  p.head_dim = p.head_dim_v = 32;
  p.scale = 0.2f;
  const Cache k = make_cache(DType::f32, 600, 64, 2, 32, 1), v = make_cache(DType::f32, 600, 64, 2, 32, 2);
  auto qv = random_floats(2 * 4 * 32, 3);
  qv[5] = ops_test::nan_f;  // query 0, head 0
  const std::vector<int32_t> pos = {599, 599};
  Buffer q(qv, 2);
  for (Isa isa : ops_test::supported_isas()) {
    for (int threads : {1, 3}) {
      const std::string isa_s = isa_name(isa);
    CAPTURE(isa_s);
      CAPTURE(threads);
      Buffer out(2 * 4 * 32);
      attention(isa, p, q.data(), pos.data(), 2, k.view(), v.view(), out.data(), test_pool(), threads);
      CHECK_INTACT(out);
      CHECK_INTACT(q);
      for (int e = 0; e < 32; ++e) CHECK(std::isnan(out[e]));             // query 0, head 0
      for (size_t e = 32; e < out.size(); ++e) CHECK(std::isfinite(out[e]));  // everything else
    }
  }
}

TEST_CASE("public attention validates shapes and types, and matches the reference") {
  AttentionParams p;
  p.n_heads = 4;
  p.n_kv_heads = 2;
  p.head_dim = p.head_dim_v = 64;
  p.scale = 0.125f;
  const int64_t n_kv = 30;
  const Cache k = make_cache(DType::f16, n_kv, n_kv, 2, 64, 11), v = make_cache(DType::f16, n_kv, n_kv, 2, 64, 12);
  // Contiguous copies of the single block (the public API takes [n_kv, n_kv_heads, dim] bytes).
  std::vector<uint8_t> kb, vb;
  for (int64_t t = 0; t < n_kv; ++t) {
    const auto* kr = static_cast<const uint8_t*>(k.blocks[0]) + t * k.token_stride;
    const auto* vr = static_cast<const uint8_t*>(v.blocks[0]) + t * v.token_stride;
    kb.insert(kb.end(), kr, kr + 2 * 64 * 2);
    vb.insert(vb.end(), vr, vr + 2 * 64 * 2);
  }
  const std::vector<int32_t> pos = {25, 26, 27, 28, 29};
  const auto qv = random_floats(5 * 4 * 64, 13);
  Buffer out(5 * 4 * 64);
  ollm::attention(p, qv, pos, DType::f16, kb, vb, out.span());
  CHECK_INTACT(out);
  const auto ref = reference(p, qv, pos, k, v);
  CHECK(rel_error(out.data(), ref.data(), ref.size()) < tolerance(DType::f16));

  auto expect_error = [&](const AttentionParams& pp, DType type, size_t q_size, size_t k_size, size_t out_size,
                          const std::vector<int32_t>& ps, ErrorCode code, const std::string& text) {
    std::vector<float> qq(q_size), oo(out_size);
    std::vector<uint8_t> kk(k_size, 0), vv(k_size, 0);
    try {
      ollm::attention(pp, qq, ps, type, kk, vv, oo);
      FAIL("no error: " << text);
    } catch (const Error& e) {
      CHECK(e.code() == code);
      CHECK_MESSAGE(std::string(e.what()).find(text) != std::string::npos, e.what());
    }
  };
  const size_t qs = 5 * 4 * 64, ks = n_kv * 2 * 64 * 2;
  AttentionParams bad = p;
  bad.n_kv_heads = 3;
  expect_error(bad, DType::f16, qs, ks, qs, pos, ErrorCode::invalid_argument, "n_heads 4 is not a multiple of n_kv_heads 3");
  expect_error(p, DType::f16, qs - 1, ks, qs, pos, ErrorCode::invalid_argument, "q has 1279 values");
  expect_error(p, DType::f16, qs, ks, qs + 1, pos, ErrorCode::invalid_argument, "out has 1281 values");
  expect_error(p, DType::f16, qs, ks + 2, qs, pos, ErrorCode::invalid_argument, "k has 7682 bytes");
  expect_error(p, DType::q4_0, qs, ks, qs, pos, ErrorCode::unsupported, "K/V type Q4_0");
  bad = p;
  bad.head_dim_v = 48;
  expect_error(bad, DType::q8_0, qs, ks, qs, pos, ErrorCode::invalid_argument, "multiples of 32 (got 64 and 48)");
  expect_error(p, DType::f16, qs, ks, qs, {25, -1, 27, 28, 29}, ErrorCode::invalid_argument, "q_pos[1] = -1");
  bad = p;
  bad.window = -3;
  expect_error(bad, DType::f16, qs, ks, qs, pos, ErrorCode::invalid_argument, "window -3");
  bad = p;
  bad.softcap = -1.0f;
  expect_error(bad, DType::f16, qs, ks, qs, pos, ErrorCode::invalid_argument, "softcap -1");
}
