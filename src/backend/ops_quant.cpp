// The public quantize/dequantize entry points: validate sizes and types here, once, then hand
// whole rows to the scalar CPU kernels (which assume valid input).
#include "cpu/dequantize.hpp"
#include "cpu/quantize.hpp"
#include "ollm/ops.hpp"
#include "util/fail.hpp"

namespace ollm {
namespace {

DTypeTraits traits_or_fail(DType type, const char* what) {
  auto t = dtype_traits(type);
  if (!t) fail(ErrorCode::invalid_argument, "[ops] {}: unknown type id {}", what, static_cast<uint32_t>(type));
  return *t;
}

}  // namespace

void dequantize(DType type, std::span<const uint8_t> blocks, std::span<float> out) {
  const DTypeTraits t = traits_or_fail(type, "dequantize");
  auto fn = cpu::dequantize_row_fn(type);
  if (!fn) fail(ErrorCode::unsupported, "[ops] dequantize: no dequantizer for type {}", t.name);
  if (blocks.size() % t.block_bytes != 0)
    fail(ErrorCode::invalid_argument, "[ops] dequantize: {} bytes are not a whole number of {}-byte {} blocks",
         blocks.size(), t.block_bytes, t.name);
  const uint64_t elements = static_cast<uint64_t>(blocks.size() / t.block_bytes) * t.block_elements;
  if (elements != out.size())
    fail(ErrorCode::invalid_argument, "[ops] dequantize: {} bytes of {} hold {} elements but the output has {}",
         blocks.size(), t.name, elements, out.size());
  if (elements != 0) fn(blocks.data(), out.data(), static_cast<int64_t>(elements));
}

std::vector<uint8_t> quantize(DType type, std::span<const float> values) {
  const DTypeTraits t = traits_or_fail(type, "quantize");
  auto fn = cpu::quantize_row_fn(type);
  if (!fn) fail(ErrorCode::unsupported, "[ops] quantize: no quantizer for type {}", t.name);
  if (values.size() % t.block_elements != 0)
    fail(ErrorCode::invalid_argument, "[ops] quantize: {} values are not a whole number of {}-element {} blocks",
         values.size(), t.block_elements, t.name);
  std::vector<uint8_t> out(values.size() / t.block_elements * t.block_bytes);
  if (!values.empty()) fn(values.data(), out.data(), static_cast<int64_t>(values.size()));
  return out;
}

}  // namespace ollm
