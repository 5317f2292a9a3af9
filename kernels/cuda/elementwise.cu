// Element-wise and data-movement ops of the CUDA backend (the contract in elementwise.cuh).
//
// Design
// - Every op is a functor applied by one of two grid-stride kernels: map_kernel over a flat
//   [count] (one element per thread per step), rows_kernel over [rows, n] (grid.y strides the
//   rows, grid.x the columns), so any size fits the grid limits and indices are 64-bit.
// - Arithmetic mirrors the CPU kernels (kernels/cpu/ops_elementwise.cpp, ops_simd.hpp's formulas,
//   cpu_backend.cpp's expert_combine) operation for operation. Where a product feeds a sum the
//   code says __fmul_rn/__fadd_rn (or fmaf where the CPU fuses), so nvcc's default FMA
//   contraction cannot change the rounding. Transcendentals are the accurate CUDA ones (expf,
//   tanhf, erfcf: <= 2-4 ulp), never the __expf-style intrinsics; `/` is IEEE division.
// - f32 -> f16/bf16 are the CPU's integer conversions (quant_blocks.hpp) verbatim, so NaN
//   payloads come out as on the CPU too, not as CUDA's canonical NaN.
// - Aliasing: y may be a or b, out may be gate or up; every element is read and then written by
//   the same thread, so no pointer that may alias is __restrict__.
#include <cstdint>

#include "cuda/elementwise.cuh"
#include "cuda/float_convert.cuh"

namespace ollm_cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxGrid = 65535;  // per grid dimension; the kernels stride past it

unsigned grid_for(int64_t work) {
  const int64_t blocks = (work + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < kMaxGrid ? blocks : kMaxGrid);
}

// op(i) for every i in [0, count).
template <class Op>
__global__ void __launch_bounds__(kThreads) map_kernel(Op op, int64_t count) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * kThreads)
    op(i);
}

// op(r, c) for every r in [0, rows), c in [0, n).
template <class Op>
__global__ void __launch_bounds__(kThreads) rows_kernel(Op op, int64_t rows, int64_t n) {
  for (int64_t r = blockIdx.y; r < rows; r += gridDim.y)
    for (int64_t c = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; c < n;
         c += static_cast<int64_t>(gridDim.x) * kThreads)
      op(r, c);
}

template <class Op>
cudaError_t launch_map(const Op& op, int64_t count, cudaStream_t stream) {
  map_kernel<<<grid_for(count), kThreads, 0, stream>>>(op, count);
  return cudaGetLastError();
}

template <class Op>
cudaError_t launch_rows(const Op& op, int64_t rows, int64_t n, cudaStream_t stream) {
  const dim3 grid(grid_for(n), static_cast<unsigned>(rows < kMaxGrid ? rows : kMaxGrid));
  rows_kernel<<<grid, kThreads, 0, stream>>>(op, rows, n);
  return cudaGetLastError();
}

// ---------------------------------------------------------------------------------------------
// Activations as ops_simd.hpp writes them (the scalar variant is the accuracy reference).

// x * sigmoid(x) = x / (1 + e^(0 - x)).
__device__ __forceinline__ float silu(float x) { return x / (1.0f + expf(0.0f - x)); }

// 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), as x * sigmoid(2u): the CPU's form,
// which avoids the cancellation of 1 + tanh(u) for negative x.
__device__ __forceinline__ float gelu_tanh(float x) {
  const float x3 = (x * x) * x;
  const float two_u = (2.0f * 0.7978845608028654f) * fmaf(0.044715f, x3, x);
  return x / (1.0f + expf(0.0f - two_u));
}

// 0.5 x erfc(-x / sqrt 2), the exact GELU (erfc keeps the negative tail's relative accuracy).
__device__ __forceinline__ float gelu_erf(float x) { return (0.5f * x) * erfcf(-x * 0.70710678118654752f); }

template <int Act>
__device__ __forceinline__ float activate(float x) {
  if constexpr (Act == 0) return silu(x);
  else if constexpr (Act == 1) return gelu_tanh(x);
  else return gelu_erf(x);
}

// ---------------------------------------------------------------------------------------------
// The ops.

