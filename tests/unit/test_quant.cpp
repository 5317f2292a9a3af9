// GGUF quantization formats on the CPU: dequantization bit-exact against gguf.quants (random
// blocks and real Gemma 3 270M rows), quantization byte-exact against gguf.quants / ggml's
// reference quantizers (tests/data/quant, from scripts/fixtures/make_quant_fixtures.py),
// round-trip error bounds, NaN propagation, poisoned outputs and the public entry points.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <map>
#include <string>
#include <vector>

#include "cpu/cpu_features.hpp"
#include "cpu/dequantize.hpp"
#include "cpu/quant_blocks.hpp"
#include "cpu/quantize.hpp"
#include "ollm/error.hpp"
#include "ollm/ops.hpp"
#include "ollm/types.hpp"

using namespace ollm;
namespace dom = simdjson::dom;

namespace {

const std::filesystem::path fixture_dir = std::filesystem::path(OLLM_TEST_DATA) / "quant";

std::vector<uint8_t> slurp(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), "cannot open " << path);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::vector<float> as_floats(const std::vector<uint8_t>& bytes) {
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

DType type_named(std::string_view name) {
  for (uint32_t id = 0; id < 64; ++id)
    if (auto t = dtype_traits(static_cast<DType>(id)); t && t->name == name) return t->type;
  FAIL("unknown type name " << name);
  return DType::f32;
}

struct Case {
  std::string op, type, source, reference, input, expected;
  int64_t elements;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> all = [] {
    std::vector<Case> out;
    dom::parser parser;
    dom::element root = parser.load((fixture_dir / "manifest.json").string()).value();
    // By value: value() of a temporary result would dangle inside the range-for.
    dom::array list = root["cases"].get_array().value();
    for (dom::element c : list) {
      out.push_back({std::string(c["op"].get_string().value()), std::string(c["type"].get_string().value()),
                     std::string(c["source"].get_string().value()), std::string(c["reference"].get_string().value()),
                     std::string(c["input"].get_string().value()), std::string(c["expected"].get_string().value()),
                     c["elements"].get_int64().value()});
    }
    return out;
  }();
  return all;
}

constexpr uint32_t poison_bits = 0x7fbadbadu;  // a NaN no kernel produces: marks unwritten floats

// Dequantizes `blocks` from a buffer offset by one byte into a NaN-poisoned output and returns
// the index of the first element whose bits differ from `expected` (or -1).
int64_t first_dequant_mismatch(DType type, const std::vector<uint8_t>& blocks, const std::vector<float>& expected,
                               int64_t n) {
  std::vector<uint8_t> shifted(blocks.size() + 1);
  std::memcpy(shifted.data() + 1, blocks.data(), blocks.size());
  std::vector<float> out(static_cast<size_t>(n), cpu::f32_from_bits(poison_bits));
  cpu::dequantize_row(type, shifted.data() + 1, out.data(), n);
  for (int64_t i = 0; i < n; ++i)
    if (cpu::f32_bits(out[i]) != cpu::f32_bits(expected[i])) return i;
  return -1;
}

// Quantizes n values read at a 4-byte (not vector-aligned) offset into an output offset by one
// byte and poisoned with `poison`; returns the produced bytes.
std::vector<uint8_t> quantize_shifted(DType type, const float* x, int64_t n, uint8_t poison) {
  const size_t bytes = dtype_row_bytes(type, n);
  std::vector<float> in(static_cast<size_t>(n) + 1);
  std::memcpy(in.data() + 1, x, static_cast<size_t>(n) * 4);
  std::vector<uint8_t> out(bytes + 1, poison);
  cpu::quantize_row(type, in.data() + 1, out.data() + 1, n);
  return {out.begin() + 1, out.end()};
}

// Deterministic N(0,1) samples (xorshift + Box-Muller), independent of the standard library.
std::vector<float> gaussian(size_t n, uint64_t seed) {
  uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
  auto uniform = [&] {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    return (static_cast<double>(s >> 11) + 0.5) / 9007199254740992.0;
  };
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(std::sqrt(-2 * std::log(uniform())) * std::cos(6.283185307179586 * uniform()));
  return v;
}

#if defined(__x86_64__)
__attribute__((target("f16c"))) uint16_t hw_f32_to_fp16(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, 0));  // round to nearest even
}
__attribute__((target("f16c"))) float hw_fp16_to_f32(uint16_t h) { return _cvtsh_ss(h); }
#endif

