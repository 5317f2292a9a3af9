// The f32-accumulating matmul (contract in matmul_f32acc.cuh): y = x · wᵀ with every weight decoded
// to its exact f32 value, multiplied with the unrounded f32 activation, f32 accumulation.
//
// Design
// - Work items are (block of weight rows, pass of up to 16 x rows), the pass index fastest, so the
//   blocks sharing a stretch of w run together and passes after the first (m > 16) find it in L2.
//   Kernels are templated on the pass size MT = m rounded up to 1, 2, 4, 8, 16; every weight load
//   feeds all MT rows. Grid-stride over items; 128-thread blocks.
// - k goes in tiles: the tile's weight loads are issued, then a barrier, then the block stages the
//   pass's x rows of the tile in shared memory (coalesced scalar loads: x needs no alignment beyond
//   4 bytes; elements past k and rows past m as 0), a barrier, the FMAs.
// - F32 / F16 / BF16: a warp owns RW weight rows (1 for MT <= 2, 2 for MT = 4, 4 for MT >= 8, so
//   that shared-memory reads of x stay at or below the FMA rate at MT = 16); each lane loads VB
//   bytes of every row per step, consecutive lanes consecutive chunks. VB = the widest of 16, 8, 4
//   (2 for 16-bit types) dividing both w and row_stride, chosen at launch. Exact conversions (F16
//   cvt.f32.f16, BF16 a shift); elements past k are never loaded. With 8 halves per lane the
//   staged x row is quad-swizzled so each lane's two float4 reads are bank-conflict-free.
// - Block formats: 8 lanes per weight row, 4 rows per warp; lane s of a row decodes group 8t + s
//   with decode_group<T> (host-tested against the CPU dequantizers): a tile is one K-quant
//   super-block or eight legacy blocks, one contiguous stretch of the row. Element j is
//   __fadd_rn(__fmul_rn(d, code_j), m), the CPU dequantizer's f32 bit for bit (plain `p + m`
//   could be contracted to an FMA under nvcc's default -fmad=true). Staged x rows carry one pad
//   float per 32, so the 8 lanes reading offset j of 8 groups hit 8 banks (other rows broadcast).
// - Lane partial sums are reduced with xor shuffles: deterministic, no atomics.
//
// Verified on the host only: tests run this file under a CUDA emulation (threads + barriers, ASan)
// against float64, 3038 cases, all types, k tails, every VB, m up to 40, grid-stride. A GPU run
// must check first: test_backend's exact path on all 15 types at m = 1, 3, 16, 17, 40 (F16 k = 7,
// 300; misaligned rows, row_stride = 2k + 2), compute-sanitizer memcheck, and the m = 1 decode
// bandwidth of F16/BF16/F32 against a device-to-device copy.
#include <cstdint>

#include "cuda/matmul_f32acc.cuh"
#include "cuda/quant_decode.cuh"

