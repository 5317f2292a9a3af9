// Rotary position embeddings on the GPU (the contract in rope.cuh).
//
// Design
// - Grid: x strides over tokens, y over groups of heads (as many heads as make ~one pass of the
//   block, so a decode step with one token still spreads over several blocks). Each block first
//   computes the token's rot_dims / 2 cos/sin pairs into shared memory, then rotates its heads'
//   pairs with them; the few redundant sincos per token (one set per head group) are cheap next
//   to the memory traffic.
// - Rounding is kernels/cpu/ops_rope.cpp's, operation for operation:
//   angle = f32(pos) * inv_freq[i] in f32; cos/sin of the angle in double by the same code as the
//   AVX2/AVX-512 sincos_block (k = rint(a * 2/pi), a two-constant Cody-Waite reduction, the same
//   Taylor polynomials by FMA in the same order, the same quadrant logic), rounded to f32, times
//   mscale in f32. So c and s are bit-equal to the SIMD CPU variants, and to the scalar one
//   (std::cos / std::sin of the double angle) except where a double result lies within ~1e-16 of
//   an f32 rounding boundary (then 1 ulp of c or s).
// - The rotation is the SIMD CPU's too: x0' = fma(-x1, s, x0 * c), x1' = fma(x0, s, x1 * c)
//   with x0 * c and x1 * c rounded first, for both layouts (the normal layout's
//   fmadd(swap_pairs(x), (-s, s), x * c) is the same two operations per element).
#include <cstdint>

#include "cuda/rope.cuh"

namespace ollm_cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxGrid = 65535;
constexpr int kMaxRotDims = 12288;  // c and s in the default 48 KiB of dynamic shared memory

// cos and sin of x (an f32 angle, widened): sincos_block of kernels/cpu/ops_rope.cpp for one lane.
__device__ __forceinline__ void sincos_cpu(double x, double* sin_out, double* cos_out) {
  const double k = rint(__dmul_rn(x, 0.63661977236758134308));  // 2/pi; nearest even, as the CPU
  double r = fma(-k, 1.5707963267948966, x);                       // pi/2, head
  r = fma(-k, 6.123233995736766e-17, r);                           // pi/2, tail
  const double r2 = __dmul_rn(r, r);
  // Taylor series on |r| <= pi/4: truncation below 3e-14 for both.
  double sp = 1.0 / 6227020800.0;
  sp = fma(sp, r2, -1.0 / 39916800.0);
  sp = fma(sp, r2, 1.0 / 362880.0);
  sp = fma(sp, r2, -1.0 / 5040.0);
  sp = fma(sp, r2, 1.0 / 120.0);
  sp = fma(sp, r2, -1.0 / 6.0);
  const double s = fma(__dmul_rn(sp, r2), r, r);
  double cp = 1.0 / 87178291200.0;
  cp = fma(cp, r2, -1.0 / 479001600.0);
  cp = fma(cp, r2, 1.0 / 3628800.0);
  cp = fma(cp, r2, -1.0 / 40320.0);
  cp = fma(cp, r2, 1.0 / 720.0);
  cp = fma(cp, r2, -1.0 / 24.0);
  cp = fma(cp, r2, 0.5);
  const double c = fma(-cp, r2, 1.0);
  // Quadrant on the low bits of k (k is integral; |k| < 2^31 for any f32(int32) * inv_freq <= 1).
  const long long q = static_cast<long long>(k);
  const bool odd = (q & 1) != 0, sin_neg = (q & 2) != 0, cos_neg = ((q + 1) & 2) != 0;
  const double sv = odd ? c : s, cv = odd ? s : c;
  *sin_out = sin_neg ? -sv : sv;
  *cos_out = cos_neg ? -cv : cv;
}

// x: [n_tok, n_heads, head_dim] rotated in place · pos: [n_tok] · inv_freq: [half] ·
// dynamic shared: [2 * half] floats (c then s). heads_per_group * half <= max(kThreads, half).
__global__ void __launch_bounds__(kThreads)
rope_kernel(float* __restrict__ x, int64_t n_tok, int n_heads, int head_dim, int half, bool neox,
            const float* __restrict__ inv_freq, float mscale, const int32_t* __restrict__ pos, int heads_per_group,
            int n_groups) {
  extern __shared__ float cs[];
  float* cos_t = cs;
  float* sin_t = cs + half;
  for (int64_t t = blockIdx.x; t < n_tok; t += gridDim.x) {
    const float pf = static_cast<float>(pos[t]);
    for (int i = threadIdx.x; i < half; i += kThreads) {
      const float angle = pf * inv_freq[i];
      double sd, cd;
      sincos_cpu(static_cast<double>(angle), &sd, &cd);
      cos_t[i] = static_cast<float>(cd) * mscale;
      sin_t[i] = static_cast<float>(sd) * mscale;
    }
    __syncthreads();
    for (int g = blockIdx.y; g < n_groups; g += gridDim.y) {
      const int h0 = g * heads_per_group;
      const int nh = min(heads_per_group, n_heads - h0);
      for (int p = threadIdx.x; p < nh * half; p += kThreads) {
        const int h = h0 + p / half, i = p % half;
        float* hx = x + (t * n_heads + h) * static_cast<int64_t>(head_dim);
        float* p0 = neox ? hx + i : hx + 2 * i;
        float* p1 = neox ? hx + i + half : hx + 2 * i + 1;
        const float x0 = *p0, x1 = *p1, c = cos_t[i], s = sin_t[i];
        *p0 = fmaf(-x1, s, __fmul_rn(x0, c));
        *p1 = fmaf(x0, s, __fmul_rn(x1, c));
      }
    }
    __syncthreads();  // the next token overwrites c and s
  }
}

}  // namespace

cudaError_t launch_rope(float* x, int64_t n_tok, int n_heads, int head_dim, int rot_dims, bool neox,
                        const float* inv_freq, float mscale, const int32_t* pos, cudaStream_t stream) {
  if (n_tok < 0 || n_heads < 0 || head_dim < 0 || rot_dims < 0 || rot_dims % 2 != 0 || rot_dims > head_dim ||
      rot_dims > kMaxRotDims)
    return cudaErrorInvalidValue;
  if (n_tok == 0 || n_heads == 0 || rot_dims == 0) return cudaSuccess;
  if (!x || !inv_freq || !pos) return cudaErrorInvalidValue;
  const int half = rot_dims / 2;
  const int heads_per_group = half >= kThreads ? 1 : kThreads / half;
  const int n_groups = (n_heads + heads_per_group - 1) / heads_per_group;
  const dim3 grid(static_cast<unsigned>(n_tok < kMaxGrid ? n_tok : kMaxGrid),
                  static_cast<unsigned>(n_groups < kMaxGrid ? n_groups : kMaxGrid));
  const size_t shared = 2 * static_cast<size_t>(half) * sizeof(float);
  rope_kernel<<<grid, kThreads, shared, stream>>>(x, n_tok, n_heads, head_dim, half, neox, inv_freq, mscale, pos,
                                                  heads_per_group, n_groups);
  return cudaGetLastError();
}

}  // namespace ollm_cuda
