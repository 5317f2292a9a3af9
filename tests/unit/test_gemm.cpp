// Prefill GEMM (kernels/cpu/gemm.hpp): every supported weight type × every compiled ISA variant ×
// every implementation path against a float64 reference dequantize_row(w) · x, over row counts
// 1..512, column tails, k spanning several blocks/groups/k-chunks, misaligned pointers, padded
// strides and 1 or 2 threads; outputs NaN-poisoned first, NaN never passes.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "backend/validate.hpp"
#include "cpu/dequantize.hpp"
#include "cpu/gemm.hpp"
#include "cpu/gemm_float.hpp"
#include "cpu/quant_blocks.hpp"
#include "cpu/quantize.hpp"
#include "ollm/error.hpp"
#include "ollm/types.hpp"
#include "ops_test_support.hpp"

using namespace ollm;
using namespace ollm::cpu;
using ops_test::Buffer;

namespace {

// Normalised error budget ‖y − ref‖ / ‖ref‖ per path. The reference uses the dequantized
// weights exactly, so only the activation side and f32 accumulation contribute:
//  - int8: activations rounded to int8 with one scale per 256 values; for Gaussian rows the
//    step is amax/127 ≈ 2.9σ/127, its rounding noise σ·0.0066, hence ≈ 0.7 % — budget 2 %.
//  - bf16 dot products (own_bf16, onednn_bf16): activations rounded to bf16 (relative step
//    2^-8, noise ≈ 0.11 %) — budget 0.5 %.
//  - f32 (own FMA tile, oneDNN f32, and F16/quantized weights converted to f32): f32 rounding
//    over k ≤ 8192 terms, measured ≤ 4e-7 — budget 1e-5.
double tolerance(GemmPath path) {
  if (path == GemmPath::int8) return 2e-2;
  if (path == GemmPath::own_bf16 || path == GemmPath::onednn_bf16) return 5e-3;
  return 1e-5;
}

const char* path_name(GemmPath p) {
  switch (p) {
    case GemmPath::automatic: return "automatic";
    case GemmPath::int8: return "int8";
    case GemmPath::own_float: return "own_float";
    case GemmPath::own_bf16: return "own_bf16";
    case GemmPath::onednn: return "onednn";
    case GemmPath::onednn_bf16: return "onednn_bf16";
    case GemmPath::onednn_dequant: return "onednn_dequant";
    case GemmPath::exact_dequant: return "exact_dequant";
  }
  return "?";
}

struct Weights {
  std::vector<uint8_t> storage;
  WeightMatrix w;
  std::vector<float> dequant;  // [n][k]
};

// n rows of k random values quantized to `type`, rows `pad` bytes apart beyond their size,
// starting `offset` bytes into the buffer.
Weights make_weights(DType type, int64_t n, int64_t k, size_t offset, size_t pad, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 0.5f);
  const size_t row_bytes = dtype_row_bytes(type, k);
  Weights out;
  out.storage.assign(offset + static_cast<size_t>(n) * (row_bytes + pad) + 64, 0xa5);
  out.w = {type, out.storage.data() + offset, n, k, row_bytes + pad};
  out.dequant.resize(static_cast<size_t>(n * k));
  std::vector<float> row(static_cast<size_t>(k));
  for (int64_t r = 0; r < n; ++r) {
    for (auto& v : row) v = dist(rng);
    uint8_t* dst = out.storage.data() + offset + static_cast<size_t>(r) * (row_bytes + pad);
    quantize_row(type, row.data(), dst, k);
    dequantize_row(type, dst, out.dequant.data() + r * k, k);
  }
  return out;
}

struct Shape {
  int64_t m, n, k;
  int threads;
};

