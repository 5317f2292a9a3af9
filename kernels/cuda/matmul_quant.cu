// Quantized matmul on the GPU (the contract in matmul_quant.cuh).
//
// Design
// - Block decoding lives in quant_decode.cuh as __host__ __device__ functions: a group of 32
//   weights becomes 32 int8 codes (packed 4 per int32) plus a scale and an offset per 16, and
//   value = d * code (+ offset) rounds exactly as kernels/cpu/dequantize_*.cpp. The same code runs
//   on the host in tests/unit/test_cuda_quant_host.cpp, which proves it bit-exact against the CPU
//   dequantizers for all 12 formats without a GPU.
// - Decode (m <= 16): the m activation rows are quantized once per call into scratch, ggml Q8_1
//   style (int8 codes, one f32 scale per 32, and the integer sums of each half of 16 for formats
//   with an offset: the offset term is then offset * scale * sum, with no per-weight work). One
//   warp per output row, 4 rows per 128-thread block; lanes take consecutive 32-element groups so
//   a warp reads a contiguous stretch of its row and every weight byte is read from DRAM once per
//   call, for all m rows together (the kernel is templated on m rounded up to 1/2/4/8/16).
//   Inner products are 8 __dp4a per group and row, f32 accumulation, a shuffle reduction.
// - Prefill (m > 16): dequantize a tile of weight rows to f16 in scratch and run cublasGemmEx
//   (f16 x f16, f32 compute and output, tensor cores), tile after tile along n. Chosen over an
//   MMA kernel of our own because it is simple and correct first and cuBLAS is near peak on
//   these shapes; the dequantization pass costs one extra write + read of an f16 tile (2 bytes
//   per weight) against O(m) FLOPs per weight, small for m >= 64. The activations are converted
//   to f16 with a power-of-two scale per row (largest magnitude below 2^14), so f16 cannot
//   overflow on large activations; y is multiplied back by the same power of two (exact).
//   Dequantized weights are rounded to f16 once (relative error at most 2^-11 per weight, none
//   where the f32 value fits f16's 11-bit significand); a dequantized weight beyond 65504 becomes
//   inf (visible in y, never silent). The activations' f16 rounding adds at most 2^-11 relative.
// - cuBLAS needs a handle: one per host thread and device, created on first use and kept for the
//   thread's life (destroying handles at process exit races the CUDA runtime's own teardown).
//
// What a GPU run must verify (nothing here has run on a GPU yet)
// - test_backend on OLLM_TEST_DEVICE=cuda: every format at m = 1, 3, 16 (decode) and 20+ (prefill)
//   against the float64 reference within the per-type tolerance; compute-sanitizer memcheck clean
//   (the int4 activation loads assume 16-byte-aligned scratch, which decode_matmul arranges).
// - Decode bandwidth: bytes of w per call / time against the device-to-device copy bandwidth;
//   the m = 16 instances use ~150-166 registers (ptxas, sm_90; Q4_K/Q5_K at m = 4 spill 8 bytes),
//   so occupancy is ~3 blocks per SM there; lanes idle when k/32 < 32 (k < 1024) and for K-quants the 8 lanes of a super-block each load
//   the shared scale bytes: if the fraction is low, try 2-4 rows per warp for small k, or wider
//   (16-byte) loads of whole super-blocks staged through shared memory.
// - Prefill: dequant + GemmEx time against cublasGemmEx alone on pre-converted f16 weights.
#include <cublas_v2.h>

#include <climits>

#include "cuda/matmul_kernels.cuh"
#include "cuda/matmul_quant.cuh"
#include "cuda/quant_decode.cuh"
#include "cuda/quantize_act.cuh"

