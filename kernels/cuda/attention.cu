// Paged attention for a mixed batch (see attention.cuh), with the semantics of
// kernels/cpu/attention.cpp + attention_kernels.cpp.
//
// Design. One warp per (batch row, query head) pair; consecutive warps of a block are consecutive
// heads of one row, so the heads of a GQA group read the same K/V rows close together in time
// (L1/L2 reuse). Lane l owns the head dims l, l + 32, ... (NT of them: q, scaled as the CPU scales
// it, and the output accumulator live in registers). Keys go 32 at a time: every lane computes its
// dims' share of q.k for each of the 32 keys (coalesced loads: the warp reads a key row front to
// back), then a 31-shuffle reduce-scatter leaves lane j with the full score of key j. Soft-cap,
// the online-softmax update (warp max / sum by shuffles, expf, the CPU's -inf and NaN rules) and
// P.V (lane j's weight broadcast per key, V rows read coalesced) follow. A query that sees no key
// ends with m = -inf, l = 0 and is finalised as the CPU finalises (sinks in the denominator only).
//
// Split-KV: when the batch has few pairs (decode), gridDim.y = S splits divide each pair's visible
// key range into S contiguous parts; each writes its partial (acc, m, l) to the caller's scratch
// and a second kernel merges them exactly as the CPU merges split parts. The scratch holds
// kScratchSlots (pair, split) partials of kPartStride floats (4.2 MB, attention_scratch_bytes());
// the launcher never asks for more (S <= kScratchSlots / pairs). It belongs to the caller (one per
// backend, ordered by its stream), so engines on other streams of the same device never share it.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "cuda/attention.cuh"
#include "cuda/quant_decode.cuh"