// Runs one (type, isa, path, shape) case; returns the normalised error (NaN-free outputs,
// untouched padding and intact guards are REQUIREd on the way). x and y are exactly as long as
// the call may touch ((m - 1) strides plus one row): a write past the last output fails, and so
// does a read past the last activation that reaches an output (it brings in the sentinel NaN).
double run_case(const Weights& wt, GemmPath path, Isa isa, const Shape& s, ThreadPool& pool, std::mt19937& rng) {
  const int64_t m = s.m, n = s.n, k = s.k;
  const int64_t x_stride = k + 3, y_stride = n + 5;
  std::normal_distribution<float> dist(0.0f, 1.0f);
  Buffer xbuf(static_cast<size_t>((m - 1) * x_stride + k), 1);  // 4 bytes past a 64-byte boundary
  for (size_t i = 0; i < xbuf.size(); ++i) xbuf[i] = dist(rng);
  const float* x = xbuf.data();
  Buffer ybuf(static_cast<size_t>((m - 1) * y_stride + n), 1);  // NaN until written
  float* y = ybuf.data();
  gemm_with(isa, path, wt.w, x, m, x_stride, y, y_stride, pool, s.threads);
  REQUIRE_MESSAGE(ybuf.intact(), "y: " << ybuf.check_sentinels());
  REQUIRE_MESSAGE(xbuf.intact(), "x: " << xbuf.check_sentinels());

  double err2 = 0.0, ref2 = 0.0;
  for (int64_t r = 0; r < m; ++r) {
    for (int64_t c = 0; c < n; ++c) {
      double ref = 0.0;
      const float* wr = wt.dequant.data() + c * k;
      const float* xr = x + r * x_stride;
      for (int64_t i = 0; i < k; ++i) ref += static_cast<double>(wr[i]) * static_cast<double>(xr[i]);
      const double got = y[r * y_stride + c];
      REQUIRE_MESSAGE(std::isfinite(got), "y[" << r << "][" << c << "] = " << got << " (unwritten or NaN)");
      err2 += (got - ref) * (got - ref);
      ref2 += ref * ref;
    }
    for (int64_t c = n; c < y_stride && r + 1 < m; ++c)  // the last row has no padding
      REQUIRE_MESSAGE(std::isnan(y[r * y_stride + c]), "padding y[" << r << "][" << c << "] was written");
  }
  return std::sqrt(err2 / std::max(ref2, 1e-300));
}

// k per type: several blocks, a partial 256-group (legacy types), more than one k chunk of the
// float kernels (256) and, last, of the int8 kernels (4096).
std::vector<int64_t> k_values(DType type) {
  const uint32_t block = dtype_traits(type)->block_elements;
  if (block == 256) return {256, 768, 1280, 4352};
  if (block == 32) return {96, 544, 1312, 4160};
  return {33, 256, 1100, 1100};  // plain float types: any k, odd included
}

const std::vector<DType> int8_types = {DType::q8_0, DType::q4_0, DType::q4_1, DType::q5_0,
                                       DType::q5_1, DType::iq4_nl, DType::q2_k, DType::q3_k,
                                       DType::q4_k, DType::q5_k, DType::q6_k, DType::iq4_xs};
const std::vector<DType> float_types = {DType::f32, DType::f16, DType::bf16};

