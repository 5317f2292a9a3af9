// The CUDA matmul's block decoders (kernels/cuda/quant_decode.cuh, __host__ __device__) run here
// on the host: every format's decoded values must equal ollm::cpu::dequantize_row bit for bit on
// random blocks, and the int8 group dot product the decode kernel computes must match a float64
// dot of the dequantized row within the activation quantization's error bound. No GPU needed.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "cpu/dequantize.hpp"
#include "cpu/quant_blocks.hpp"
#include "cuda/quant_decode.cuh"
#include "cuda_quant_test_blocks.hpp"
#include "ollm/types.hpp"

namespace {

using namespace ollm_cuda;
using ollm_cuda_test::random_blocks;

ollm::DType dtype_of(uint32_t t) { return static_cast<ollm::DType>(t); }

template <uint32_t T>
void check_format(const char* name) {
  using Tr = QuantTraits<T>;
  std::mt19937 rng(1234 + T);
  const int64_t k = 1024;  // elements per row: 32 legacy blocks or 4 super-blocks
  const int64_t n_blocks = k / Tr::elems;
  for (int trial = 0; trial < 20; ++trial) {
    const std::vector<uint8_t> row = random_blocks<T>(n_blocks, rng);
    std::vector<float> ref(static_cast<size_t>(k));
    ollm::cpu::dequantize_row(dtype_of(T), row.data(), ref.data(), k);

    // Decoded values, bit for bit.
    std::vector<float> got(static_cast<size_t>(k));
    for (int64_t g = 0; g < k / 32; ++g) {
      Group32 grp;
      decode_group<T>(row.data(), g, grp);
      for (int j = 0; j < 32; ++j) got[static_cast<size_t>(g * 32 + j)] = group_value<Tr::has_min>(grp, j);
    }
    int64_t mismatches = 0, first = -1;
    for (int64_t i = 0; i < k; ++i) {
      uint32_t a, b;
      std::memcpy(&a, &got[static_cast<size_t>(i)], 4);
      std::memcpy(&b, &ref[static_cast<size_t>(i)], 4);
      if (a != b) {
        if (first < 0) first = i;
        ++mismatches;
      }
    }
    INFO(name << " trial " << trial << " first mismatch at " << first << ": got "
              << (first >= 0 ? got[static_cast<size_t>(first)] : 0.0f) << " want "
              << (first >= 0 ? ref[static_cast<size_t>(first)] : 0.0f));
    REQUIRE(mismatches == 0);

    // The decode kernel's dot product: activations quantized per 32, integer group dots.
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    std::vector<float> x(static_cast<size_t>(k));
    for (auto& v : x) v = gauss(rng);
    if (trial == 1) std::fill(x.begin(), x.begin() + 32, 0.0f);  // an all-zero activation group
    double exact = 0.0, bound = 0.0;
    float dot = 0.0f;
    for (int64_t g = 0; g < k / 32; ++g) {
      int32_t xq[8], xs;
      float xd;
      quantize_act_group(&x[static_cast<size_t>(g * 32)], xq, &xd, &xs);
      Group32 grp;
      decode_group<T>(row.data(), g, grp);
      dot += group_dot<Tr::has_min>(grp, xq, xd, xs);
      for (int j = 0; j < 32; ++j) {
        const size_t i = static_cast<size_t>(g * 32 + j);
        exact += static_cast<double>(ref[i]) * x[i];
        // Rounding x to the int8 grid moves it by at most xd/2; plus f32 rounding slack.
        bound += std::fabs(static_cast<double>(ref[i])) * (0.5 * xd + 1e-6 * std::fabs(x[i]));
      }
    }
    INFO(name << " trial " << trial << " dot " << dot << " exact " << exact << " bound " << bound);
    CHECK(std::fabs(dot - exact) <= bound * 1.01 + 1e-5);
  }
}

// The decode kernel's arithmetic on the host: activations laid out as launch_quantize_act writes
// them ([m, groups] groups), each weight row walked by 32 emulated lanes through the same
// decode_lane_partial the kernel runs, the lane partials summed (the kernel's shuffle reduction)
// and compared with a float64 product of the CPU-dequantized weights and the f32 activations.
template <uint32_t T, int MT>
void check_decode_rows(const char* name, int m) {
  using Tr = QuantTraits<T>;
  std::mt19937 rng(99 + T * 17 + m);
  const int64_t n = 5, k = 2048, groups = k / 32;  // two groups per lane
  const size_t row_bytes = static_cast<size_t>(k / Tr::elems) * Tr::bytes;
  const size_t row_stride = row_bytes + 2 * Tr::align;  // padded rows: the stride is honoured
  std::vector<uint8_t> w(static_cast<size_t>(n) * row_stride, 0xee);
  for (int64_t r = 0; r < n; ++r) {
    const std::vector<uint8_t> row = random_blocks<T>(k / Tr::elems, rng);
    std::memcpy(&w[static_cast<size_t>(r) * row_stride], row.data(), row_bytes);
  }
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(m * k));
  for (auto& v : x) v = gauss(rng);
  std::vector<int32_t> xq(static_cast<size_t>(m * groups * 8)), xs(static_cast<size_t>(m * groups));
  std::vector<float> xd(static_cast<size_t>(m * groups));
  for (int64_t ag = 0; ag < m * groups; ++ag)
    quantize_act_group(&x[static_cast<size_t>(ag * 32)], &xq[static_cast<size_t>(ag * 8)], &xd[static_cast<size_t>(ag)],
                       &xs[static_cast<size_t>(ag)]);
  std::vector<float> deq(static_cast<size_t>(k));
  for (int64_t row = 0; row < n; ++row) {
    const uint8_t* wr = &w[static_cast<size_t>(row) * row_stride];
    float y[MT] = {};
    for (int lane = 0; lane < 32; ++lane) {
      float acc[MT] = {};
      decode_lane_partial<T, MT>(wr, lane, groups, xq.data(), xd.data(), xs.data(), m, acc);
      for (int r = 0; r < MT; ++r) y[r] += acc[r];
    }
    ollm::cpu::dequantize_row(dtype_of(T), wr, deq.data(), k);
    for (int r = 0; r < MT; ++r) {
      if (r >= m) {
        CHECK(y[r] == 0.0f);  // rows past m are never touched
        continue;
      }
      double exact = 0.0, bound = 0.0;
      for (int64_t i = 0; i < k; ++i) {
        const double wv = deq[static_cast<size_t>(i)], xv = x[static_cast<size_t>(r * k + i)];
        exact += wv * xv;
        bound += std::fabs(wv) * (0.5 * xd[static_cast<size_t>(r * groups + i / 32)] + 1e-6 * std::fabs(xv));
      }
      INFO(name << " m " << m << " row " << row << " r " << r << " got " << y[r] << " exact " << exact);
      CHECK(std::fabs(y[r] - exact) <= bound * 1.01 + 1e-5);
    }
  }
}