namespace ollm_cuda {
namespace {

constexpr uint32_t type_f32 = 0, type_f16 = 1, type_bf16 = 30;
constexpr unsigned kFull = 0xffffffffu;
constexpr int kWarps = 4;                     // pairs per block
constexpr int kMinBlocks = 4;                 // resident blocks per SM the register budget allows (128 regs)
constexpr int kMaxDim = 256;                  // head_dim and head_dim_v bound
constexpr int kPartStride = kMaxDim + 2;      // acc[0..dv), m at [kMaxDim], l at [kMaxDim + 1]
constexpr int64_t kScratchSlots = 4096;       // (pair, split) partials the scratch holds
constexpr int64_t kTargetWarps = 2048;        // enough warps to fill an H100 (132 SMs x 16)
constexpr int64_t kMinKeysPerSplit = 256;     // as the CPU: below this a split costs more than it balances

// Bytes of one head's slice of a token row (dim % 32 == 0 for Q8_0: whole 34-byte blocks).
__host__ __device__ constexpr size_t head_bytes(uint32_t kv, int dim) {
  return kv == type_f32    ? 4 * static_cast<size_t>(dim)
         : kv == type_q8_0 ? static_cast<size_t>(dim / 32) * 34
                           : 2 * static_cast<size_t>(dim);
}

// Element e of a head's K/V slice, widened to f32 as the CPU widens it (Q8_0: float(q) * d, one
// rounded product; the explicit _rn keeps it from fusing into the dot product's FMA).
template <uint32_t KV>
__device__ __forceinline__ float kv_elem(const uint8_t* __restrict__ head, int e) {
  if constexpr (KV == type_f32) {
    return __ldg(reinterpret_cast<const float*>(head) + e);
  } else if constexpr (KV == type_f16) {
    return half_to_f32(__ldg(reinterpret_cast<const unsigned short*>(head) + e));
  } else if constexpr (KV == type_bf16) {
    return __uint_as_float(static_cast<uint32_t>(__ldg(reinterpret_cast<const unsigned short*>(head) + e)) << 16);
  } else {
    const uint8_t* blk = head + static_cast<size_t>(e / 32) * 34;
    const float d = half_to_f32(__ldg(reinterpret_cast<const unsigned short*>(blk)));
    const float q = static_cast<float>(static_cast<int8_t>(__ldg(blk + 2 + e % 32)));
    return __fmul_rn(q, d);
  }
}

// Warp-collective: the sequence whose rows contain `row` (any order of `seqs`), or -1. Lanes test
// 32 sequences at a time; `row` is warp-uniform, so the result is too.
__device__ int find_sequence(const AttnSequence* __restrict__ seqs, int n_seqs, int64_t row, int lane) {
  for (int base = 0; base < n_seqs; base += 32) {
    const int s = base + lane;
    bool hit = false;
    if (s < n_seqs) {
      const int64_t f = seqs[s].first_row;
      hit = row >= f && row < f + seqs[s].n_rows;
    }
    const unsigned b = __ballot_sync(kFull, hit);
    if (b) return base + __ffs(b) - 1;
  }
  return -1;
}

// One step of the warp reduce-scatter of 32 per-lane values (W = 16, 8, 4, 2, 1 in turn): lane L
// keeps entries [0, W) for keys whose bit W equals L's, adding its partner's copy. A template so
// that every index is a constant and part[] stays in registers.
template <int W>
__device__ __forceinline__ void reduce_scatter_step(float (&part)[32], int lane) {
  const bool upper = (lane & W) != 0;
#pragma unroll
  for (int k = 0; k < W; ++k) {
    const float send = upper ? part[k] : part[k + W];
    const float keep = upper ? part[k + W] : part[k];
    part[k] = keep + __shfl_xor_sync(kFull, send, W);
  }
}

// The CPU's finalize_row factor: acc * e^(m - M) / (l e^(m - M) + e^(sink - M)) with M =
// max(m, sink); without a sink 1 / l, or 0 when no key was visible. A 0 factor writes zeros.
__device__ __forceinline__ float finalize_scale(float m, float l, const float* sink) {
  if (sink) {
    const float s = *sink;
    const float mf = m < s ? s : m;  // std::max(m, sink)
    const float w = m == -INFINITY ? 0.0f : expf(m - mf);
    return w / (l * w + expf(s - mf));
  }
  if (l == 0.0f) return 0.0f;
  return 1.0f / l;
}

// Writes one (row, head)'s output: lane's dims of acc times the finalize factor (zeros for 0).
template <int NT>
__device__ __forceinline__ void store_output(const float (&acc)[NT], float m, float l, const float* sink, int lane,
                                             int dv, float* o) {
  const float scale = finalize_scale(m, l, sink);
#pragma unroll
  for (int i = 0; i < NT; ++i) {
    const int c = lane + 32 * i;
    if (c < dv) o[c] = scale == 0.0f ? 0.0f : acc[i] * scale;
  }
}

// q: [n_rows_total, n_heads, head_dim] · out: [n_rows_total, n_heads, head_dim_v] (split == 1) or
// partials[(pair * n_splits + split) * kPartStride] (n_splits > 1). grid: (ceil(n_pairs /
// kWarps), n_splits), kWarps warps per block, warp = pair = row * n_heads + head. NT = dims per
// lane (32 * NT >= head_dim, head_dim_v).
template <uint32_t KV, int NT>
__global__ void __launch_bounds__(kWarps * 32, kMinBlocks)
paged_attention_kernel(AttnParams p, const float* __restrict__ q, const int32_t* __restrict__ positions,
                       const AttnSequence* __restrict__ seqs, int n_seqs, int64_t n_pairs,
                       const int32_t* __restrict__ block_table, int64_t block_tokens,
                       const uint8_t* __restrict__ k_arena, size_t k_tb, const uint8_t* __restrict__ v_arena,
                       size_t v_tb, float* __restrict__ out, int n_splits,
                       float* __restrict__ partials) {
  const int lane = threadIdx.x & 31;
  const int64_t pair = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  if (pair >= n_pairs) return;  // whole warps leave: every shuffle below is full-warp
  const int64_t row = pair / p.n_heads;
  const int h = static_cast<int>(pair % p.n_heads);
  const int si = find_sequence(seqs, n_seqs, row, lane);
  if (si < 0) return;  // a row of no sequence is left untouched
  const AttnSequence sq = seqs[si];
  const int d = p.head_dim, dv = p.head_dim_v;
  const int kvh = h / (p.n_heads / p.n_kv_heads);

  // Visible keys [lo, hi] (the CPU's per-row bounds), then this split's part [kb, ke).
  const int64_t pos = positions[row];
  int64_t lo = 0, hi = sq.n_keys - 1;
  if (p.window > 0 && pos - p.window + 1 > lo) lo = pos - p.window + 1;
  if (p.causal && pos < hi) hi = pos;
  const int64_t span = hi >= lo ? hi - lo + 1 : 0;
  const int split = static_cast<int>(blockIdx.y);
  const int64_t kb = lo + span * split / n_splits, ke = lo + span * (split + 1) / n_splits;

  float qv[NT], acc[NT];
  const float* qr = q + pair * d;
#pragma unroll
  for (int i = 0; i < NT; ++i) {
    const int e = lane + 32 * i;
    qv[i] = e < d ? __fmul_rn(qr[e], p.scale) : 0.0f;  // the CPU scales q first, then dots
    acc[i] = 0.0f;
  }
  float m = -INFINITY, l = 0.0f;
  const bool capped = p.softcap > 0.0f;
  const float cap = p.softcap, inv_cap = capped ? 1.0f / p.softcap : 0.0f;
  const int32_t* bt = block_table + sq.table_offset;
  const uint8_t* k_base = k_arena + static_cast<size_t>(kvh) * head_bytes(KV, d);
  const uint8_t* v_base = v_arena + static_cast<size_t>(kvh) * head_bytes(KV, dv);

  for (int64_t t0 = kb; t0 < ke; t0 += 32) {
    const int cnt = ke - t0 < 32 ? static_cast<int>(ke - t0) : 32;  // warp-uniform
    const bool valid = lane < cnt;
    long long my_slot = 0;  // cache slot of key t0 + lane
    if (valid) {
      const int64_t t = t0 + lane;
      my_slot = static_cast<long long>(bt[t / block_tokens]) * block_tokens + t % block_tokens;
    }

    // part[j]: this lane's dims of q . k_{t0+j}.
    float part[32];
#pragma unroll
    for (int j = 0; j < 32; ++j) {
      float s = 0.0f;
      if (j < cnt) {
        const long long slot = __shfl_sync(kFull, my_slot, j);
        const uint8_t* kr = k_base + static_cast<size_t>(slot) * k_tb;
#pragma unroll
        for (int i = 0; i < NT; ++i) {
          const int e = lane + 32 * i;
          if (e < d) s = fmaf(qv[i], kv_elem<KV>(kr, e), s);
        }
      }
      part[j] = s;
    }
    // Reduce-scatter: after the step of width w, lane L keeps the w entries whose key has bit w
    // equal to L's, summed with its partner's; after w = 1, part[0] of lane L is key L's score.
    reduce_scatter_step<16>(part, lane);
    reduce_scatter_step<8>(part, lane);
    reduce_scatter_step<4>(part, lane);
    reduce_scatter_step<2>(part, lane);
    reduce_scatter_step<1>(part, lane);
    float s = part[0];
    if (capped) s = cap * tanhf(s * inv_cap);  // the CPU's cap * tanh(s * (1 / cap))

    // Online softmax (the CPU's online_update): fmaxf skips NaN as the CPU's max does; a tile
    // with no finite max adds nothing but still turns l into NaN if a score was NaN.
    float mt = valid ? s : -INFINITY;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) mt = fmaxf(mt, __shfl_xor_sync(kFull, mt, o));
    if (mt == -INFINITY) {
      if (__any_sync(kFull, valid && isnan(s))) l = NAN;
      continue;
    }
    const float m_new = fmaxf(m, mt);
    const float corr = m == -INFINITY ? 0.0f : expf(m - m_new);
    const float pj = valid ? expf(s - m_new) : 0.0f;
    float sum = pj;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(kFull, sum, o);
    l = l * corr + sum;
    m = m_new;
#pragma unroll
    for (int i = 0; i < NT; ++i) acc[i] *= corr;  // acc is 0 while m was -inf; x * 1 is exact

    // P.V in key order (the CPU's order within a tile).
#pragma unroll 4
    for (int j = 0; j < cnt; ++j) {
      const float wj = __shfl_sync(kFull, pj, j);
      const long long slot = __shfl_sync(kFull, my_slot, j);
      const uint8_t* vr = v_base + static_cast<size_t>(slot) * v_tb;
#pragma unroll
      for (int i = 0; i < NT; ++i) {
        const int c = lane + 32 * i;
        if (c < dv) acc[i] = fmaf(wj, kv_elem<KV>(vr, c), acc[i]);
      }
    }
  }