void sweep(DType type, const std::vector<GemmPath>& paths, const std::vector<size_t>& offsets) {
  std::mt19937 rng(1234 + static_cast<uint32_t>(type));
  ThreadPool pool(2);
  const auto ks = k_values(type);
  // m in {1, 7, 64, 200, 512}; n with tails around the 32-column panels.
  const std::vector<Shape> shapes = {{1, 33, ks[0], 1},   {7, 70, ks[1], 2},   {64, 45, ks[2], 2},
                                     {200, 33, ks[0], 1}, {512, 40, ks[1], 2}, {64, 17, ks[0], 1},
                                     {7, 96, ks[2], 1},   {13, 40, ks[3], 2}};
  for (const size_t offset : offsets) {
    for (const Shape& s : shapes) {
      const Weights wt = make_weights(type, s.n, s.k, offset, offset == 1 ? 5 : 0, rng);
      for (const GemmPath path : paths) {
        if (!gemm_path_available(path, type)) continue;
        for (const Isa isa : all_isas) {
          if (!isa_supported(isa)) continue;
          // oneDNN paths do not depend on the variant; bf16 dot products exist only in avx512.
          if (path != GemmPath::int8 && path != GemmPath::own_float && isa != Isa::avx512) continue;
          const std::string type_s = dtype_name(type), path_s = path_name(path), isa_s = isa_name(isa);
          CAPTURE(type_s);
          CAPTURE(path_s);
          CAPTURE(isa_s);
          CAPTURE(s.m);
          CAPTURE(s.n);
          CAPTURE(s.k);
          CAPTURE(s.threads);
          CAPTURE(offset);
          const double err = run_case(wt, path, isa, s, pool, rng);
          CAPTURE(err);
          CHECK(err <= tolerance(path));
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("gemm: int8 kernels match the float64 reference for every quantized type and ISA") {
  for (const DType type : int8_types) sweep(type, {GemmPath::int8}, {1});
}

TEST_CASE("gemm: float kernels and oneDNN match the float64 reference for F32, F16, BF16") {
  // Offset 1: any byte alignment (oneDNN then converts chunks); element-aligned offsets let
  // oneDNN read the weights in place.
  for (const DType type : float_types)
    sweep(type, {GemmPath::own_float, GemmPath::own_bf16, GemmPath::onednn, GemmPath::onednn_bf16},
          {1, dtype_traits(type)->block_bytes * 8});
}

TEST_CASE("gemm: Numerics::exact's dequantize-then-f32 path matches the float64 reference for every quantized type") {
  // f32 arithmetic on the exactly dequantized weights: the only error is f32 summation order.
  for (const DType type : int8_types) sweep(type, {GemmPath::exact_dequant}, {1});
}

TEST_CASE("gemm: the dequantize-then-oneDNN baseline matches the reference") {
  for (const DType type : {DType::q4_k, DType::q8_0, DType::q6_k}) sweep(type, {GemmPath::onednn_dequant}, {1});
}

TEST_CASE("gemm: automatic routing, gemm_supports and argument errors") {
  std::mt19937 rng(7);
  ThreadPool pool(2);
  for (const DType type : int8_types) {
    CHECK(gemm_supports(type, 512));
    CHECK_FALSE(gemm_supports(type, 1));
  }
  for (const DType type : float_types) CHECK(gemm_supports(type, 512));
  for (const DType type : {DType::q8_1, DType::iq2_xxs, DType::tq1_0, DType::i32}) CHECK_FALSE(gemm_supports(type, 512));

  const Weights wt = make_weights(DType::q4_k, 40, 512, 3, 0, rng);
  Buffer x(64 * 512), y(64 * 40, 2);
  x.fill(0.5f);
  gemm(wt.w, x.data(), 64, 512, y.data(), 40, pool, 2);
  CHECK_INTACT(y);
  CHECK_INTACT(x);
  for (size_t i = 0; i < y.size(); ++i) REQUIRE(std::isfinite(y[i]));

  // k not a whole number of blocks, strides too small, unsupported type: refused by the front
  // code (backend::validate_gemm) before the kernel runs; the kernel assumes valid input.
  using ollm::backend::validate_gemm;
  CHECK_NOTHROW(validate_gemm(GemmPath::automatic, wt.w, 64, 512, 40));
  WeightMatrix bad = wt.w;
  bad.n_cols = 500;
  CHECK_THROWS_WITH_AS(validate_gemm(GemmPath::automatic, bad, 64, 512, 40), doctest::Contains("[gemm] bad shape"),
                       Error);
  CHECK_THROWS_WITH_AS(validate_gemm(GemmPath::automatic, wt.w, 64, 100, 40),
                       doctest::Contains("[gemm] strides too small"), Error);
  CHECK_THROWS_WITH_AS(validate_gemm(GemmPath::automatic, wt.w, 64, 512, 39),
                       doctest::Contains("[gemm] strides too small"), Error);
  WeightMatrix unsupported = wt.w;
  unsupported.type = DType::iq2_xxs;
  try {
    validate_gemm(GemmPath::automatic, unsupported, 64, 512, 40);
    FAIL("no exception for IQ2_XXS");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::unsupported);
    CHECK(std::string(e.what()) == "[gemm] no prefill GEMM for IQ2_XXS weights on this path");
  }
  WeightMatrix as_f32 = wt.w;  // the int8 path takes no float weights
  as_f32.type = DType::f32;
  CHECK_THROWS_WITH_AS(validate_gemm(GemmPath::int8, as_f32, 64, 512, 40),
                       "[gemm] no prefill GEMM for F32 weights on this path", Error);
  gemm(wt.w, x.data(), 0, 512, y.data(), 40, pool, 2);  // no rows: nothing to do, no error
  CHECK_INTACT(y);
  CHECK_INTACT(x);
}

TEST_CASE("gemm: a NaN or infinity in an activation row makes that row's outputs NaN, only that row") {
  std::mt19937 rng(11);
  ThreadPool pool(2);
  for (const DType type : {DType::q8_0, DType::q4_k, DType::f16, DType::bf16}) {
    const Weights wt = make_weights(type, 48, 512, 0, 0, rng);
    for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
      for (const Isa isa : all_isas) {
        if (!isa_supported(isa)) continue;
        const std::string type_s = dtype_name(type), isa_s = isa_name(isa);
        CAPTURE(type_s);
        CAPTURE(isa_s);
        Buffer x(20 * 512), y(20 * 48, 3);
        x.fill(0.25f);
        y.fill(0.0f);
        x[5 * 512 + 300] = bad;
        gemm_with(isa, GemmPath::automatic, wt.w, x.data(), 20, 512, y.data(), 48, pool, 2);
        CHECK_INTACT(y);
        CHECK_INTACT(x);
        for (int64_t r = 0; r < 20; ++r)
          for (int64_t c = 0; c < 48; ++c) {
            const float v = y[static_cast<size_t>(r * 48 + c)];
            if (r == 5) {
              // inf · (weights of mixed sign) is NaN or ±inf: never a finite number.
              REQUIRE_FALSE(std::isfinite(v));
            } else {
              REQUIRE(std::isfinite(v));
            }
          }
      }
    }
  }
}

TEST_CASE("gemm: float conversions of every ISA variant match the scalar reference bit for bit") {
  std::mt19937 rng(5);
  std::uniform_int_distribution<uint32_t> bits;
  const int64_t rows = 3, k = 53;  // a 16-lane body and a scalar tail
  std::vector<float> x(static_cast<size_t>(rows * k));
  for (auto& v : x) v = f32_from_bits(bits(rng));  // every pattern: NaNs, infinities, subnormals, ties
  x[0] = f32_from_bits(0x3f808000u);                // exact ties, even and odd
  x[1] = f32_from_bits(0x3f818000u);
  x[2] = std::numeric_limits<float>::quiet_NaN();
  x[3] = -std::numeric_limits<float>::infinity();
  std::vector<uint16_t> halves(static_cast<size_t>(rows * k));
  for (size_t i = 0; i < halves.size(); ++i) halves[i] = static_cast<uint16_t>(bits(rng));
  for (const Isa isa : all_isas) {
    if (!isa_supported(isa)) continue;
    const std::string isa_s = isa_name(isa);
    CAPTURE(isa_s);
    // bf16 output: 2-byte elements, guarded as ceil(rows * k / 2) 32-bit slots (the odd half
    // slot at the end is data too: it stays as poisoned, never compared).
    ops_test::IdBuffer out_words(static_cast<size_t>(rows * k + 1) / 2, 1);
    auto* out = reinterpret_cast<uint16_t*>(out_words.data());
    pick_isa(isa, &scalar::gemm_rows_to_bf16, &avx2::gemm_rows_to_bf16, &avx512::gemm_rows_to_bf16)(
        x.data(), k, rows, k, out, k);
    CHECK_INTACT(out_words);
    for (size_t i = 0; i < x.size(); ++i) REQUIRE_MESSAGE(out[i] == f32_to_bf16(x[i]), "element " << i);
    for (const DType type : {DType::f16, DType::bf16}) {
      const WeightMatrix w{type, halves.data(), rows, k, static_cast<size_t>(k) * 2};
      Buffer got(static_cast<size_t>(rows * k), 2);
      std::vector<float> want(static_cast<size_t>(rows * k));
      pick_isa(isa, &scalar::gemm_weight_rows_f32, &avx2::gemm_weight_rows_f32, &avx512::gemm_weight_rows_f32)(
          w, 0, rows, got.data());
      CHECK_INTACT(got);
      for (int64_t r = 0; r < rows; ++r) dequantize_row(type, halves.data() + r * k, want.data() + r * k, k);
      for (size_t i = 0; i < got.size(); ++i) {
        if (std::isnan(want[i])) {
          REQUIRE(std::isnan(got[i]));  // F16C may quiet a signalling NaN's payload
        } else {
          REQUIRE_MESSAGE(f32_bits(got[i]) == f32_bits(want[i]), "element " << i);
        }
      }
    }
  }
}

TEST_CASE("gemm: more rows than one pass of activation scratch (int8, f32 and bf16 passes)") {
  std::mt19937 rng(9);
  ThreadPool pool(2);
  struct Case {
    DType type;
    GemmPath path;
    Isa isa;
    int64_t k;
  };
  // 1100 rows: two int8 passes (at most 1024 rows), two f32 passes at k = 4096 (16 MB), two
  // bf16 passes at k = 8192 (16 MB).
  for (const Case c : {Case{DType::q8_0, GemmPath::int8, Isa::avx512, 1024}, Case{DType::q4_k, GemmPath::int8, Isa::avx2, 512},
                       Case{DType::f16, GemmPath::own_float, Isa::avx512, 4096},
                       Case{DType::bf16, GemmPath::onednn_bf16, Isa::avx512, 8192},
                       Case{DType::bf16, GemmPath::own_bf16, Isa::avx512, 8192}}) {
    if (!isa_supported(c.isa) || !gemm_path_available(c.path, c.type)) continue;
    const std::string type_s = dtype_name(c.type), path_s = path_name(c.path);
    CAPTURE(type_s);
    CAPTURE(path_s);
    const Weights wt = make_weights(c.type, 24, c.k, 0, 0, rng);
    const double err = run_case(wt, c.path, c.isa, {1100, 24, c.k, 2}, pool, rng);
    CAPTURE(err);
    CHECK(err <= tolerance(c.path));
  }
}
