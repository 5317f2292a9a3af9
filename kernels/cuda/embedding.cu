// Embedding gather (see embedding.cuh): table rows decoded to f32 exactly as
// ollm::cpu::dequantize_row decodes them.
#include <cstdint>

#include "cuda/embedding.cuh"
#include "cuda/quant_decode.cuh"

namespace ollm_cuda {
namespace {

constexpr uint32_t type_f32 = 0, type_f16 = 1, type_bf16 = 30;
constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65536;

// Element j of a decoded group with the CPU's rounding: one product, then one sum for the
// formats with an offset. The explicit _rn intrinsics keep nvcc from contracting d*q + m into an
// FMA (its default), which would round once instead of twice and differ from the CPU in the
// last bit. (quant_decode.cuh's group_value is written as plain a*b + c and is not safe here.)
template <bool HasMin>
__device__ __forceinline__ float exact_value(const Group32& g, int j) {
  const float p = __fmul_rn(g.d[j / 16], static_cast<float>(group_code(g, j)));
  if constexpr (HasMin) return __fadd_rn(p, g.m[j / 16]);
  else return p;
}

// table: [vocab, n] of block type T, rows row_stride bytes apart · ids: [n_tok] · out: [n_tok, n]
// f32. One thread per 32-element group (grid-stride over n_tok * n / 32): decode_group, then 32
// values, stored as eight 16-byte stores when out is 16-byte aligned (n % 32 == 0 keeps every
// group's output aligned then), else one by one.
template <uint32_t T>
__global__ void __launch_bounds__(kThreads)
embedding_block_kernel(const uint8_t* __restrict__ table, size_t row_stride, int64_t groups,
                       const int32_t* __restrict__ ids, int64_t n_tok, float* __restrict__ out, bool vec_out) {
  constexpr bool has_min = QuantTraits<T>::has_min;
  const int64_t total = n_tok * groups;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * kThreads) {
    const int64_t t = i / groups, g = i % groups;
    Group32 grp;
    decode_group<T>(table + static_cast<size_t>(ids[t]) * row_stride, g, grp);
    float* o = out + i * 32;  // == out + t * n + g * 32
    if (vec_out) {
      float4* o4 = reinterpret_cast<float4*>(o);
#pragma unroll
      for (int c = 0; c < 8; ++c)
        o4[c] = make_float4(exact_value<has_min>(grp, 4 * c), exact_value<has_min>(grp, 4 * c + 1),
                            exact_value<has_min>(grp, 4 * c + 2), exact_value<has_min>(grp, 4 * c + 3));
    } else {
#pragma unroll
      for (int j = 0; j < 32; ++j) o[j] = exact_value<has_min>(grp, j);
    }
  }
}

// The float formats: one thread per element (grid-stride over n_tok * n), exact conversions
// (F32 copied bit for bit, F16 by half_to_f32, BF16 as its bits << 16).
template <uint32_t T>
__global__ void __launch_bounds__(kThreads)
embedding_float_kernel(const uint8_t* __restrict__ table, size_t row_stride, int64_t n,
                       const int32_t* __restrict__ ids, int64_t n_tok, float* __restrict__ out) {
  const int64_t total = n_tok * n;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * kThreads) {
    const int64_t t = i / n, c = i % n;
    const uint8_t* row = table + static_cast<size_t>(ids[t]) * row_stride;
    if constexpr (T == type_f32) {
      out[i] = reinterpret_cast<const float*>(row)[c];
    } else {
      const uint32_t h = reinterpret_cast<const uint16_t*>(row)[c];
      out[i] = T == type_f16 ? half_to_f32(h) : __uint_as_float(h << 16);
    }
  }
}

unsigned grid_for(int64_t items) {
  int64_t blocks = (items + kThreads - 1) / kThreads;
  if (blocks > kMaxBlocks) blocks = kMaxBlocks;
  return static_cast<unsigned>(blocks);
}