const std::vector<DType> quant_types = {DType::f16,  DType::bf16, DType::q4_0, DType::q4_1, DType::q5_0,
                                        DType::q5_1, DType::q8_0, DType::q2_k, DType::q3_k, DType::q4_k,
                                        DType::q5_k, DType::q6_k, DType::q8_k, DType::iq4_nl, DType::iq4_xs};

}  // namespace

TEST_CASE("quant: block layouts match ggml") {
  using namespace ollm::cpu;
  for (DType t : quant_types) {
    CAPTURE(dtype_name(t));
    CHECK(static_cast<bool>(cpu::dequantize_row_fn(t)));
    CHECK(static_cast<bool>(cpu::quantize_row_fn(t)));
  }
  CHECK(sizeof(block_q4_0) == dtype_traits(DType::q4_0)->block_bytes);
  CHECK(sizeof(block_q4_1) == dtype_traits(DType::q4_1)->block_bytes);
  CHECK(sizeof(block_q5_0) == dtype_traits(DType::q5_0)->block_bytes);
  CHECK(sizeof(block_q5_1) == dtype_traits(DType::q5_1)->block_bytes);
  CHECK(sizeof(block_q8_0) == dtype_traits(DType::q8_0)->block_bytes);
  // Q8_1 (never stored in files) is 36 bytes in ggml (two fp16); the type table and gguf-py
  // still list the older 40-byte float layout.
  CHECK(sizeof(block_q8_1) == 36);
  CHECK(sizeof(block_q2_K) == dtype_traits(DType::q2_k)->block_bytes);
  CHECK(sizeof(block_q3_K) == dtype_traits(DType::q3_k)->block_bytes);
  CHECK(sizeof(block_q4_K) == dtype_traits(DType::q4_k)->block_bytes);
  CHECK(sizeof(block_q5_K) == dtype_traits(DType::q5_k)->block_bytes);
  CHECK(sizeof(block_q6_K) == dtype_traits(DType::q6_k)->block_bytes);
  CHECK(sizeof(block_q8_K) == dtype_traits(DType::q8_k)->block_bytes);
  CHECK(sizeof(block_iq4_nl) == dtype_traits(DType::iq4_nl)->block_bytes);
  CHECK(sizeof(block_iq4_xs) == dtype_traits(DType::iq4_xs)->block_bytes);
  // Field offsets the fixture script relies on (the scales it keeps finite).
  CHECK(offsetof(block_q2_K, d) == 80);
  CHECK(offsetof(block_q3_K, d) == 108);
  CHECK(offsetof(block_q6_K, d) == 208);
  CHECK(offsetof(block_q5_K, qs) == 48);
  CHECK(offsetof(block_iq4_xs, qs) == 8);
}

TEST_CASE("quant: dequantize is bit-exact against the fixtures") {
  int n_cases = 0;
  std::map<std::string, int> gemma_types;
  for (const Case& c : cases()) {
    if (c.op != "dequantize") continue;
    ++n_cases;
    CAPTURE(c.type);
    CAPTURE(c.source);
    CAPTURE(c.reference);
    const DType type = type_named(c.type);
    const auto blocks = slurp(fixture_dir / c.input);
    const auto expected = as_floats(slurp(fixture_dir / c.expected));
    REQUIRE(expected.size() == static_cast<size_t>(c.elements));
    REQUIRE(blocks.size() == dtype_row_bytes(type, c.elements));
    if (c.source.starts_with("gemma")) ++gemma_types[c.type];

    CHECK(first_dequant_mismatch(type, blocks, expected, c.elements) == -1);

    // An odd number of blocks, starting at an odd block: blocks are independent.
    const auto traits = *dtype_traits(type);
    const int64_t n_blocks = c.elements / traits.block_elements;
    if (n_blocks >= 4) {
      const int64_t first = 1, count = (n_blocks - 1) % 2 == 1 ? n_blocks - 1 : n_blocks - 2;
      std::vector<uint8_t> part(blocks.begin() + first * traits.block_bytes,
                                blocks.begin() + (first + count) * traits.block_bytes);
      std::vector<float> want(expected.begin() + first * traits.block_elements,
                              expected.begin() + (first + count) * traits.block_elements);
      CHECK(first_dequant_mismatch(type, part, want, count * traits.block_elements) == -1);
    }

    // The public entry point gives the same bits.
    std::vector<float> out(expected.size(), cpu::f32_from_bits(poison_bits));
    ollm::dequantize(type, blocks, out);
    CHECK(std::memcmp(out.data(), expected.data(), out.size() * 4) == 0);
  }
  CHECK(n_cases >= 15);
  // The real-tensor rows are part of the fixtures (skipped only if the generator had no model).
  for (const char* t : {"Q8_0", "Q5_0", "Q4_K", "Q6_K", "F32"}) {
    CAPTURE(t);
    CHECK(gemma_types[t] >= 1);
  }
}