template <uint32_t T>
void check_decode(const char* name) {
  check_decode_rows<T, 1>(name, 1);
  check_decode_rows<T, 4>(name, 3);
  check_decode_rows<T, 16>(name, 16);
}

}  // namespace

TEST_CASE("cuda quant decoders: the decode kernel's lane walk over [n, k] with m = 1, 3, 16 rows") {
  check_decode<type_q4_0>("Q4_0");
  check_decode<type_q4_1>("Q4_1");
  check_decode<type_q5_0>("Q5_0");
  check_decode<type_q5_1>("Q5_1");
  check_decode<type_q8_0>("Q8_0");
  check_decode<type_q2_k>("Q2_K");
  check_decode<type_q3_k>("Q3_K");
  check_decode<type_q4_k>("Q4_K");
  check_decode<type_q5_k>("Q5_K");
  check_decode<type_q6_k>("Q6_K");
  check_decode<type_iq4_nl>("IQ4_NL");
  check_decode<type_iq4_xs>("IQ4_XS");
}

TEST_CASE("cuda quant decoders: every format bit-exact against the CPU dequantizers, dot within bound") {
  check_format<type_q4_0>("Q4_0");
  check_format<type_q4_1>("Q4_1");
  check_format<type_q5_0>("Q5_0");
  check_format<type_q5_1>("Q5_1");
  check_format<type_q8_0>("Q8_0");
  check_format<type_q2_k>("Q2_K");
  check_format<type_q3_k>("Q3_K");
  check_format<type_q4_k>("Q4_K");
  check_format<type_q5_k>("Q5_K");
  check_format<type_q6_k>("Q6_K");
  check_format<type_iq4_nl>("IQ4_NL");
  check_format<type_iq4_xs>("IQ4_XS");
}

TEST_CASE("cuda quant decoders: activation quantization codes and sums") {
  float x[32];
  for (int j = 0; j < 32; ++j) x[j] = (j < 16 ? 1.0f : -2.0f) * static_cast<float>(j % 5) * 0.25f;
  int32_t q[8], s;
  float d;
  quantize_act_group(x, q, &d, &s);
  CHECK(d == doctest::Approx(2.0f * 4 * 0.25f / 127.0f));
  int s0 = 0, s1 = 0;
  for (int j = 0; j < 32; ++j) {
    const int c = static_cast<int8_t>(static_cast<uint32_t>(q[j / 4]) >> (8 * (j % 4)));
    CHECK(c == static_cast<int>(std::round(x[j] / d)));
    (j < 16 ? s0 : s1) += c;
  }
  CHECK(static_cast<int16_t>(s & 0xffff) == s0);
  CHECK((s >> 16) == s1);
  CHECK(s1 < 0);  // the high half is signed
}

TEST_CASE("cuda quant decoders: a NaN or infinite activation makes the dot NaN, not a number") {
  Group32 w{};
  for (auto& q : w.q) q = 0x01010101;
  w.d[0] = w.d[1] = 1.0f;
  for (const float bad : {std::nanf(""), INFINITY, -INFINITY}) {
    float x[32];
    for (int j = 0; j < 32; ++j) x[j] = 0.5f;
    x[7] = bad;
    int32_t q[8], s;
    float d;
    quantize_act_group(x, q, &d, &s);
    CHECK(std::isnan(d));
    for (int i = 0; i < 8; ++i) CHECK(q[i] == 0);
    CHECK(std::isnan(group_dot<false>(w, q, d, s)));
    CHECK(std::isnan(group_dot<true>(w, q, d, s)));
  }
}
