// Routes a DType to its scalar row dequantizer.
#include "cpu/dequantize.hpp"

namespace ollm::cpu {

DequantizeRowFn dequantize_row_fn(DType type) noexcept {
  switch (type) {
    case DType::f32: return dequantize_row_f32;
    case DType::f16: return dequantize_row_f16;
    case DType::bf16: return dequantize_row_bf16;
    case DType::q4_0: return dequantize_row_q4_0;
    case DType::q4_1: return dequantize_row_q4_1;
    case DType::q5_0: return dequantize_row_q5_0;
    case DType::q5_1: return dequantize_row_q5_1;
    case DType::q8_0: return dequantize_row_q8_0;
    case DType::q2_k: return dequantize_row_q2_k;
    case DType::q3_k: return dequantize_row_q3_k;
    case DType::q4_k: return dequantize_row_q4_k;
    case DType::q5_k: return dequantize_row_q5_k;
    case DType::q6_k: return dequantize_row_q6_k;
    case DType::q8_k: return dequantize_row_q8_k;
    case DType::iq4_nl: return dequantize_row_iq4_nl;
    case DType::iq4_xs: return dequantize_row_iq4_xs;
    default: return nullptr;
  }
}

void dequantize_row(DType type, const void* blocks, float* out, int64_t n) {
  if (auto fn = dequantize_row_fn(type)) fn(blocks, out, n);
}

}  // namespace ollm::cpu
