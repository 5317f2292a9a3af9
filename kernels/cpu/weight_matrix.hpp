// A weight matrix as the CPU matmul kernels see it: a view of n rows of k elements of one
// GGUF type, rows as stored in the (mapped) file, at any byte alignment. Shared by the decode
// path (matmul.hpp) and the prefill GEMM (gemm.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "ollm/types.hpp"

namespace ollm::cpu {

struct WeightMatrix {
  DType type;
  const void* data;
  int64_t n_rows /*n*/;
  int64_t n_cols /*k*/;
  size_t row_stride;
  // The legacy formats' 8-bit activation blocks keep their scale as fp16, as llama.cpp's
  // block_q8_0 does (Numerics::llamacpp); false keeps it in f32. A property of the call, not of
  // the weights: a runner sets it on its own copy of this small descriptor.
  bool f16_act_scales = false;
  // Numerics::exact: quantized weights meet the f32 activations in f32 arithmetic (decode:
  // matmul_exact.cpp; prefill: weight chunks dequantized to f32, then the f32 GEMM) instead of
  // 8-bit activation blocks. Also a property of the call.
  bool exact_f32 = false;
};

}  // namespace ollm::cpu
