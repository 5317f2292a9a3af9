// Token embedding lookup: rows of a (possibly quantized) table dequantized to f32 with the
// bit-exact row dequantizers of kernels/cpu/dequantize.hpp.
#include "cpu/dequantize.hpp"
#include "cpu/ops.hpp"
#include "util/fail.hpp"

namespace ollm::cpu {

void embedding_rows(DType type, const void* table, size_t row_stride, int64_t vocab, int64_t n, const int32_t* ids,
                    int64_t n_tok, float* out) {
  const auto fn = dequantize_row_fn(type);
  if (!fn) fail(ErrorCode::unsupported, "[embedding] no dequantizer for table type {}", dtype_name(type));
  const auto traits = dtype_traits(type);
  if (n <= 0 || n % traits->block_elements != 0)
    fail(ErrorCode::invalid_argument, "[embedding] row length {} is not a whole number of {}-element {} blocks", n,
         traits->block_elements, traits->name);
  for (int64_t t = 0; t < n_tok; ++t)
    if (ids[t] < 0 || ids[t] >= vocab)
      fail(ErrorCode::invalid_argument, "[embedding] token id {} (at index {}) is outside the vocabulary [0, {})",
           ids[t], t, vocab);
  const auto* base = static_cast<const uint8_t*>(table);
  for (int64_t t = 0; t < n_tok; ++t) fn(base + static_cast<size_t>(ids[t]) * row_stride, out + t * n, n);
}

}  // namespace ollm::cpu
