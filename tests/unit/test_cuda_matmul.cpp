// ollm_cuda::decode_matmul on a GPU against the CPU dequantizers and a float64 product: every
// supported format at m = 1, 3, 16 (the dp4a decode kernel) and 17, 64 (f16 tiles + cuBLAS),
// n = 37 (not a multiple of the 4 rows per block), padded row strides, NaN-filled outputs with
// sentinels past the end. The argument validation runs first and needs no GPU; without a CUDA
// device the program then prints SKIPPED and exits 77 (ctest SKIP_RETURN_CODE). Plain main, not
// doctest: it must skip on its own, whatever OLLM_TEST_DEVICE says.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "cpu/dequantize.hpp"
#include "cuda/matmul_quant.cuh"
#include "cuda/quant_decode.cuh"
#include "cuda_quant_test_blocks.hpp"
#include "ollm/types.hpp"

namespace {

using namespace ollm_cuda;

int failures = 0;

void expect(bool ok, const char* what, long a = 0, long b = 0) {
  if (!ok) {
    std::printf("FAILED: %s (%ld, %ld)\n", what, a, b);
    ++failures;
  }
}

// Validation returns before any CUDA call, so it runs on machines without a GPU.
void check_validation() {
  alignas(16) static uint8_t w[4096];
  alignas(16) static float x[1024], y[64];
  alignas(16) static uint8_t scratch[1 << 16];
  const size_t sb = sizeof scratch;
  expect(!decode_matmul_supports(0) && !decode_matmul_supports(1) && !decode_matmul_supports(9) &&
             !decode_matmul_supports(15) && decode_matmul_supports(type_q4_k) && decode_matmul_supports(type_iq4_xs),
         "supports() lists exactly the quantized formats");
  expect(decode_matmul(1, w, 4, 64, 128, x, 1, y, scratch, sb, nullptr) == cudaErrorInvalidValue, "f16 refused");
  expect(decode_matmul(type_q4_0, w, 4, 48, 36, x, 1, y, scratch, sb, nullptr) == cudaErrorInvalidValue,
         "k not a whole number of blocks refused");
  expect(decode_matmul(type_q4_k, w, 4, 128, 144, x, 1, y, scratch, sb, nullptr) == cudaErrorInvalidValue,
         "K-quant k < 256 refused");
  expect(decode_matmul(type_q4_0, w, 4, 64, 35, x, 1, y, scratch, sb, nullptr) == cudaErrorInvalidValue,
         "row stride shorter than a row refused");
  expect(decode_matmul(type_q4_1, w + 2, 4, 64, 40, x, 1, y, scratch, sb, nullptr) == cudaErrorMisalignedAddress,
         "Q4_1 weights on a 2-byte boundary refused");
  expect(decode_matmul(type_q4_1, w, 4, 64, 42, x, 1, y, scratch, sb, nullptr) == cudaErrorMisalignedAddress,
         "Q4_1 row stride not a multiple of 4 refused");
  expect(decode_matmul(type_q4_0, w + 1, 4, 64, 36, x, 1, y, scratch, sb, nullptr) == cudaErrorMisalignedAddress,
         "odd weight address refused");
  const size_t need = decode_matmul_scratch_bytes(2, 64);
  expect(need > 0 && need <= sb, "scratch size sane", static_cast<long>(need));
  expect(decode_matmul(type_q4_0, w, 4, 64, 36, x, 2, y, scratch, need - 1, nullptr) == cudaErrorInvalidValue,
         "scratch one byte short refused");
  expect(decode_matmul(type_q4_0, w, 4, 64, 36, x, 2, y, nullptr, need, nullptr) == cudaErrorInvalidValue,
         "null scratch refused");
  expect(decode_matmul(type_q4_0, w, 0, 64, 36, x, 2, y, scratch, sb, nullptr) == cudaSuccess, "n = 0 is a no-op");
  expect(decode_matmul(type_q4_0, w, 4, 64, 36, x, 0, y, scratch, sb, nullptr) == cudaSuccess, "m = 0 is a no-op");
  expect(decode_matmul(type_q4_0, w, -1, 64, 36, x, 1, y, scratch, sb, nullptr) == cudaErrorInvalidValue,
         "negative n refused");
  expect(decode_matmul_scratch_bytes(17, 4096) > decode_matmul_scratch_bytes(16, 4096),
         "the prefill path's scratch holds an f16 tile");
}

template <class V>
V* device_copy(const std::vector<V>& h) {
  V* d = nullptr;
  if (cudaMalloc(&d, h.size() * sizeof(V)) != cudaSuccess) return nullptr;
  cudaMemcpy(d, h.data(), h.size() * sizeof(V), cudaMemcpyHostToDevice);
  return d;
}

template <uint32_t T>
void check_on_gpu(const char* name) {
  using Tr = QuantTraits<T>;
  std::mt19937 rng(7 + T);
  const int64_t n = 37, k = 1024;
  const size_t row_bytes = static_cast<size_t>(k / Tr::elems) * Tr::bytes;
  const size_t row_stride = row_bytes + 4;
  std::vector<uint8_t> w(static_cast<size_t>(n) * row_stride, 0xa5);
  for (int64_t r = 0; r < n; ++r) {
    const auto row = ollm_cuda_test::random_blocks<T>(k / Tr::elems, rng);
    std::memcpy(&w[static_cast<size_t>(r) * row_stride], row.data(), row_bytes);
  }
  std::vector<float> deq(static_cast<size_t>(n * k));
  for (int64_t r = 0; r < n; ++r)
    ollm::cpu::dequantize_row(static_cast<ollm::DType>(T), &w[static_cast<size_t>(r) * row_stride],
                              &deq[static_cast<size_t>(r * k)], k);
  uint8_t* dw = device_copy(w);
  for (int64_t m : {1, 3, 16, 17, 64}) {
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    std::vector<float> x(static_cast<size_t>(m * k));
    for (auto& v : x) v = gauss(rng) * (m == 17 ? 1e5f : 1.0f);  // m = 17: beyond f16's range
    const size_t sentinel = 64;
    std::vector<float> y(static_cast<size_t>(m * n) + sentinel, std::nanf(""));
    float* dx = device_copy(x);
    float* dy = device_copy(y);
    const size_t sb = decode_matmul_scratch_bytes(m, k);
    uint8_t* ds = nullptr;
    cudaMalloc(&ds, sb + 1);
    // An odd scratch address: decode_matmul aligns it itself.
    cudaError_t e = decode_matmul(T, dw, n, k, row_stride, dx, m, dy, ds + 1, sb, nullptr);
    if (e == cudaSuccess) e = cudaDeviceSynchronize();
    expect(e == cudaSuccess, name, m, e);
    cudaMemcpy(y.data(), dy, y.size() * sizeof(float), cudaMemcpyDeviceToHost);
    int bad = 0;
    for (int64_t r = 0; r < m; ++r)
      for (int64_t c = 0; c < n; ++c) {
        double exact = 0.0, mag = 0.0, amax = 0.0;
        for (int64_t i = 0; i < k; ++i) amax = std::fmax(amax, std::fabs(x[static_cast<size_t>(r * k + i)]));
        for (int64_t i = 0; i < k; ++i) {
          const double wv = deq[static_cast<size_t>(c * k + i)], xv = x[static_cast<size_t>(r * k + i)];
          exact += wv * xv;
          mag += std::fabs(wv) * (std::fabs(xv) + amax / 127.0);
        }
        // int8 activations (decode): at most half a step of amax/127 per element; f16 (prefill):
        // 2^-11 relative per weight and per activation.
        const double tol = mag * (m <= 16 ? 0.5 / 127.0 : 2.0 * 0x1p-11) * 1.01 + 1e-6;
        const float got = y[static_cast<size_t>(r * n + c)];
        if (!(std::fabs(got - exact) <= tol)) {
          if (bad++ < 3) std::printf("  %s m=%ld y[%ld,%ld] = %g, want %g +- %g\n", name, static_cast<long>(m),
                                     static_cast<long>(r), static_cast<long>(c), got, exact, tol);
        }
      }
    for (size_t i = static_cast<size_t>(m * n); i < y.size(); ++i) bad += !std::isnan(y[i]);
    expect(bad == 0, name, m, bad);
    cudaFree(dx);
    cudaFree(dy);
    cudaFree(ds);
  }
  cudaFree(dw);
}

}  // namespace

int main() {
  check_validation();
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::printf("%s; SKIPPED: no CUDA device (validation checks only)\n", failures ? "FAILED" : "validation passed");
    return failures ? 1 : 77;
  }
  check_on_gpu<type_q4_0>("Q4_0");
  check_on_gpu<type_q4_1>("Q4_1");
  check_on_gpu<type_q5_0>("Q5_0");
  check_on_gpu<type_q5_1>("Q5_1");
  check_on_gpu<type_q8_0>("Q8_0");
  check_on_gpu<type_q2_k>("Q2_K");
  check_on_gpu<type_q3_k>("Q3_K");
  check_on_gpu<type_q4_k>("Q4_K");
  check_on_gpu<type_q5_k>("Q5_K");
  check_on_gpu<type_q6_k>("Q6_K");
  check_on_gpu<type_iq4_nl>("IQ4_NL");
  check_on_gpu<type_iq4_xs>("IQ4_XS");
  std::printf("%s: %d failure(s)\n", failures ? "FAILED" : "passed", failures);
  return failures ? 1 : 0;
}