namespace ollm_cuda {
namespace {

constexpr int64_t kMaxDecodeRows = 16;
constexpr size_t kAlign = 256;
constexpr size_t kPrefillTileBytes = size_t{64} << 20;  // f16 weight tile budget

size_t align_up(size_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

using Format = BlockFormat;
Format format_of(uint32_t t) { return block_format(t); }

// Weight rows per prefill tile for a row length k: as many as fit kPrefillTileBytes in f16,
// a multiple of 128 between 128 and 4096 (a function of k alone: the scratch size may not depend on n).
int64_t prefill_tile_rows(int64_t k) {
  int64_t rows = static_cast<int64_t>(kPrefillTileBytes / (2 * static_cast<size_t>(k)));
  rows = rows / 128 * 128;
  if (rows < 128) rows = 128;
  if (rows > 4096) rows = 4096;
  return rows;
}

cudaError_t from_cublas(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS: return cudaSuccess;
    case CUBLAS_STATUS_ALLOC_FAILED: return cudaErrorMemoryAllocation;
    case CUBLAS_STATUS_NOT_INITIALIZED: return cudaErrorInitializationError;
    case CUBLAS_STATUS_INVALID_VALUE: return cudaErrorInvalidValue;
    case CUBLAS_STATUS_ARCH_MISMATCH: return cudaErrorNoKernelImageForDevice;
    case CUBLAS_STATUS_NOT_SUPPORTED: return cudaErrorNotSupported;
    case CUBLAS_STATUS_EXECUTION_FAILED: {
      const cudaError_t e = cudaGetLastError();
      return e != cudaSuccess ? e : cudaErrorLaunchFailure;
    }
    default: return cudaErrorUnknown;
  }
}

// The calling thread's cuBLAS handle for the current device (created once, kept: see the top).
cudaError_t thread_cublas(cublasHandle_t* out) {
  constexpr int kMaxDevices = 64;
  thread_local cublasHandle_t handles[kMaxDevices] = {};
  int dev = 0;
  if (const cudaError_t e = cudaGetDevice(&dev); e != cudaSuccess) return e;
  if (dev < 0 || dev >= kMaxDevices) return cudaErrorInvalidDevice;
  if (!handles[dev]) {
    cublasHandle_t h = nullptr;
    if (const cudaError_t e = from_cublas(cublasCreate(&h)); e != cudaSuccess) return e;
    handles[dev] = h;
  }
  *out = handles[dev];
  return cudaSuccess;
}

// Scratch layout of the decode path: xq [m, k] bytes | xd [m, k/32] f32 | xs [m, k/32] i32.
struct DecodeScratch {
  size_t xq = 0, xd = 0, xs = 0, total = 0;
};
DecodeScratch decode_layout(int64_t m, int64_t k) {
  DecodeScratch s;
  const size_t groups = static_cast<size_t>(m) * static_cast<size_t>(k / 32);
  s.xq = 0;
  s.xd = align_up(static_cast<size_t>(m) * static_cast<size_t>(k));
  s.xs = s.xd + align_up(groups * 4);
  s.total = s.xs + align_up(groups * 4);
  return s;
}

// Scratch layout of the prefill path: x16 [m, k] f16 | scale [m] f32 | tile [T, k] f16.
struct PrefillScratch {
  size_t x16 = 0, scale = 0, tile = 0, total = 0;
  int64_t tile_rows = 0;
};
PrefillScratch prefill_layout(int64_t m, int64_t k) {
  PrefillScratch s;
  s.tile_rows = prefill_tile_rows(k);
  s.scale = align_up(static_cast<size_t>(m) * static_cast<size_t>(k) * 2);
  s.tile = s.scale + align_up(static_cast<size_t>(m) * 4);
  s.total = s.tile + align_up(static_cast<size_t>(s.tile_rows) * static_cast<size_t>(k) * 2);
  return s;
}

// x: [m, k] f32 -> int8 groups in scratch, then the dp4a kernel.
cudaError_t run_decode(uint32_t type, const uint8_t* w, int64_t n, int64_t k, size_t row_stride, const float* x,
                       int64_t m, float* y, uint8_t* base, cudaStream_t stream) {
  const DecodeScratch s = decode_layout(m, k);
  auto* xq = reinterpret_cast<int32_t*>(base + s.xq);
  auto* xd = reinterpret_cast<float*>(base + s.xd);
  auto* xs = reinterpret_cast<int32_t*>(base + s.xs);
  if (const cudaError_t e = launch_quantize_act(x, m, k, xq, xd, xs, stream); e != cudaSuccess) return e;
  return launch_decode_matmul(type, w, n, k, row_stride, ActQ8{xq, xd, xs}, static_cast<int>(m), y, stream);
}

// y[:, n0:n0+T] = x16 · tile(n0)ᵀ with cublasGemmEx, tile after tile, then y rows times the
// activation scales. Column-major view (cuBLAS): the row-major tile [T, k] is a k x T matrix,
// x16 [m, k] is k x m, y [m, n] is n x m with ld n, so C(T x m) = tileᵀ · x16 at y + n0.
cudaError_t run_prefill(uint32_t type, const uint8_t* w, int64_t n, int64_t k, size_t row_stride, const float* x,
                        int64_t m, float* y, uint8_t* base, cudaStream_t stream) {
  if (n > INT_MAX || k > INT_MAX || m > INT_MAX) return cudaErrorInvalidValue;
  const PrefillScratch s = prefill_layout(m, k);
  auto* x16 = reinterpret_cast<uint16_t*>(base + s.x16);
  auto* scale = reinterpret_cast<float*>(base + s.scale);
  auto* tile = reinterpret_cast<uint16_t*>(base + s.tile);
  cublasHandle_t h = nullptr;
  if (const cudaError_t e = thread_cublas(&h); e != cudaSuccess) return e;
  if (const cudaError_t e = from_cublas(cublasSetStream(h, stream)); e != cudaSuccess) return e;
  if (const cudaError_t e = launch_act_to_f16_scaled(x, m, k, x16, scale, stream); e != cudaSuccess) return e;
  const float alpha = 1.0f, beta = 0.0f;
  for (int64_t n0 = 0; n0 < n; n0 += s.tile_rows) {
    const int64_t rows = n - n0 < s.tile_rows ? n - n0 : s.tile_rows;
    if (const cudaError_t e = launch_dequantize_f16(type, w + static_cast<size_t>(n0) * row_stride, rows, k,
                                                    row_stride, tile, stream);
        e != cudaSuccess)
      return e;
    const cublasStatus_t st = cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(rows), static_cast<int>(m),
                                           static_cast<int>(k), &alpha, tile, CUDA_R_16F, static_cast<int>(k), x16,
                                           CUDA_R_16F, static_cast<int>(k), &beta, y + n0, CUDA_R_32F,
                                           static_cast<int>(n), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    if (const cudaError_t e = from_cublas(st); e != cudaSuccess) return e;
  }
  return launch_scale_rows(y, m, n, scale, stream);
}

}  // namespace

bool decode_matmul_supports(uint32_t ggml_type) { return format_of(ggml_type).bytes != 0; }

size_t decode_matmul_scratch_bytes(int64_t m, int64_t k) {
  if (m <= 0 || k <= 0) return 0;
  const size_t body = m <= kMaxDecodeRows ? decode_layout(m, k).total : prefill_layout(m, k).total;
  return body + kAlign;  // room to align an arbitrary scratch pointer up to kAlign
}

// Validates everything the kernels assume (type, shapes, whole blocks, row stride, alignment,
// scratch) and dispatches on m.
cudaError_t decode_matmul(uint32_t ggml_type, const void* w, int64_t n, int64_t k, size_t row_stride,
                          const float* x, int64_t m, float* y, void* scratch, size_t scratch_bytes,
                          cudaStream_t stream) {
  const Format f = format_of(ggml_type);
  if (f.bytes == 0 || n < 0 || m < 0 || k <= 0 || k % f.elems != 0) return cudaErrorInvalidValue;
  if (n == 0 || m == 0) return cudaSuccess;
  if (!w || !x || !y || !scratch) return cudaErrorInvalidValue;
  if (row_stride < static_cast<size_t>(k / f.elems) * static_cast<size_t>(f.bytes)) return cudaErrorInvalidValue;
  if ((reinterpret_cast<uintptr_t>(w) | row_stride) % static_cast<unsigned>(f.align) != 0)
    return cudaErrorMisalignedAddress;
  const size_t need = decode_matmul_scratch_bytes(m, k);
  if (scratch_bytes < need) return cudaErrorInvalidValue;
  const uintptr_t raw = reinterpret_cast<uintptr_t>(scratch);
  auto* base = reinterpret_cast<uint8_t*>((raw + kAlign - 1) / kAlign * kAlign);
  const auto* wb = static_cast<const uint8_t*>(w);
  if (m <= kMaxDecodeRows) return run_decode(ggml_type, wb, n, k, row_stride, x, m, y, base, stream);
  return run_prefill(ggml_type, wb, n, k, row_stride, x, m, y, base, stream);
}

}  // namespace ollm_cuda