  if (n_splits == 1) {
    store_output(acc, m, l, p.sinks ? p.sinks + h : nullptr, lane, dv, out + pair * dv);
  } else {
    float* part_out = partials + (pair * n_splits + split) * kPartStride;
#pragma unroll
    for (int i = 0; i < NT; ++i) {
      const int c = lane + 32 * i;
      if (c < dv) part_out[c] = acc[i];
    }
    if (lane == 0) {
      part_out[kMaxDim] = m;
      part_out[kMaxDim + 1] = l;
    }
  }
}

// Merges the n_splits partials of every pair as the CPU merges split parts: M = max m_s, l = sum
// l_s e^(m_s - M) (a part with m_s = -inf adds its l_s, 0 or NaN), acc = sum acc_s e^(m_s - M),
// then finalises. One warp per pair, the same grid.x as the main kernel.
template <int NT>
__global__ void __launch_bounds__(kWarps * 32)
attention_merge_kernel(AttnParams p, const AttnSequence* __restrict__ seqs, int n_seqs, int64_t n_pairs,
                       int n_splits, const float* __restrict__ partials, float* __restrict__ out) {
  const int lane = threadIdx.x & 31;
  const int64_t pair = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  if (pair >= n_pairs) return;
  const int64_t row = pair / p.n_heads;
  const int h = static_cast<int>(pair % p.n_heads);
  if (find_sequence(seqs, n_seqs, row, lane) < 0) return;  // the main kernel wrote no partials
  const int dv = p.head_dim_v;
  const float* base = partials + pair * n_splits * kPartStride;
  float mx = -INFINITY;
  for (int s = 0; s < n_splits; ++s) {
    const float ms = base[s * kPartStride + kMaxDim];
    mx = mx < ms ? ms : mx;  // std::max(m, m_s)
  }
  float l = 0.0f, acc[NT];
#pragma unroll
  for (int i = 0; i < NT; ++i) acc[i] = 0.0f;
  for (int s = 0; s < n_splits; ++s) {
    const float* ps = base + s * kPartStride;
    const float ms = ps[kMaxDim], ls = ps[kMaxDim + 1];
    if (ms == -INFINITY) {
      l += ls;
      continue;
    }
    const float w = expf(ms - mx);
    l += ls * w;
#pragma unroll
    for (int i = 0; i < NT; ++i) {
      const int c = lane + 32 * i;
      if (c < dv) acc[i] += ps[c] * w;
    }
  }
  store_output(acc, mx, l, p.sinks ? p.sinks + h : nullptr, lane, dv, out + pair * dv);
}

// Splits per pair: 1 when the pairs alone fill the GPU or the keys are few; else enough to reach
// kTargetWarps, at least kMinKeysPerSplit keys each, within the scratch.
int choose_splits(int64_t n_pairs, int64_t max_keys) {
  if (n_pairs >= kTargetWarps) return 1;
  int64_t s = (kTargetWarps + n_pairs - 1) / n_pairs;
  s = std::min<int64_t>(s, max_keys / kMinKeysPerSplit);
  s = std::min<int64_t>(s, kScratchSlots / n_pairs);
  return static_cast<int>(std::max<int64_t>(s, 1));
}

struct Launch {
  const AttnParams& p;
  const float* q;
  const int32_t* positions;
  const AttnSequence* seqs;
  int n_seqs;
  int64_t n_pairs;
  const int32_t* block_table;
  int64_t block_tokens;
  const uint8_t* k_arena;
  size_t k_tb;
  const uint8_t* v_arena;
  size_t v_tb;
  float* out;
  int n_splits;
  float* partials;
  cudaStream_t stream;
};

template <uint32_t KV, int NT>
cudaError_t launch_nt(const Launch& a) {
  const unsigned blocks = static_cast<unsigned>((a.n_pairs + kWarps - 1) / kWarps);
  paged_attention_kernel<KV, NT><<<dim3(blocks, static_cast<unsigned>(a.n_splits)), kWarps * 32, 0, a.stream>>>(
      a.p, a.q, a.positions, a.seqs, a.n_seqs, a.n_pairs, a.block_table, a.block_tokens, a.k_arena, a.k_tb,
      a.v_arena, a.v_tb, a.out, a.n_splits, a.partials);
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess || a.n_splits == 1) return err;
  attention_merge_kernel<NT><<<blocks, kWarps * 32, 0, a.stream>>>(a.p, a.seqs, a.n_seqs, a.n_pairs, a.n_splits,
                                                                   a.partials, a.out);
  return cudaGetLastError();
}