TEST_CASE("quant: quantize matches the reference bytes") {
  std::map<std::string, std::string> checked;
  for (const Case& c : cases()) {
    if (c.op != "quantize") continue;
    CAPTURE(c.type);
    CAPTURE(c.source);
    CAPTURE(c.reference);
    const DType type = type_named(c.type);
    const auto x = as_floats(slurp(fixture_dir / c.input));
    const auto expected = slurp(fixture_dir / c.expected);
    REQUIRE(x.size() == static_cast<size_t>(c.elements));
    REQUIRE(expected.size() == dtype_row_bytes(type, c.elements));

    // Two poison patterns: an unwritten byte cannot match both.
    for (uint8_t poison : {uint8_t{0xa5}, uint8_t{0x5a}}) {
      const auto got = quantize_shifted(type, x.data(), c.elements, poison);
      size_t first_diff = got.size();
      for (size_t i = 0; i < got.size(); ++i)
        if (got[i] != expected[i]) {
          first_diff = i;
          break;
        }
      CAPTURE(first_diff);
      CHECK(first_diff == got.size());
    }

    // An odd number of blocks from the middle of the input.
    const auto traits = *dtype_traits(type);
    const int64_t n_blocks = c.elements / traits.block_elements;
    const int64_t first = 3, count = n_blocks >= 12 ? 7 : 1;
    const auto got = quantize_shifted(type, x.data() + first * traits.block_elements, count * traits.block_elements, 0xa5);
    CHECK(std::memcmp(got.data(), expected.data() + first * traits.block_bytes, got.size()) == 0);

    // The public entry point gives the same bytes.
    CHECK(ollm::quantize(type, x) == expected);
    checked[c.type] = c.reference;
  }
  // Every format with a quantizer has a byte-exact reference in the fixtures.
  for (DType t : quant_types) {
    CAPTURE(dtype_name(t));
    CHECK(checked.count(dtype_name(t)) == 1);
  }
}

TEST_CASE("quant: f32 <-> fp16 against the F16C instructions on every non-NaN value class") {
  // numpy's NaN behaviour is pinned by the fixtures; here the rounding of ordinary values is
  // swept far more densely than a fixture could hold, against the hardware conversion.
#if defined(__x86_64__)
  if (!cpu::cpu_features().f16c) return;  // our own CPUID check (clang 14 lacks "f16c" here)
  int64_t bad = 0, compared = 0;
  for (uint64_t u = 0; u < (1ull << 32); u += 251) {  // ~17M patterns, every exponent
    const float f = cpu::f32_from_bits(static_cast<uint32_t>(u));
    if (std::isnan(f)) continue;
    ++compared;
    if (cpu::f32_to_fp16(f) != hw_f32_to_fp16(f)) ++bad;
  }
  CHECK(compared > 16'000'000);
  CHECK(bad == 0);
  for (uint32_t h = 0; h < 65536; ++h) {
    const float want = hw_fp16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(want)) continue;
    CHECK(cpu::f32_bits(cpu::fp16_to_f32(static_cast<uint16_t>(h))) == cpu::f32_bits(want));
  }
#endif
}

