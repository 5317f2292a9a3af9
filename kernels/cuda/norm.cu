// RMSNorm and LayerNorm rows on the GPU (the contract in norm.cuh).
//
// Design
// - One block per row, blocks striding over the rows (rows reach ~10^6 when a norm runs per
//   head, e.g. [n_tok * n_heads, head_dim]). The block width follows n so short rows do not idle
//   most of a block: 32 threads up to n = 64, then 64, 128, 256 and 512 above n = 8192.
// - The arithmetic is kernels/cpu/ops_norm.cpp's: statistics in f32, squares accumulated with
//   an FMA (d = x - c; acc = fma(d, d, acc)), sum / float(n), inv = 1 / sqrt(stat + eps) (IEEE
//   sqrt and division), then y = ((x - c) * inv) * w + b with each operation rounded once
//   (__fmul_rn/__fadd_rn: no FMA contraction). LayerNorm takes the mean in a first pass and the
//   biased variance around it in a second, as the CPU does. Only the summation order differs from
//   the CPU's (which is itself per-ISA): each thread sums its strided elements in order, then a
//   fixed tree (xor shuffles within a warp, the warps' partials in warp order) combines them, so
//   a given n gives the same bits on every run.
// - Rows are read again for each pass (they stay in L1/L2: n <= ~16384 floats); y may be x,
//   which is safe because each element is read and then written by the same thread, after the
//   statistics' reads are behind the reduction's barrier.
#include <cstdint>

#include "cuda/norm.cuh"

namespace ollm_cuda {
namespace {

constexpr int64_t kMaxGrid = 65535;

// The sum of v over the block, the same bits in every thread. Within a warp an xor butterfly:
// partners add the same two values (in either order, which IEEE addition does not distinguish),
// so all lanes agree. Across warps every thread adds the partials in warp order. red holds
// kThreads / 32 floats; the trailing barrier lets the next call overwrite it.
template <int kThreads>
__device__ __forceinline__ float block_sum(float v, float* red) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  if constexpr (kThreads == 32) {
    return v;
  } else {
    if ((threadIdx.x & 31) == 0) red[threadIdx.x / 32] = v;
    __syncthreads();
    float s = red[0];
    for (int i = 1; i < kThreads / 32; ++i) s += red[i];
    __syncthreads();
    return s;
  }
}

// x, y: [rows, n] (y may be x) · w, b: [n] or null. kLayer: LayerNorm (mean subtracted, b
// added); else RMSNorm (c = 0, b unused).
template <int kThreads, bool kLayer>
__global__ void __launch_bounds__(kThreads)
norm_kernel(const float* x, const float* __restrict__ w, const float* __restrict__ b, float* y, int64_t rows,
            int64_t n, float eps) {
  __shared__ float red[kThreads / 32 > 0 ? kThreads / 32 : 1];
  const float fn = static_cast<float>(n);
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    float c = 0.0f;
    if constexpr (kLayer) {
      float s = 0.0f;
      for (int64_t i = threadIdx.x; i < n; i += kThreads) s += xr[i];
      c = block_sum<kThreads>(s, red) / fn;
    }
    float ss = 0.0f;
    for (int64_t i = threadIdx.x; i < n; i += kThreads) {
      const float d = xr[i] - c;
      ss = fmaf(d, d, ss);
    }
    const float stat = block_sum<kThreads>(ss, red) / fn;  // mean square, or biased variance
    const float inv = 1.0f / sqrtf(stat + eps);
    for (int64_t i = threadIdx.x; i < n; i += kThreads) {
      float v = __fmul_rn(xr[i] - c, inv);
      if (w) v = __fmul_rn(v, w[i]);
      if (kLayer && b) v = __fadd_rn(v, b[i]);
      yr[i] = v;
    }
  }
}

template <bool kLayer>
cudaError_t launch_norm(const float* x, const float* w, const float* b, float* y, int64_t rows, int64_t n, float eps,
                        cudaStream_t stream) {
  if (rows < 0 || n < 0) return cudaErrorInvalidValue;
  if (rows == 0 || n == 0) return cudaSuccess;
  if (!x || !y) return cudaErrorInvalidValue;
  const unsigned grid = static_cast<unsigned>(rows < kMaxGrid ? rows : kMaxGrid);
  if (n <= 64) {
    norm_kernel<32, kLayer><<<grid, 32, 0, stream>>>(x, w, b, y, rows, n, eps);
  } else if (n <= 512) {
    norm_kernel<64, kLayer><<<grid, 64, 0, stream>>>(x, w, b, y, rows, n, eps);
  } else if (n <= 2048) {
    norm_kernel<128, kLayer><<<grid, 128, 0, stream>>>(x, w, b, y, rows, n, eps);
  } else if (n <= 8192) {
    norm_kernel<256, kLayer><<<grid, 256, 0, stream>>>(x, w, b, y, rows, n, eps);
  } else {
    norm_kernel<512, kLayer><<<grid, 512, 0, stream>>>(x, w, b, y, rows, n, eps);
  }
  return cudaGetLastError();
}

}  // namespace

cudaError_t launch_rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps,
                            cudaStream_t stream) {
  return launch_norm<false>(x, w, nullptr, y, rows, n, eps, stream);
}

cudaError_t launch_layer_norm(const float* x, const float* w, const float* b, float* y, int64_t rows, int64_t n,
                              float eps, cudaStream_t stream) {
  return launch_norm<true>(x, w, b, y, rows, n, eps, stream);
}

}  // namespace ollm_cuda
