// The mixture-of-experts router on the GPU (the contract in router.cuh).
//
// Design
// - One warp per row, 4 warps per block, blocks striding over the rows. Lane l owns the experts
//   e = l + 32 s (s < 32 as n_experts <= 1024): it alone reads and writes their entries, so the
//   row's values sit in the warp's slice of shared memory without any barrier, and a 32-bit mask
//   per lane marks the experts already selected.
// - Softmax as kernels/cpu/ops_elementwise.cpp's softmax_row: m = the largest entry ignoring NaN
//   (max(x, m) keeps m when x is NaN, as maxps does); m == -inf (every entry -inf or NaN) makes
//   the row zeros; else e = exp(x - m) (so a NaN entry, or +inf - +inf, poisons the sum and the
//   row), sum, inv = 1 / sum, p = e * inv. The sum is each lane's in expert order, then an xor
//   butterfly (the same bits in every lane); expf is CUDA's accurate one (<= 2 ulp), so p can
//   differ from the CPU's (polynomial exp, different summation order) by a few ulp.
// - Top-k as kernels/cpu/top_k.cpp: k rounds of a warp argmax over the unselected experts under
//   the order "larger value first, equal values by lower id", a NaN counting as -inf, the value
//   reported as compared (a NaN as -inf). Every lane ends a round with the same winner (the
//   butterfly applies a commutative, associative max of a total order), whose owner marks it;
//   lane j % 32 keeps round j's id and value for the write-out. That is the CPU's heap result:
//   the k highest under the same order, in descending order.
// - Renormalisation as the CPU backend: sum = 0, sum += w_j in selection order, w_j = w_j / sum
//   (a division per weight, not a reciprocal; a zero row gives 0 / 0 = NaN, as on the CPU).
#include <climits>
#include <cstdint>

#include "cuda/router.cuh"

namespace ollm_cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int64_t kMaxGrid = 65535;
constexpr int64_t kMaxExperts = 1024;
constexpr int64_t kMaxK = 64;

// Whether (v, id) ranks above (bv, bid): larger value, or equal value and lower id.
__device__ __forceinline__ bool ranks_above(float v, int id, float bv, int bid) {
  return v > bv || (v == bv && id < bid);
}

// logits: [rows, n] replaced by their softmax · ids, weights: [rows, k] ·
// dynamic shared: [kWarps, n] floats (each warp's row).
__global__ void __launch_bounds__(kThreads)
router_kernel(float* __restrict__ logits, int64_t rows, int n, int k, bool renormalize, int32_t* __restrict__ ids,
              float* __restrict__ weights) {
  extern __shared__ float rows_smem[];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  float* p = rows_smem + warp * n;
  const float neg_inf = -INFINITY;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * kWarps + warp; r < rows;
       r += static_cast<int64_t>(gridDim.x) * kWarps) {
    float* xr = logits + r * n;

    // Softmax.
    float m = neg_inf;
    for (int e = lane; e < n; e += 32) {
      const float v = xr[e];
      p[e] = v;
      m = v > m ? v : m;  // a NaN v keeps m
    }
    for (int o = 16; o > 0; o >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));  // no NaN here
    if (m == neg_inf) {  // no probability mass anywhere
      for (int e = lane; e < n; e += 32) p[e] = xr[e] = 0.0f;
    } else {
      float s = 0.0f;
      for (int e = lane; e < n; e += 32) {
        const float ex = expf(p[e] - m);
        p[e] = ex;
        s += ex;
      }
      for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
      const float inv = 1.0f / s;
      for (int e = lane; e < n; e += 32) p[e] = xr[e] = p[e] * inv;
    }

    // Top-k: k rounds of a warp argmax over the experts not yet selected.
    uint32_t taken = 0;
    float sum = 0.0f, v0 = 0.0f, v1 = 0.0f;  // v0 / v1: rounds lane and lane + 32
    int i0 = 0, i1 = 0;
    for (int j = 0; j < k; ++j) {
      float bv = neg_inf;
      int bi = INT_MAX;  // below every real expert when values tie at -inf
      for (int s = 0, e = lane; e < n; ++s, e += 32) {
        if ((taken >> s) & 1u) continue;
        const float v = isnan(p[e]) ? neg_inf : p[e];
        if (ranks_above(v, e, bv, bi)) {
          bv = v;
          bi = e;
        }
      }
      for (int o = 16; o > 0; o >>= 1) {
        const float ov = __shfl_xor_sync(0xffffffffu, bv, o);
        const int oi = __shfl_xor_sync(0xffffffffu, bi, o);
        if (ranks_above(ov, oi, bv, bi)) {
          bv = ov;
          bi = oi;
        }
      }
      // k <= n, so the winner is a real expert (bi < n).
      if ((bi & 31) == lane) taken |= 1u << (bi >> 5);
      if (j == lane) {
        v0 = bv;
        i0 = bi;
      } else if (j == lane + 32) {
        v1 = bv;
        i1 = bi;
      }
      sum += bv;
    }
    int32_t* ir = ids + r * k;
    float* wr = weights + r * k;
    if (lane < k) {
      ir[lane] = i0;
      wr[lane] = renormalize ? v0 / sum : v0;
    }
    if (lane + 32 < k) {
      ir[lane + 32] = i1;
      wr[lane + 32] = renormalize ? v1 / sum : v1;
    }
  }
}

}  // namespace

cudaError_t launch_router_top_k(float* logits, int64_t rows, int64_t n_experts, int64_t k, bool renormalize,
                                int32_t* ids, float* weights, cudaStream_t stream) {
  if (rows < 0 || n_experts < 1 || n_experts > kMaxExperts || k < 1 || k > n_experts || k > kMaxK)
    return cudaErrorInvalidValue;
  if (rows == 0) return cudaSuccess;
  if (!logits || !ids || !weights) return cudaErrorInvalidValue;
  const int64_t blocks = (rows + kWarps - 1) / kWarps;
  const unsigned grid = static_cast<unsigned>(blocks < kMaxGrid ? blocks : kMaxGrid);
  const size_t shared = static_cast<size_t>(kWarps) * static_cast<size_t>(n_experts) * sizeof(float);
  router_kernel<<<grid, kThreads, shared, stream>>>(logits, rows, static_cast<int>(n_experts), static_cast<int>(k),
                                                    renormalize, ids, weights);
  return cudaGetLastError();
}

}  // namespace ollm_cuda