namespace ollm_cuda {
namespace {

constexpr uint32_t type_f32 = 0, type_f16 = 1, type_bf16 = 30;
constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kPassRows = 16;                          // activation rows per pass at most
constexpr int64_t kMaxBlocks = int64_t{1} << 24;       // grid cap; the kernels loop over work items

// --- Float weights -------------------------------------------------------------------------------

struct WeightF32 {
  static constexpr int bytes = 4;
  __device__ static float value(uint32_t u) { return __uint_as_float(u); }
};
struct WeightF16 {
  static constexpr int bytes = 2;
  __device__ static float value(uint32_t u) { return half_to_f32(u); }
};
struct WeightBF16 {
  static constexpr int bytes = 2;
  __device__ static float value(uint32_t u) { return __uint_as_float(u << 16); }
};

template <int MT>
constexpr int kFloatRowsPerWarp = MT >= 8 ? 4 : (MT >= 4 ? 2 : 1);

// VB bytes of a weight row as little-endian 32-bit words (a 2-byte chunk sits in word 0).
template <int VB>
struct Chunk {
  uint32_t u[VB >= 4 ? VB / 4 : 1];
};

// p is VB-byte aligned.
template <int VB>
__device__ __forceinline__ Chunk<VB> load_chunk(const uint8_t* p) {
  Chunk<VB> c;
  if constexpr (VB == 16) {
    const uint4 v = __ldg(reinterpret_cast<const uint4*>(p));
    c.u[0] = v.x; c.u[1] = v.y; c.u[2] = v.z; c.u[3] = v.w;
  } else if constexpr (VB == 8) {
    const uint2 v = __ldg(reinterpret_cast<const uint2*>(p));
    c.u[0] = v.x; c.u[1] = v.y;
  } else if constexpr (VB == 4) {
    c.u[0] = __ldg(reinterpret_cast<const unsigned int*>(p));
  } else {
    c.u[0] = __ldg(reinterpret_cast<const unsigned short*>(p));
  }
  return c;
}

// The chunk of elements e0 .. e0 + VB/E - 1 of row wr, element by element, those at or past k
// left 0 and never read (the last, partial tile of a row).
template <int VB, int E>
__device__ __forceinline__ Chunk<VB> load_chunk_tail(const uint8_t* wr, int64_t e0, int64_t k) {
  Chunk<VB> c;
#pragma unroll
  for (int i = 0; i < (VB >= 4 ? VB / 4 : 1); ++i) c.u[i] = 0;
#pragma unroll
  for (int j = 0; j < VB / E; ++j) {
    if (e0 + j < k) {
      const uint8_t* p = wr + (e0 + j) * E;
      if constexpr (E == 4) c.u[j] = __ldg(reinterpret_cast<const unsigned int*>(p));
      else c.u[j / 2] |= static_cast<uint32_t>(__ldg(reinterpret_cast<const unsigned short*>(p))) << (16 * (j % 2));
    }
  }
  return c;
}

// Element j of a chunk of E-byte elements, as raw bits.
template <int E, int VB>
__device__ __forceinline__ uint32_t chunk_elem(const Chunk<VB>& c, int j) {
  if constexpr (E == 4) return c.u[j];
  else return (c.u[j / 2] >> (16 * (j % 2))) & 0xffffu;
}

// Shared-memory position of element c of a staged x row. For V = 8 lane l reads quads 2l and
// 2l + 1; flipping bit 0 of the quad index in every other group of 8 quads spreads each quarter
// warp's eight float4 reads over all 32 banks (unswizzled, lanes l and l + 4 would collide).
template <int V>
__device__ __forceinline__ int xs_pos(int c) {
  if constexpr (V == 8) return c ^ (((c >> 5) & 1) << 2);
  else return c;
}

// N (1, 2, 4) consecutive staged x values at p (N*4-byte aligned; a swizzled quad stays whole).
template <int N>
__device__ __forceinline__ void load_xs(const float* p, float (&out)[N]) {
  if constexpr (N == 4) {
    const float4 a = *reinterpret_cast<const float4*>(p);
    out[0] = a.x; out[1] = a.y; out[2] = a.z; out[3] = a.w;
  } else if constexpr (N == 2) {
    const float2 a = *reinterpret_cast<const float2*>(p);
    out[0] = a.x; out[1] = a.y;
  } else {
    out[0] = *p;
  }
}

// One k tile (KT elements from e_tile) of a float kernel's work item: weight chunks in flight,
// x rows r0 .. r0 + mrows - 1 staged (rows past mrows and elements past k as 0), then the FMAs.
template <class F, int V, int MT, int RW, bool Tail>
__device__ __forceinline__ void float_tile(const uint8_t* const (&wr)[RW], int64_t e_tile, int64_t k,
                                           const float* __restrict__ x, int64_t r0, int mrows, float* xs, int lane,
                                           float (&acc)[MT][RW]) {
  constexpr int E = F::bytes, VB = V * E;
  constexpr int KT = 32 * (16 / E);  // tile: one 16-byte chunk per lane at the widest V
  constexpr int CH = KT / (32 * V);  // chunks per lane and row
  constexpr int SL = MT * KT / kThreads;
  Chunk<VB> wc[RW][CH];
#pragma unroll
  for (int i = 0; i < RW; ++i)
#pragma unroll
    for (int c = 0; c < CH; ++c) {
      const int64_t e0 = e_tile + c * 32 * V + lane * V;
      if constexpr (Tail) wc[i][c] = load_chunk_tail<VB, E>(wr[i], e0, k);
      else wc[i][c] = load_chunk<VB>(wr[i] + e0 * E);
    }
  __syncthreads();  // every warp is done reading the previous tile's x
#pragma unroll 4  // straight to shared memory in batches of 4: a full unroll keeps 2*MT loads and
  for (int s = 0; s < SL; ++s) {  // their addresses live (F16 at MT = 16 then needs 255 registers)
    const int idx = static_cast<int>(threadIdx.x) + s * kThreads;
    const int r = idx / KT, e = idx % KT;
    xs[r * KT + xs_pos<V>(e)] =
        (r < mrows && (!Tail || e_tile + e < k)) ? __ldg(x + (r0 + r) * k + e_tile + e) : 0.0f;
  }
  __syncthreads();
  // Sub-steps of JB <= 4 elements: RW*JB converted weights and one float4 of x live at a time,
  // which keeps MT = 16 (64 accumulators) within 128 registers.
  constexpr int JB = V < 4 ? V : 4;
#pragma unroll
  for (int c = 0; c < CH; ++c)
#pragma unroll
    for (int jb = 0; jb < V; jb += JB) {
      float wf[RW][JB];
#pragma unroll
      for (int i = 0; i < RW; ++i)
#pragma unroll
        for (int j = 0; j < JB; ++j) wf[i][j] = F::value(chunk_elem<E>(wc[i][c], jb + j));
#pragma unroll
      for (int r = 0; r < MT; ++r) {
        float xr[JB];
        load_xs<JB>(xs + r * KT + xs_pos<V>(c * 32 * V + lane * V + jb), xr);
#pragma unroll
        for (int i = 0; i < RW; ++i)
#pragma unroll
          for (int j = 0; j < JB; ++j) acc[r][i] = fmaf(wf[i][j], xr[j], acc[r][i]);
      }
    }
}

// w: [n, k] of F, rows row_stride bytes apart, w and row_stride V*F::bytes-aligned · x: [m, k]
// f32 · y: [m, n] f32 · passes = ceil(m / MT). Work item `item` is weight rows
// (item / passes) * 4*RW ... (+4*RW) against x rows (item % passes) * MT ... (+MT); warp w of the
// block owns RW consecutive rows of it.
template <class F, int V, int MT>
__global__ void __launch_bounds__(kThreads)
f32acc_float_kernel(const uint8_t* __restrict__ w, int64_t n, int64_t k, size_t row_stride,
                    const float* __restrict__ x, int64_t m, float* __restrict__ y, int64_t passes) {
  constexpr int RW = kFloatRowsPerWarp<MT>;
  constexpr int KT = 32 * (16 / F::bytes);
  __shared__ __align__(16) float xs[MT * KT];
  const int lane = static_cast<int>(threadIdx.x & 31), warp = static_cast<int>(threadIdx.x >> 5);
  constexpr int64_t rows_per_block = int64_t{kWarps} * RW;
  const int64_t items = (n + rows_per_block - 1) / rows_per_block * passes;
  const int64_t full_tiles = k / KT;
  for (int64_t item = blockIdx.x; item < items; item += gridDim.x) {  // block-uniform: barriers stay legal
    const int64_t r0 = item % passes * MT;
    const int mrows = m - r0 < MT ? static_cast<int>(m - r0) : MT;
    const int64_t row0 = item / passes * rows_per_block + warp * RW;
    const uint8_t* wr[RW];
#pragma unroll
    for (int i = 0; i < RW; ++i) {  // rows past n read row n - 1 (valid memory) and are not written
      const int64_t row = row0 + i < n ? row0 + i : n - 1;
      wr[i] = w + static_cast<size_t>(row) * row_stride;
    }
    float acc[MT][RW];
#pragma unroll
    for (int r = 0; r < MT; ++r)
#pragma unroll
      for (int i = 0; i < RW; ++i) acc[r][i] = 0.0f;
    for (int64_t t = 0; t < full_tiles; ++t)
      float_tile<F, V, MT, RW, false>(wr, t * KT, k, x, r0, mrows, xs, lane, acc);
    if (full_tiles * KT < k) float_tile<F, V, MT, RW, true>(wr, full_tiles * KT, k, x, r0, mrows, xs, lane, acc);
#pragma unroll
    for (int r = 0; r < MT; ++r)
#pragma unroll
      for (int i = 0; i < RW; ++i) {
        float v = acc[r][i];
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
        // Every lane holds the sum now; the stores are spread over the lanes.
        if (lane == (r * RW + i) % 32 && r < mrows && row0 + i < n) y[(r0 + r) * n + row0 + i] = v;
      }
  }
}

// --- Block formats --------------------------------------------------------------------------------

// Element j of a decoded group, rounded as the CPU dequantizer rounds: one product, then one sum
// where the format has an offset (intrinsics, so nvcc cannot fuse them into an FMA).
template <bool HasMin>
__device__ __forceinline__ float exact_value(const Group32& o, int j) {
  const float p = __fmul_rn(o.d[j / 16], static_cast<float>(group_code(o, j)));
  if constexpr (HasMin) return __fadd_rn(p, o.m[j / 16]);
  else return p;
}

constexpr int kQuantTile = 256;                        // elements of k per tile: 8 groups
constexpr int kQuantXRow = kQuantTile + kQuantTile / 32;  // staged x row with one pad per 32

// w: [n, k] of T (k a whole number of blocks, rows row_stride bytes apart, QuantTraits<T>::align
// aligned) · x: [m, k] f32 · y: [m, n] f32 · passes = ceil(m / MT). Work item `item` is weight
// rows (item / passes) * 16 ... (+16) against x rows (item % passes) * MT ... (+MT); lanes 8q ..
// 8q + 7 of warp w own row 4w + q of the block, lane 8q + s decoding groups 8t + s.
template <uint32_t T, int MT>
__global__ void __launch_bounds__(kThreads)
f32acc_quant_kernel(const uint8_t* __restrict__ w, int64_t n, int64_t k, size_t row_stride,
                    const float* __restrict__ x, int64_t m, float* __restrict__ y, int64_t passes) {
  constexpr int SL = MT * kQuantTile / kThreads;
  constexpr bool has_min = QuantTraits<T>::has_min;
  __shared__ float xs[MT * kQuantXRow];
  const int lane = static_cast<int>(threadIdx.x & 31), warp = static_cast<int>(threadIdx.x >> 5);
  const int sub = lane & 7;
  constexpr int64_t rows_per_block = int64_t{kWarps} * 4;
  const int64_t items = (n + rows_per_block - 1) / rows_per_block * passes;
  const int64_t groups = k / 32;
  const int64_t tiles = (groups + 7) / 8;
  for (int64_t item = blockIdx.x; item < items; item += gridDim.x) {  // block-uniform
    const int64_t r0 = item % passes * MT;
    const int mrows = m - r0 < MT ? static_cast<int>(m - r0) : MT;
    const int64_t row = item / passes * rows_per_block + warp * 4 + (lane >> 3);
    const uint8_t* wr = w + static_cast<size_t>(row < n ? row : n - 1) * row_stride;
    float acc[MT];
#pragma unroll
    for (int r = 0; r < MT; ++r) acc[r] = 0.0f;
    for (int64_t t = 0; t < tiles; ++t) {
      const int64_t e_tile = t * kQuantTile;
      // x value s of this thread's share of the tile: row r, element e (0 past mrows or k).
      auto x_at = [&](int s, int& pos) {
        const int idx = static_cast<int>(threadIdx.x) + s * kThreads;
        const int r = idx / kQuantTile, e = idx % kQuantTile;
        pos = r * kQuantXRow + e + e / 32;
        return (r < mrows && e_tile + e < k) ? __ldg(x + (r0 + r) * k + e_tile + e) : 0.0f;
      };
      // For MT <= 2 the few x loads are issued before the decode, so that their latency overlaps
      // the weight loads; for more rows that would hold 2*MT loads and addresses in registers
      // (167-216 at MT = 16), so they go straight to shared memory after the barrier instead.
      constexpr bool preload = SL <= 4;
      float xv[preload ? SL : 1];
      int xp[preload ? SL : 1];
      if constexpr (preload) {
#pragma unroll
        for (int s = 0; s < SL; ++s) xv[s] = x_at(s, xp[s]);
      }
      const int64_t g = t * 8 + sub;
      const bool valid = g < groups;  // false only in the last tile of a legacy-format row
      Group32 grp = {};
      if (valid) decode_group<T>(wr, g, grp);
      __syncthreads();  // every warp is done reading the previous tile's x
      if constexpr (preload) {
#pragma unroll
        for (int s = 0; s < SL; ++s) xs[xp[s]] = xv[s];
      } else {
#pragma unroll 4
        for (int s = 0; s < SL; ++s) {
          int pos;
          const float v = x_at(s, pos);
          xs[pos] = v;
        }
      }
      __syncthreads();
      if (valid) {
        const float* xg = xs + sub * 33;
#pragma unroll
        for (int j = 0; j < 32; ++j) {
          const float v = exact_value<has_min>(grp, j);
#pragma unroll
          for (int r = 0; r < MT; ++r) acc[r] = fmaf(v, xg[r * kQuantXRow + j], acc[r]);
        }
      }
    }
#pragma unroll
    for (int r = 0; r < MT; ++r) {
      float v = acc[r];
      v += __shfl_xor_sync(0xffffffffu, v, 4);  // the 8 lanes of a row: xor 4, 2, 1 stays inside
      v += __shfl_xor_sync(0xffffffffu, v, 2);
      v += __shfl_xor_sync(0xffffffffu, v, 1);
      if (sub == r % 8 && r < mrows && row < n) y[(r0 + r) * n + row] = v;
    }
  }
}

// --- Launch ---------------------------------------------------------------------------------------

unsigned grid_for(int64_t items) { return static_cast<unsigned>(items < kMaxBlocks ? items : kMaxBlocks); }

// The smallest compiled pass size >= m (1, 2, 4, 8, 16), passes of 16 beyond.
template <class Launch>
cudaError_t by_pass_rows(int64_t m, Launch&& launch) {
  if (m <= 1) return launch.template run<1>();
  if (m <= 2) return launch.template run<2>();
  if (m <= 4) return launch.template run<4>();
  if (m <= 8) return launch.template run<8>();
  return launch.template run<kPassRows>();
}

struct Args {
  const uint8_t* w;
  int64_t n, k;
  size_t row_stride;
  const float* x;
  int64_t m;
  float* y;
  cudaStream_t stream;
};

template <class F, int V>
struct FloatLaunch {
  const Args& a;
  template <int MT>
  cudaError_t run() const {
    constexpr int64_t rows_per_block = int64_t{kWarps} * kFloatRowsPerWarp<MT>;
    const int64_t passes = (a.m + MT - 1) / MT;
    const int64_t items = (a.n + rows_per_block - 1) / rows_per_block * passes;
    f32acc_float_kernel<F, V, MT><<<grid_for(items), kThreads, 0, a.stream>>>(a.w, a.n, a.k, a.row_stride, a.x, a.m,
                                                                            a.y, passes);
    return cudaGetLastError();
  }
};

template <uint32_t T>
struct QuantLaunch {
  const Args& a;
  template <int MT>
  cudaError_t run() const {
    const int64_t passes = (a.m + MT - 1) / MT;
    const int64_t items = (a.n + kWarps * 4 - 1) / (kWarps * 4) * passes;
    f32acc_quant_kernel<T, MT><<<grid_for(items), kThreads, 0, a.stream>>>(a.w, a.n, a.k, a.row_stride, a.x, a.m, a.y,
                                                                         passes);
    return cudaGetLastError();
  }
};

// The widest chunk that w and row_stride both allow (16, 8, 4 bytes; 2 for 16-bit types).
template <class F>
cudaError_t launch_float(const Args& a) {
  const uintptr_t al = reinterpret_cast<uintptr_t>(a.w) | a.row_stride;
  constexpr int E = F::bytes;
  if (al % 16 == 0) return by_pass_rows(a.m, FloatLaunch<F, 16 / E>{a});
  if (al % 8 == 0) return by_pass_rows(a.m, FloatLaunch<F, 8 / E>{a});
  if constexpr (E == 2) {
    if (al % 4 == 0) return by_pass_rows(a.m, FloatLaunch<F, 2>{a});
  }
  return by_pass_rows(a.m, FloatLaunch<F, 1>{a});
}

// Per block: bytes, elements, load alignment (1 element for the float types).
using Format = BlockFormat;
Format format_of(uint32_t t) {
  switch (t) {
    case type_f32: return {4, 1, 4};
    case type_f16: return {2, 1, 2};
    case type_bf16: return {2, 1, 2};
    default: return block_format(t);
  }
}

}  // namespace

bool matmul_f32acc_supports(uint32_t ggml_type) { return format_of(ggml_type).bytes != 0; }

// Validates what the kernels assume (type, shapes, whole blocks, row stride, alignment as
// decode_matmul checks it, f32 alignment of x and y) and dispatches on the type.
cudaError_t launch_matmul_f32acc(uint32_t ggml_type, const void* w, int64_t n, int64_t k, size_t row_stride,
                                 const float* x, int64_t m, float* y, cudaStream_t stream) {
  const Format f = format_of(ggml_type);
  if (f.bytes == 0 || n < 0 || m < 0 || k <= 0 || k % f.elems != 0) return cudaErrorInvalidValue;
  if (n == 0 || m == 0) return cudaSuccess;
  if (!w || !x || !y) return cudaErrorInvalidValue;
  const uint64_t blocks = static_cast<uint64_t>(k / f.elems);
  if (blocks > SIZE_MAX / static_cast<unsigned>(f.bytes) || row_stride < blocks * static_cast<unsigned>(f.bytes))
    return cudaErrorInvalidValue;
  if ((reinterpret_cast<uintptr_t>(w) | row_stride) % static_cast<unsigned>(f.align) != 0)
    return cudaErrorMisalignedAddress;
  if ((reinterpret_cast<uintptr_t>(x) | reinterpret_cast<uintptr_t>(y)) % alignof(float) != 0)
    return cudaErrorMisalignedAddress;
  const Args a{static_cast<const uint8_t*>(w), n, k, row_stride, x, m, y, stream};
  switch (ggml_type) {
    case type_f32: return launch_float<WeightF32>(a);
    case type_f16: return launch_float<WeightF16>(a);
    case type_bf16: return launch_float<WeightBF16>(a);
#define OLLM_QUANT(id) case id: return by_pass_rows(m, QuantLaunch<id>{a});
    OLLM_QUANT(type_q4_0) OLLM_QUANT(type_q4_1) OLLM_QUANT(type_q5_0) OLLM_QUANT(type_q5_1)
    OLLM_QUANT(type_q8_0) OLLM_QUANT(type_q2_k) OLLM_QUANT(type_q3_k) OLLM_QUANT(type_q4_k)
    OLLM_QUANT(type_q5_k) OLLM_QUANT(type_q6_k) OLLM_QUANT(type_iq4_nl) OLLM_QUANT(type_iq4_xs)
#undef OLLM_QUANT
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace ollm_cuda