TEST_CASE("quant: round trip error stays within the measured per-type bound") {
  // Normalised RMS error sqrt(sum (x - y)^2 / sum x^2) over 64 rows of 256 N(0,1) values.
  // Bounds are the values measured with this generator (quantization is deterministic and
  // byte-exact against the references, so these guard the round trip), plus about 10%.
  const std::map<DType, double> bound = {
      // measured:  F16 2.07e-4, BF16 1.68e-3, Q8_0 5.34e-3, Q8_K 6.82e-3, Q6_K 1.78e-2,
      // Q5_0 4.22e-2, Q5_1 3.76e-2, Q5_K 3.58e-2, Q4_0 8.59e-2, Q4_1 7.79e-2, Q4_K 7.08e-2,
      // IQ4_NL 7.87e-2, IQ4_XS 7.67e-2, Q3_K 0.150, Q2_K 0.293
      {DType::f16, 2.3e-4},   {DType::bf16, 1.85e-3},  {DType::q8_0, 5.9e-3},  {DType::q8_k, 7.5e-3},
      {DType::q6_k, 1.96e-2}, {DType::q5_0, 4.7e-2},   {DType::q5_1, 4.2e-2},  {DType::q5_k, 4.0e-2},
      {DType::q4_0, 9.5e-2},  {DType::q4_1, 8.6e-2},   {DType::q4_k, 7.8e-2},  {DType::iq4_nl, 8.7e-2},
      {DType::iq4_xs, 8.5e-2}, {DType::q3_k, 0.165},   {DType::q2_k, 0.32},
  };

  const int64_t n = 64 * 256;
  const auto x = gaussian(static_cast<size_t>(n), 7);
  for (DType t : quant_types) {
    CAPTURE(dtype_name(t));
    const auto q = ollm::quantize(t, x);
    std::vector<float> y(static_cast<size_t>(n), cpu::f32_from_bits(poison_bits));
    ollm::dequantize(t, q, y);
    double err = 0, ref = 0;
    for (int64_t i = 0; i < n; ++i) {
      err += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
      ref += static_cast<double>(x[i]) * x[i];
    }
    const double nrmse = std::sqrt(err / ref);
    MESSAGE(dtype_name(t) << " normalised rms error " << nrmse);
    CHECK(std::isfinite(nrmse));  // NaN (an unwritten output) never passes the bound check
    CHECK(nrmse <= bound.at(t));
    CHECK(nrmse > 0);
  }
}

TEST_CASE("quant: NaN and infinity never quantize to plausible numbers") {
  for (DType t : quant_types) {
    CAPTURE(dtype_name(t));
    const auto traits = *dtype_traits(t);
    const int64_t block = traits.block_elements == 1 ? 32 : traits.block_elements;
    for (float bad : {std::nanf(""), INFINITY, -INFINITY}) {
      CAPTURE(bad);
      auto x = gaussian(static_cast<size_t>(3 * block), 3);
      x[static_cast<size_t>(block + 5)] = bad;  // in the middle "block"
      const auto q = ollm::quantize(t, x);
      std::vector<float> y(x.size(), cpu::f32_from_bits(poison_bits));
      ollm::dequantize(t, q, y);
      if (traits.block_elements == 1) {
        // Plain float types keep the value itself (and NaN stays NaN).
        const float got = y[static_cast<size_t>(block + 5)];
        CHECK((std::isnan(bad) ? std::isnan(got) : got == bad));
        continue;
      }
      for (int64_t i = 0; i < 3 * block; ++i) {
        const bool in_bad_block = i >= block && i < 2 * block;
        if (in_bad_block) {
          CHECK(std::isnan(y[i]));
        } else {
          CHECK(std::isfinite(y[i]));
        }
      }
    }
  }
}

TEST_CASE("quant: public entry points validate sizes and types") {
  std::vector<float> out(32);
  std::vector<uint8_t> blocks(18);
  CHECK_NOTHROW(ollm::dequantize(DType::q4_0, blocks, out));
  try {
    ollm::dequantize(DType::q4_0, std::span<const uint8_t>(blocks.data(), 17), out);
    FAIL("no throw");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(std::string(e.what()).starts_with("[ops]"));
    CHECK(std::string(e.what()).find("17") != std::string::npos);
  }
  try {
    ollm::dequantize(DType::q4_0, blocks, std::span<float>(out.data(), 31));
    FAIL("no throw");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(std::string(e.what()).find("31") != std::string::npos);
  }
  try {
    ollm::dequantize(DType::iq2_xxs, blocks, out);
    FAIL("no throw");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::unsupported);
    CHECK(std::string(e.what()).find("IQ2_XXS") != std::string::npos);
  }
  try {
    (void)ollm::quantize(DType::q4_k, std::vector<float>(100));
    FAIL("no throw");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(std::string(e.what()).find("100") != std::string::npos);
  }
  try {
    (void)ollm::quantize(DType::q8_1, std::vector<float>(32));
    FAIL("no throw");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::unsupported);
    CHECK(std::string(e.what()).find("Q8_1") != std::string::npos);
  }
  CHECK_THROWS_AS(ollm::dequantize(static_cast<DType>(77), blocks, out), Error);
  CHECK(ollm::quantize(DType::q4_k, {}).empty());
  CHECK_NOTHROW(ollm::dequantize(DType::q6_k, {}, {}));
}
