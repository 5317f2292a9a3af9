// Token embedding lookup: rows of a (possibly quantized) table dequantized to f32 with the
// bit-exact row dequantizers of kernels/cpu/dequantize.hpp.
#include <cassert>

#include "cpu/dequantize.hpp"
#include "cpu/ops.hpp"

namespace ollm::cpu {

void embedding_rows(DType type, const void* table, size_t row_stride, int64_t vocab, int64_t n, const int32_t* ids,
                    int64_t n_tok, float* out) {
  // Preconditions (callers validate: backend::validate_embedding_table, validate_token_ids).
  const auto fn = dequantize_row_fn(type);
  assert(fn != nullptr && n > 0 && n % dtype_traits(type)->block_elements == 0);
#if !defined(NDEBUG)
  for (int64_t t = 0; t < n_tok; ++t) assert(ids[t] >= 0 && ids[t] < vocab);
#else
  (void)vocab;
#endif
  const auto* base = static_cast<const uint8_t*>(table);
  for (int64_t t = 0; t < n_tok; ++t) fn(base + static_cast<size_t>(ids[t]) * row_stride, out + t * n, n);
}

}  // namespace ollm::cpu