struct AddOp {  // a, b, y: [count]
  const float* a;
  const float* b;
  float* y;
  __device__ void operator()(int64_t i) const { y[i] = a[i] + b[i]; }
};

struct AddBiasOp {  // y: [rows, n] · bias: [n]
  float* y;
  const float* bias;
  int64_t n;
  __device__ void operator()(int64_t r, int64_t c) const { y[r * n + c] += bias[c]; }
};

struct ScaleOp {  // x: [count]
  float* x;
  float s;
  __device__ void operator()(int64_t i) const { x[i] *= s; }
};

struct SoftcapOp {  // x: [count]; inv = 1 / cap rounded to f32, as the CPU multiplies by it
  float* x;
  float cap, inv;
  __device__ void operator()(int64_t i) const { x[i] = cap * tanhf(x[i] * inv); }
};

template <int Act>
struct GatedOp {  // gate: [rows, n] (stride gs) · up: [rows, n] (stride us) · out: [rows, n]
  const float* gate;
  const float* up;
  float* out;
  int64_t n, gs, us;
  __device__ void operator()(int64_t r, int64_t c) const {
    out[r * n + c] = activate<Act>(gate[r * gs + c]) * up[r * us + c];
  }
};

// dst[drow(r) * dst_stride + c] = src[srow(r) * src_stride + col0 + c], where srow / drow are
// src_rows[r] / dst_rows[r] when given, else r. Gather, scatter and column copies in one.
struct CopyOp {
  const float* src;
  int64_t src_stride, col0;
  const int32_t* src_rows;
  float* dst;
  int64_t dst_stride;
  const int32_t* dst_rows;
  __device__ void operator()(int64_t r, int64_t c) const {
    const int64_t sr = src_rows ? static_cast<int64_t>(src_rows[r]) : r;
    const int64_t dr = dst_rows ? static_cast<int64_t>(dst_rows[r]) : r;
    dst[dr * dst_stride + c] = src[sr * src_stride + col0 + c];
  }
};

// out[r, c] = sum_j w[r, j] * e[r, j, c], from 0.0f in j order with a rounded product and a
// rounded sum per term, as the CPU backend's loop (compiled with FP contraction off).
struct CombineOp {  // e: [rows, k, n] · w: [rows, k] · out: [rows, n]
  const float* e;
  const float* w;
  float* out;
  int64_t k, n;
  __device__ void operator()(int64_t r, int64_t c) const {
    float acc = 0.0f;
    for (int64_t j = 0; j < k; ++j) acc = __fadd_rn(acc, __fmul_rn(w[r * k + j], e[(r * k + j) * n + c]));
    out[r * n + c] = acc;
  }
};

struct F16Op {  // x: [count] -> y: [count] half bits
  const float* x;
  uint16_t* y;
  __device__ void operator()(int64_t i) const { y[i] = f32_to_fp16_bits(x[i]); }
};

struct BF16Op {  // x: [count] -> y: [count] bfloat16 bits
  const float* x;
  uint16_t* y;
  __device__ void operator()(int64_t i) const { y[i] = f32_to_bf16_bits(x[i]); }
};

}  // namespace

cudaError_t launch_add(const float* a, const float* b, float* y, int64_t count, cudaStream_t stream) {
  if (count < 0) return cudaErrorInvalidValue;
  if (count == 0) return cudaSuccess;
  if (!a || !b || !y) return cudaErrorInvalidValue;
  return launch_map(AddOp{a, b, y}, count, stream);
}

cudaError_t launch_add_bias(float* y, const float* bias, int64_t rows, int64_t n, cudaStream_t stream) {
  if (rows < 0 || n < 0) return cudaErrorInvalidValue;
  if (rows == 0 || n == 0) return cudaSuccess;
  if (!y || !bias) return cudaErrorInvalidValue;
  return launch_rows(AddBiasOp{y, bias, n}, rows, n, stream);
}

cudaError_t launch_scale(float* x, float s, int64_t count, cudaStream_t stream) {
  if (count < 0) return cudaErrorInvalidValue;
  if (count == 0) return cudaSuccess;
  if (!x) return cudaErrorInvalidValue;
  return launch_map(ScaleOp{x, s}, count, stream);
}

