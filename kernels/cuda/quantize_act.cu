// Activation preparation kernels (see quantize_act.cuh).
#include <cuda_fp16.h>

#include "cuda/quant_decode.cuh"
#include "cuda/quantize_act.cuh"

namespace ollm_cuda {
namespace {

constexpr int kThreads = 256;

// One thread per group of 32 activations: x: [groups_total * 32] f32 (rows back to back, k % 32
// == 0 so groups never straddle rows) -> xq [groups_total, 8] int32, xd / xs [groups_total].
// The per-thread reads are 128 contiguous bytes; activations are tiny next to the weights, so
// the simple layout costs nothing measurable and keeps the host-tested quantize_act_group.
__global__ void __launch_bounds__(kThreads)
quantize_act_kernel(const float* __restrict__ x, int64_t groups_total, int32_t* __restrict__ xq,
                    float* __restrict__ xd, int32_t* __restrict__ xs) {
  const int64_t g = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (g >= groups_total) return;
  int32_t q[8];
  float d;
  int32_t s;
  quantize_act_group(x + g * 32, q, &d, &s);
  int4* out = reinterpret_cast<int4*>(xq + g * 8);
  out[0] = make_int4(q[0], q[1], q[2], q[3]);
  out[1] = make_int4(q[4], q[5], q[6], q[7]);
  xd[g] = d;
  xs[g] = s;
}

// One block per row r of x: [m, k]: the row's largest finite-or-not magnitude by a block
// reduction, scale = 2^(e - 14) where amax = f * 2^e (f in [0.5, 1)), then x16 = x / scale.
// A zero or non-finite amax keeps scale 1 (inf/NaN then propagate to y, visibly).
__global__ void __launch_bounds__(kThreads)
act_to_f16_kernel(const float* __restrict__ x, int64_t k, __half* __restrict__ x16, float* __restrict__ scale) {
  const int64_t r = blockIdx.x;
  const float* xr = x + r * k;
  float amax = 0.0f;
  for (int64_t i = threadIdx.x; i < k; i += kThreads) amax = fmaxf(amax, fabsf(xr[i]));
  __shared__ float red[kThreads / 32];
  for (int o = 16; o > 0; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
  if ((threadIdx.x & 31) == 0) red[threadIdx.x / 32] = amax;
  __syncthreads();
  amax = 0.0f;
  for (int i = 0; i < kThreads / 32; ++i) amax = fmaxf(amax, red[i]);
  int e = 14;
  if (amax > 0.0f && isfinite(amax)) frexpf(amax, &e);
  const int shift = 14 - e;  // x16 = x * 2^shift (ldexpf: exact, no overflowing reciprocal)
  if (threadIdx.x == 0) scale[r] = ldexpf(1.0f, -shift);
  __half* outr = x16 + r * k;
  for (int64_t i = threadIdx.x; i < k; i += kThreads) outr[i] = __float2half_rn(ldexpf(xr[i], shift));
}

// y: [m, n], row r times scale[r]; grid-stride over all m*n elements.
__global__ void __launch_bounds__(kThreads)
scale_rows_kernel(float* __restrict__ y, int64_t m, int64_t n, const float* __restrict__ scale) {
  const int64_t total = m * n;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * kThreads)
    y[i] *= scale[i / n];
}

}  // namespace

cudaError_t launch_quantize_act(const float* x, int64_t m, int64_t k, int32_t* xq, float* xd, int32_t* xs,
                                cudaStream_t stream) {
  const int64_t groups = m * (k / 32);
  if (groups == 0) return cudaSuccess;
  const int64_t blocks = (groups + kThreads - 1) / kThreads;
  quantize_act_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(x, groups, xq, xd, xs);
  return cudaGetLastError();
}

cudaError_t launch_act_to_f16_scaled(const float* x, int64_t m, int64_t k, uint16_t* x16, float* scale,
                                     cudaStream_t stream) {
  if (m == 0) return cudaSuccess;
  act_to_f16_kernel<<<static_cast<unsigned>(m), kThreads, 0, stream>>>(x, k, reinterpret_cast<__half*>(x16), scale);
  return cudaGetLastError();
}

cudaError_t launch_scale_rows(float* y, int64_t m, int64_t n, const float* scale, cudaStream_t stream) {
  const int64_t total = m * n;
  if (total == 0) return cudaSuccess;
  int64_t blocks = (total + kThreads - 1) / kThreads;
  if (blocks > 65536) blocks = 65536;
  scale_rows_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(y, m, n, scale);
  return cudaGetLastError();
}

}  // namespace ollm_cuda
