// K/V rows into the paged KV cache (see kv_cache.cuh), producing the bytes ollm::cpu::quantize_row
// produces (kernels/cpu/quantize_legacy.cpp, kernels/cpu/quant_blocks.hpp), bit for bit.
#include <cstdint>

#include "cuda/float_convert.cuh"
#include "cuda/kv_cache.cuh"
#include "cuda/quant_decode.cuh"

namespace ollm_cuda {
namespace {

constexpr uint32_t type_f32 = 0, type_f16 = 1, type_bf16 = 30;
constexpr int kThreads = 256;  // a multiple of 32: the Q8_0 path needs whole warps per block
constexpr int64_t kMaxBlocks = 65536;

// numpy's float32 -> uint8 cast on x86 (the CPU's f32_to_u8_like_numpy): truncate to int32 and
// keep the low byte; NaN and out-of-range values give 0. v is already integral here (roundf).
__device__ __forceinline__ uint8_t f32_to_u8_like_numpy(float v) {
  if (!(v > -2147483648.f && v < 2147483648.f)) return 0;
  return static_cast<uint8_t>(static_cast<int32_t>(v));
}

// src: [n_rows, dim] f32 · slots: [n_rows] · arena rows token_bytes apart. One thread per element
// (grid-stride). For Q8_0 (dim % 32 == 0) the 32 consecutive threads of a warp hold exactly one
// block: lane j has element j of it (element indices start at multiples of 32 and the stride is
// a multiple of 32), so the block's amax is a warp reduction and all lanes run the loop the same
// number of times, keeping the shuffles full-warp. A negative slot writes nothing (uniform per
// warp for Q8_0: one warp never spans two rows).
template <uint32_t KV>
__global__ void __launch_bounds__(kThreads)
kv_append_kernel(const float* __restrict__ src, int64_t n_rows, int64_t dim, const int32_t* __restrict__ slots,
                 uint8_t* __restrict__ arena, size_t token_bytes) {
  const int64_t total = n_rows * dim;
  const int lane = threadIdx.x & 31;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * kThreads) {
    const int64_t r = i / dim, c = i % dim;
    const int32_t slot = slots[r];
    if (slot < 0) continue;
    uint8_t* row = arena + static_cast<size_t>(slot) * token_bytes;
    const float x = src[i];
    if constexpr (KV == type_f32) {
      reinterpret_cast<float*>(row)[c] = x;
    } else if constexpr (KV == type_f16) {
      reinterpret_cast<uint16_t*>(row)[c] = f32_to_fp16_bits(x);
    } else if constexpr (KV == type_bf16) {
      reinterpret_cast<uint16_t*>(row)[c] = f32_to_bf16_bits(x);
    } else {
      // quantize_row_q8_0: a block with any non-finite value is d = fp16 NaN (0x7e00), q = 0;
      // else d = amax / 127 (f32), id = d == 0 ? 0 : 1 / d, q = byte(roundf(x * id)), d stored
      // as fp16. fmaxf over finite values is exact, so the reduction order does not matter.
      const bool finite = __all_sync(0xffffffffu, isfinite(x));
      float amax = fabsf(x);
#pragma unroll
      for (int o = 16; o > 0; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
      uint8_t* blk = row + static_cast<size_t>(c / 32) * 34;
      uint8_t q = 0;
      uint16_t dh = 0x7e00u;
      if (finite) {
        const float d = amax / 127.0f;  // IEEE division (no fast-math)
        const float id = d == 0.0f ? 0.0f : 1.0f / d;
        q = f32_to_u8_like_numpy(roundf(x * id));
        dh = f32_to_fp16_bits(d);
      }
      blk[2 + lane] = q;
      if (lane == 0) *reinterpret_cast<uint16_t*>(blk) = dh;
    }
  }
}

template <uint32_t KV>
cudaError_t launch_kv(const float* src, int64_t n_rows, int64_t dim, const int32_t* slots, uint8_t* arena,
                      size_t token_bytes, cudaStream_t stream) {
  const int64_t total = n_rows * dim;
  int64_t blocks = (total + kThreads - 1) / kThreads;
  if (blocks > kMaxBlocks) blocks = kMaxBlocks;
  kv_append_kernel<KV><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(src, n_rows, dim, slots, arena,
                                                                                token_bytes);
  return cudaGetLastError();
}

}  // namespace

bool kv_type_supported(uint32_t ggml_type) {
  return ggml_type == type_f32 || ggml_type == type_f16 || ggml_type == type_bf16 || ggml_type == type_q8_0;
}

cudaError_t launch_kv_append(uint32_t kv_type, const float* src, int64_t n_rows, int64_t dim, const int32_t* slots,
                             uint8_t* arena, size_t token_bytes, cudaStream_t stream) {
  if (!kv_type_supported(kv_type) || n_rows < 0 || dim < 0) return cudaErrorInvalidValue;
  if (kv_type == type_q8_0 && dim % 32 != 0) return cudaErrorInvalidValue;
  if (n_rows == 0 || dim == 0) return cudaSuccess;
  if (!src || !slots || !arena) return cudaErrorInvalidValue;
  if (n_rows > INT64_MAX / dim) return cudaErrorInvalidValue;
  // A row must fit its token slot; element stores are naturally aligned (4 B for F32, 2 B for
  // the fp16 fields of F16/BF16/Q8_0), so the arena and the row pitch must be too.
  const uint64_t row_bytes = kv_type == type_f32   ? static_cast<uint64_t>(dim) * 4
                             : kv_type == type_q8_0 ? static_cast<uint64_t>(dim / 32) * 34
                                                    : static_cast<uint64_t>(dim) * 2;
  if (token_bytes < row_bytes) return cudaErrorInvalidValue;
  const uint64_t align = kv_type == type_f32 ? 4 : 2;
  if ((reinterpret_cast<uintptr_t>(arena) | token_bytes) % align != 0) return cudaErrorMisalignedAddress;
  switch (kv_type) {
    case type_f32: return launch_kv<type_f32>(src, n_rows, dim, slots, arena, token_bytes, stream);
    case type_f16: return launch_kv<type_f16>(src, n_rows, dim, slots, arena, token_bytes, stream);
    case type_bf16: return launch_kv<type_bf16>(src, n_rows, dim, slots, arena, token_bytes, stream);
    default: return launch_kv<type_q8_0>(src, n_rows, dim, slots, arena, token_bytes, stream);
  }
}

}  // namespace ollm_cuda