cudaError_t launch_softcap(float* x, float cap, int64_t count, cudaStream_t stream) {
  if (count < 0 || !(cap > 0.0f)) return cudaErrorInvalidValue;
  if (count == 0) return cudaSuccess;
  if (!x) return cudaErrorInvalidValue;
  return launch_map(SoftcapOp{x, cap, 1.0f / cap}, count, stream);
}

cudaError_t launch_gated_activation(int act, const float* gate, const float* up, float* out, int64_t rows, int64_t n,
                                    int64_t gate_stride, int64_t up_stride, cudaStream_t stream) {
  if (act < 0 || act > 2 || rows < 0 || n < 0 || gate_stride < 0 || up_stride < 0) return cudaErrorInvalidValue;
  if (rows == 0 || n == 0) return cudaSuccess;
  if (!gate || !up || !out) return cudaErrorInvalidValue;
  switch (act) {
    case 0: return launch_rows(GatedOp<0>{gate, up, out, n, gate_stride, up_stride}, rows, n, stream);
    case 1: return launch_rows(GatedOp<1>{gate, up, out, n, gate_stride, up_stride}, rows, n, stream);
    default: return launch_rows(GatedOp<2>{gate, up, out, n, gate_stride, up_stride}, rows, n, stream);
  }
}

cudaError_t launch_gather_rows(const float* src, int64_t n, const int32_t* rows, int64_t count, float* dst,
                               cudaStream_t stream) {
  if (n < 0 || count < 0) return cudaErrorInvalidValue;
  if (n == 0 || count == 0) return cudaSuccess;
  if (!src || !rows || !dst) return cudaErrorInvalidValue;
  return launch_rows(CopyOp{src, n, 0, rows, dst, n, nullptr}, count, n, stream);
}

cudaError_t launch_scatter_rows(const float* src, int64_t n, const int32_t* rows, int64_t count, float* dst,
                                cudaStream_t stream) {
  if (n < 0 || count < 0) return cudaErrorInvalidValue;
  if (n == 0 || count == 0) return cudaSuccess;
  if (!src || !rows || !dst) return cudaErrorInvalidValue;
  return launch_rows(CopyOp{src, n, 0, nullptr, dst, n, rows}, count, n, stream);
}

cudaError_t launch_copy_columns(const float* src, int64_t src_stride, int64_t col0, int64_t cols, float* dst,
                                int64_t dst_stride, int64_t rows, cudaStream_t stream) {
  if (src_stride < 0 || col0 < 0 || cols < 0 || dst_stride < 0 || rows < 0) return cudaErrorInvalidValue;
  if (cols == 0 || rows == 0) return cudaSuccess;
  if (!src || !dst) return cudaErrorInvalidValue;
  return launch_rows(CopyOp{src, src_stride, col0, nullptr, dst, dst_stride, nullptr}, rows, cols, stream);
}

cudaError_t launch_expert_combine(const float* expert_out, const float* weights, int64_t rows, int64_t k, int64_t n,
                                  float* out, cudaStream_t stream) {
  if (rows < 0 || k < 0 || n < 0) return cudaErrorInvalidValue;
  if (rows == 0 || n == 0) return cudaSuccess;
  if (!out || (k > 0 && (!expert_out || !weights))) return cudaErrorInvalidValue;
  return launch_rows(CombineOp{expert_out, weights, out, k, n}, rows, n, stream);
}

cudaError_t launch_f32_to_f16(const float* x, uint16_t* y, int64_t count, cudaStream_t stream) {
  if (count < 0) return cudaErrorInvalidValue;
  if (count == 0) return cudaSuccess;
  if (!x || !y) return cudaErrorInvalidValue;
  return launch_map(F16Op{x, y}, count, stream);
}

cudaError_t launch_f32_to_bf16(const float* x, uint16_t* y, int64_t count, cudaStream_t stream) {
  if (count < 0) return cudaErrorInvalidValue;
  if (count == 0) return cudaSuccess;
  if (!x || !y) return cudaErrorInvalidValue;
  return launch_map(BF16Op{x, y}, count, stream);
}

}  // namespace ollm_cuda
