// The decode matmul kernel (m <= 16 activation rows): int8 dot products on quantized activations.
#include "cuda/matmul_kernels.cuh"
#include "cuda/quant_decode.cuh"

namespace ollm_cuda {
namespace {

constexpr int kDecodeWarps = 4;  // output rows per block (one warp each)

// w: [n, k] of type T, rows row_stride bytes apart · a: [m, k/32] quantized groups (m <= MT) ·
// y: [m, n] f32. Warp `row` walks its weight row group by group (decode_lane_partial in
// quant_decode.cuh, host-tested), lane l taking groups l, l+32, ...: consecutive lanes read consecutive blocks (legacy) or sub-blocks (K-quants), so a warp's
// loads cover one contiguous stretch of the row and every weight byte comes from DRAM once. Each
// decoded group is dotted (4 dp4a per half) against the same group of all m activation rows,
// accumulated in f32 per row, then reduced across the warp with shuffles; lane 0 writes y.
template <uint32_t T, int MT>
__global__ void __launch_bounds__(kDecodeWarps * 32)
decode_matmul_kernel(const uint8_t* __restrict__ w, int64_t n, int64_t groups, size_t row_stride,
                     const int32_t* __restrict__ xq, const float* __restrict__ xd, const int32_t* __restrict__ xs,
                     int m, float* __restrict__ y) {
  const int lane = threadIdx.x & 31;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kDecodeWarps + threadIdx.x / 32;
  if (row >= n) return;  // the whole warp leaves together: the shuffles below stay full-warp
  float acc[MT];
#pragma unroll
  for (int r = 0; r < MT; ++r) acc[r] = 0.0f;
  decode_lane_partial<T, MT>(w + row * row_stride, lane, groups, xq, xd, xs, m, acc);
#pragma unroll
  for (int r = 0; r < MT; ++r) {
    float v = acc[r];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (lane == 0 && (MT == 1 || r < m)) y[r * n + row] = v;
  }
}

template <uint32_t T, int MT>
cudaError_t launch_mt(const uint8_t* w, int64_t n, int64_t k, size_t row_stride, const ActQ8& a, int m, float* y,
                      cudaStream_t stream) {
  const int64_t blocks = (n + kDecodeWarps - 1) / kDecodeWarps;
  decode_matmul_kernel<T, MT><<<static_cast<unsigned>(blocks), kDecodeWarps * 32, 0, stream>>>(
      w, n, k / 32, row_stride, a.q, a.d, a.s, m, y);
  return cudaGetLastError();
}

// The smallest compiled row count >= m (1, 2, 4, 8, 16): registers for m accumulators, not 16.
template <uint32_t T>
cudaError_t launch_type(const uint8_t* w, int64_t n, int64_t k, size_t row_stride, const ActQ8& a, int m, float* y,
                        cudaStream_t stream) {
  if (m <= 1) return launch_mt<T, 1>(w, n, k, row_stride, a, m, y, stream);
  if (m <= 2) return launch_mt<T, 2>(w, n, k, row_stride, a, m, y, stream);
  if (m <= 4) return launch_mt<T, 4>(w, n, k, row_stride, a, m, y, stream);
  if (m <= 8) return launch_mt<T, 8>(w, n, k, row_stride, a, m, y, stream);
  return launch_mt<T, 16>(w, n, k, row_stride, a, m, y, stream);
}

}  // namespace

cudaError_t launch_decode_matmul(uint32_t ggml_type, const uint8_t* w, int64_t n, int64_t k, size_t row_stride,
                                 const ActQ8& a, int m, float* y, cudaStream_t stream) {
  switch (ggml_type) {
    case type_q4_0: return launch_type<type_q4_0>(w, n, k, row_stride, a, m, y, stream);
    case type_q4_1: return launch_type<type_q4_1>(w, n, k, row_stride, a, m, y, stream);
    case type_q5_0: return launch_type<type_q5_0>(w, n, k, row_stride, a, m, y, stream);
    case type_q5_1: return launch_type<type_q5_1>(w, n, k, row_stride, a, m, y, stream);
    case type_q8_0: return launch_type<type_q8_0>(w, n, k, row_stride, a, m, y, stream);
    case type_q2_k: return launch_type<type_q2_k>(w, n, k, row_stride, a, m, y, stream);
    case type_q3_k: return launch_type<type_q3_k>(w, n, k, row_stride, a, m, y, stream);
    case type_q4_k: return launch_type<type_q4_k>(w, n, k, row_stride, a, m, y, stream);
    case type_q5_k: return launch_type<type_q5_k>(w, n, k, row_stride, a, m, y, stream);
    case type_q6_k: return launch_type<type_q6_k>(w, n, k, row_stride, a, m, y, stream);
    case type_iq4_nl: return launch_type<type_iq4_nl>(w, n, k, row_stride, a, m, y, stream);
    case type_iq4_xs: return launch_type<type_iq4_xs>(w, n, k, row_stride, a, m, y, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace ollm_cuda
