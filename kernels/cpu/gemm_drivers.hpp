// The threaded drivers behind gemm() (gemm.cpp routes to one of them): scratch buffers, row
// chunking and the split of work over the thread pool, around the per-ISA kernels.
#pragma once

#include <cstdint>

#include "cpu/isa.hpp"
#include "cpu/thread_pool.hpp"
#include "cpu/weight_matrix.hpp"

namespace ollm::cpu {

// Own int8 kernels (types with an int8_format).
void gemm_run_int8(Isa isa, const WeightMatrix& w, const float* x, int64_t m, int64_t x_stride,
                   float* y, int64_t y_stride, ThreadPool& pool, int n_threads);

// Own float kernels (F32, F16, BF16): f32 FMA, or (bf16_dot: BF16 weights, avx512 with
// AVX512-BF16, see gemm_bf16_dot_available) bf16 dot products on activations rounded to bf16.
void gemm_run_float(Isa isa, bool bf16_dot, const WeightMatrix& w, const float* x, int64_t m,
                    int64_t x_stride, float* y, int64_t y_stride, ThreadPool& pool, int n_threads);
bool gemm_float_type(DType type) noexcept;

// oneDNN matmul: F32 in place, F16/BF16 (and — the baseline — any dequantizable type) through
// f32 weight chunks; bf16_activations: BF16 weights in place with activations rounded to bf16.
// Only when built with OLLM_WITH_ONEDNN; otherwise gemm_onednn_available() is false and the
// runners throw Error(unsupported).
bool gemm_onednn_available() noexcept;
void gemm_run_onednn(Isa isa, bool bf16_activations, const WeightMatrix& w, const float* x, int64_t m, int64_t x_stride, float* y,
                     int64_t y_stride, ThreadPool& pool, int n_threads);
// Benchmarks only: true runs oneDNN as one call with n_threads OpenMP threads instead.
void gemm_onednn_set_one_call(bool one_call) noexcept;
void gemm_run_onednn_dequant(Isa isa, const WeightMatrix& w, const float* x, int64_t m, int64_t x_stride,
                             float* y, int64_t y_stride, ThreadPool& pool, int n_threads);

}  // namespace ollm::cpu
