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
};

}  // namespace ollm::cpu