template <uint32_t T>
cudaError_t launch_block(const void* table, size_t row_stride, int64_t n, const int32_t* ids, int64_t n_tok,
                         float* out, cudaStream_t stream) {
  if (n % QuantTraits<T>::elems != 0) return cudaErrorInvalidValue;
  // decode_group's 32-bit loads need 4-byte aligned blocks for the formats whose size allows it.
  if ((reinterpret_cast<uintptr_t>(table) | row_stride) % QuantTraits<T>::align != 0) return cudaErrorMisalignedAddress;
  const int64_t groups = n / 32;
  const bool vec_out = reinterpret_cast<uintptr_t>(out) % 16 == 0;
  embedding_block_kernel<T><<<grid_for(n_tok * groups), kThreads, 0, stream>>>(
      static_cast<const uint8_t*>(table), row_stride, groups, ids, n_tok, out, vec_out);
  return cudaGetLastError();
}

template <uint32_t T>
cudaError_t launch_float(const void* table, size_t row_stride, int64_t n, const int32_t* ids, int64_t n_tok,
                         float* out, cudaStream_t stream) {
  const uintptr_t align = T == type_f32 ? 4 : 2;
  if ((reinterpret_cast<uintptr_t>(table) | row_stride) % align != 0) return cudaErrorMisalignedAddress;
  embedding_float_kernel<T><<<grid_for(n_tok * n), kThreads, 0, stream>>>(static_cast<const uint8_t*>(table),
                                                                           row_stride, n, ids, n_tok, out);
  return cudaGetLastError();
}

}  // namespace

bool embedding_supports(uint32_t ggml_type) {
  switch (ggml_type) {
    case type_f32: case type_f16: case type_bf16:
    case type_q4_0: case type_q4_1: case type_q5_0: case type_q5_1: case type_q8_0:
    case type_q2_k: case type_q3_k: case type_q4_k: case type_q5_k: case type_q6_k:
    case type_iq4_nl: case type_iq4_xs:
      return true;
    default:
      return false;
  }
}

cudaError_t launch_embedding(uint32_t ggml_type, const void* table, size_t row_stride, int64_t n, const int32_t* ids,
                             int64_t n_tok, float* out, cudaStream_t stream) {
  if (!embedding_supports(ggml_type) || n < 0 || n_tok < 0) return cudaErrorInvalidValue;
  if (n == 0 || n_tok == 0) return cudaSuccess;
  if (!table || !ids || !out) return cudaErrorInvalidValue;
  if (n_tok > INT64_MAX / n) return cudaErrorInvalidValue;
  switch (ggml_type) {
    case type_f32: return launch_float<type_f32>(table, row_stride, n, ids, n_tok, out, stream);
    case type_f16: return launch_float<type_f16>(table, row_stride, n, ids, n_tok, out, stream);
    case type_bf16: return launch_float<type_bf16>(table, row_stride, n, ids, n_tok, out, stream);
    case type_q4_0: return launch_block<type_q4_0>(table, row_stride, n, ids, n_tok, out, stream);
    case type_q4_1: return launch_block<type_q4_1>(table, row_stride, n, ids, n_tok, out, stream);
    case type_q5_0: return launch_block<type_q5_0>(table, row_stride, n, ids, n_tok, out, stream);
    case type_q5_1: return launch_block<type_q5_1>(table, row_stride, n, ids, n_tok, out, stream);
    case type_q8_0: return launch_block<type_q8_0>(table, row_stride, n, ids, n_tok, out, stream);
    case type_q2_k: return launch_block<type_q2_k>(table, row_stride, n, ids, n_tok, out, stream);
    case type_q3_k: return launch_block<type_q3_k>(table, row_stride, n, ids, n_tok, out, stream);
    case type_q4_k: return launch_block<type_q4_k>(table, row_stride, n, ids, n_tok, out, stream);
    case type_q5_k: return launch_block<type_q5_k>(table, row_stride, n, ids, n_tok, out, stream);
    case type_q6_k: return launch_block<type_q6_k>(table, row_stride, n, ids, n_tok, out, stream);
    case type_iq4_nl: return launch_block<type_iq4_nl>(table, row_stride, n, ids, n_tok, out, stream);
    default: return launch_block<type_iq4_xs>(table, row_stride, n, ids, n_tok, out, stream);
  }
}

}  // namespace ollm_cuda
