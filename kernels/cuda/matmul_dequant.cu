// Dequantization of a tile of weight rows to f16, for the cuBLAS prefill path.
#include <cuda_fp16.h>

#include "cuda/matmul_kernels.cuh"
#include "cuda/quant_decode.cuh"

namespace ollm_cuda {
namespace {

constexpr int kThreads = 256;

// w: [rows, k] of type T · out: [rows, k] f16 dense. One thread per group of 32 (grid-stride):
// decode_group + group_value give the CPU dequantizer's exact f32, rounded once to f16; the 64
// output bytes leave as four 16-byte stores, consecutive threads writing consecutive groups.
template <uint32_t T>
__global__ void __launch_bounds__(kThreads)
dequantize_f16_kernel(const uint8_t* __restrict__ w, int64_t rows, int64_t groups, size_t row_stride,
                      __half* __restrict__ out) {
  const int64_t total = rows * groups;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * kThreads) {
    const int64_t r = i / groups, g = i % groups;
    Group32 grp;
    decode_group<T>(w + r * row_stride, g, grp);
    uint4* dst = reinterpret_cast<uint4*>(out + i * 32);
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      uint32_t packed[4];
#pragma unroll
      for (int p = 0; p < 4; ++p) {
        const int j = c * 8 + p * 2;
        const __half2 h = __floats2half2_rn(group_value<QuantTraits<T>::has_min>(grp, j),
                                            group_value<QuantTraits<T>::has_min>(grp, j + 1));
        packed[p] = *reinterpret_cast<const uint32_t*>(&h);
      }
      dst[c] = make_uint4(packed[0], packed[1], packed[2], packed[3]);
    }
  }
}

template <uint32_t T>
cudaError_t launch_type(const uint8_t* w, int64_t rows, int64_t k, size_t row_stride, uint16_t* out,
                        cudaStream_t stream) {
  const int64_t total = rows * (k / 32);
  if (total == 0) return cudaSuccess;
  int64_t blocks = (total + kThreads - 1) / kThreads;
  if (blocks > 65536) blocks = 65536;
  dequantize_f16_kernel<T><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
      w, rows, k / 32, row_stride, reinterpret_cast<__half*>(out));
  return cudaGetLastError();
}

}  // namespace

cudaError_t launch_dequantize_f16(uint32_t ggml_type, const uint8_t* w, int64_t rows, int64_t k, size_t row_stride,
                                  uint16_t* out, cudaStream_t stream) {
  switch (ggml_type) {
    case type_q4_0: return launch_type<type_q4_0>(w, rows, k, row_stride, out, stream);
    case type_q4_1: return launch_type<type_q4_1>(w, rows, k, row_stride, out, stream);
    case type_q5_0: return launch_type<type_q5_0>(w, rows, k, row_stride, out, stream);
    case type_q5_1: return launch_type<type_q5_1>(w, rows, k, row_stride, out, stream);
    case type_q8_0: return launch_type<type_q8_0>(w, rows, k, row_stride, out, stream);
    case type_q2_k: return launch_type<type_q2_k>(w, rows, k, row_stride, out, stream);
    case type_q3_k: return launch_type<type_q3_k>(w, rows, k, row_stride, out, stream);
    case type_q4_k: return launch_type<type_q4_k>(w, rows, k, row_stride, out, stream);
    case type_q5_k: return launch_type<type_q5_k>(w, rows, k, row_stride, out, stream);
    case type_q6_k: return launch_type<type_q6_k>(w, rows, k, row_stride, out, stream);
    case type_iq4_nl: return launch_type<type_iq4_nl>(w, rows, k, row_stride, out, stream);
    case type_iq4_xs: return launch_type<type_iq4_xs>(w, rows, k, row_stride, out, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace ollm_cuda