// NT = dims per lane, rounded up to 1, 2, 4 or 8 (head dims 32, 64, 128, 256; others take the
// next size with the spare lanes idle).
template <uint32_t KV>
cudaError_t launch_kv(const Launch& a) {
  const int dims = std::max(a.p.head_dim, a.p.head_dim_v);
  if (dims <= 32) return launch_nt<KV, 1>(a);
  if (dims <= 64) return launch_nt<KV, 2>(a);
  if (dims <= 128) return launch_nt<KV, 4>(a);
  return launch_nt<KV, 8>(a);
}

}  // namespace

size_t attention_scratch_bytes() { return static_cast<size_t>(kScratchSlots) * kPartStride * sizeof(float); }

cudaError_t launch_paged_attention(const AttnParams& p, uint32_t kv_type, const float* q, const int32_t* positions,
                                   const AttnSequence* sequences, int n_seqs, int64_t n_rows_total, int64_t max_keys,
                                   const int32_t* block_table, int64_t block_tokens, const uint8_t* k_arena,
                                   size_t k_token_bytes, const uint8_t* v_arena, size_t v_token_bytes, float* out,
                                   float* scratch, size_t scratch_bytes, cudaStream_t stream) {
  const bool type_ok = kv_type == type_f32 || kv_type == type_f16 || kv_type == type_bf16 || kv_type == type_q8_0;
  if (!type_ok || n_seqs < 0 || n_rows_total < 0 || max_keys < 0 || block_tokens <= 0) return cudaErrorInvalidValue;
  if (p.n_heads <= 0 || p.n_kv_heads <= 0 || p.n_heads % p.n_kv_heads != 0 || p.window < 0) return cudaErrorInvalidValue;
  if (p.head_dim <= 0 || p.head_dim > kMaxDim || p.head_dim_v <= 0 || p.head_dim_v > kMaxDim) return cudaErrorInvalidValue;
  if (kv_type == type_q8_0 && (p.head_dim % 32 != 0 || p.head_dim_v % 32 != 0)) return cudaErrorInvalidValue;
  if (n_rows_total == 0 || n_seqs == 0) return cudaSuccess;  // no row belongs to a sequence: nothing to write
  if (!q || !positions || !sequences || !block_table || !k_arena || !v_arena || !out) return cudaErrorInvalidValue;
  if (k_token_bytes < head_bytes(kv_type, p.head_dim) * static_cast<size_t>(p.n_kv_heads) ||
      v_token_bytes < head_bytes(kv_type, p.head_dim_v) * static_cast<size_t>(p.n_kv_heads))
    return cudaErrorInvalidValue;
  // Element loads are naturally aligned: 4 B for F32, 2 B (fp16 / bf16 / Q8_0's fp16 scale) else.
  const uintptr_t align = kv_type == type_f32 ? 4 : 2;
  if ((reinterpret_cast<uintptr_t>(k_arena) | reinterpret_cast<uintptr_t>(v_arena) | k_token_bytes | v_token_bytes) %
          align != 0)
    return cudaErrorMisalignedAddress;
  if (n_rows_total > INT64_MAX / p.n_heads) return cudaErrorInvalidValue;
  const int64_t n_pairs = n_rows_total * p.n_heads;
  if ((n_pairs + kWarps - 1) / kWarps > 0x7fffffff) return cudaErrorInvalidValue;  // gridDim.x
  // Without the scratch (or with less than it needs) every pair runs unsplit: still correct.
  const int splits = scratch && scratch_bytes >= attention_scratch_bytes() ? choose_splits(n_pairs, max_keys) : 1;
  const Launch a{p, q, positions, sequences, n_seqs, n_pairs, block_table, block_tokens, k_arena, k_token_bytes,
                 v_arena, v_token_bytes, out, splits, scratch, stream};
  switch (kv_type) {
    case type_f32: return launch_kv<type_f32>(a);
    case type_f16: return launch_kv<type_f16>(a);
    case type_bf16: return launch_kv<type_bf16>(a);
    default: return launch_kv<type_q8_0>(a);
  }
}

}  // namespace ollm_cuda
