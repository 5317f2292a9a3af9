// The table of element types: block geometry as in ggml (and the gguf package's GGML_QUANT_SIZES).
#include <array>

#include "ollm/types.hpp"
#include "util/fail.hpp"

namespace ollm {
namespace {

constexpr uint32_t qk_k = 256;  // super-block size of the K-quants and IQ types

constexpr std::array<DTypeTraits, 38> table{{
    {DType::f32, "F32", 1, 4, true},
    {DType::f16, "F16", 1, 2, true},
    {DType::q4_0, "Q4_0", 32, 2 + 16, true},
    {DType::q4_1, "Q4_1", 32, 2 + 2 + 16, true},
    {DType::q5_0, "Q5_0", 32, 2 + 4 + 16, true},
    {DType::q5_1, "Q5_1", 32, 2 + 2 + 4 + 16, true},
    {DType::q8_0, "Q8_0", 32, 2 + 32, true},
    {DType::q8_1, "Q8_1", 32, 2 + 2 + 32, false},  // ggml: two fp16 (d, s); gguf-py 0.19 still says 40
    {DType::q2_k, "Q2_K", qk_k, 2 + 2 + qk_k / 16 + qk_k / 4, true},
    {DType::q3_k, "Q3_K", qk_k, 2 + qk_k / 4 + qk_k / 8 + 12, true},
    {DType::q4_k, "Q4_K", qk_k, 2 + 2 + qk_k / 2 + 12, true},
    {DType::q5_k, "Q5_K", qk_k, 2 + 2 + qk_k / 2 + qk_k / 8 + 12, true},
    {DType::q6_k, "Q6_K", qk_k, 2 + qk_k / 2 + qk_k / 4 + qk_k / 16, true},
    {DType::q8_k, "Q8_K", qk_k, 4 + qk_k + qk_k / 8, true},
    {DType::iq2_xxs, "IQ2_XXS", qk_k, 2 + qk_k / 4, false},
    {DType::iq2_xs, "IQ2_XS", qk_k, 2 + qk_k / 4 + qk_k / 32, false},
    {DType::iq3_xxs, "IQ3_XXS", qk_k, 2 + qk_k / 4 + qk_k / 8, false},
    {DType::iq1_s, "IQ1_S", qk_k, 2 + qk_k / 8 + qk_k / 16, false},
    {DType::iq4_nl, "IQ4_NL", 32, 2 + 16, true},
    {DType::iq3_s, "IQ3_S", qk_k, 2 + qk_k / 4 + qk_k / 8 + qk_k / 32 + 4, false},
    {DType::iq2_s, "IQ2_S", qk_k, 2 + qk_k / 4 + qk_k / 16, false},
    {DType::iq4_xs, "IQ4_XS", qk_k, 2 + 2 + qk_k / 2 + qk_k / 64, true},
    {DType::i8, "I8", 1, 1, true},
    {DType::i16, "I16", 1, 2, true},
    {DType::i32, "I32", 1, 4, true},
    {DType::i64, "I64", 1, 8, true},
    {DType::f64, "F64", 1, 8, true},
    {DType::iq1_m, "IQ1_M", qk_k, qk_k / 8 + qk_k / 16 + qk_k / 32, false},
    {DType::bf16, "BF16", 1, 2, true},
    {DType::tq1_0, "TQ1_0", qk_k, 2 + 4 * 13, false},
    {DType::tq2_0, "TQ2_0", qk_k, 2 + 64, false},
    {DType::mxfp4, "MXFP4", 32, 1 + 16, false},
    {DType::nvfp4, "NVFP4", 64, 4 + 32, false},
    {DType::q1_0, "Q1_0", 128, 2 + 16, false},
    {DType::u8, "U8", 1, 1, true},
    {DType::boolean, "BOOL", 1, 1, false},
    {DType::f8_e4m3, "F8_E4M3", 1, 1, false},
    {DType::f8_e5m2, "F8_E5M2", 1, 1, false},
}};

}  // namespace

std::optional<DTypeTraits> dtype_traits(DType type) noexcept {
  for (const auto& t : table)
    if (t.type == type) return t;
  return std::nullopt;
}

std::optional<DType> dtype_from_ggml_id(uint32_t id) noexcept {
  if (id >= static_cast<uint32_t>(DType::u8)) return std::nullopt;  // ollm-only ids are not ggml ids
  auto traits = dtype_traits(static_cast<DType>(id));
  if (!traits) return std::nullopt;
  return traits->type;
}

std::string dtype_name(DType type) {
  if (auto t = dtype_traits(type)) return std::string(t->name);
  return fmt::format("unknown({})", static_cast<uint32_t>(type));
}

uint64_t dtype_row_bytes(DType type, int64_t elements) {
  auto t = dtype_traits(type);
  if (!t) fail(ErrorCode::invalid_argument, "[dtype] unknown type id {}", static_cast<uint32_t>(type));
  if (elements < 0 || elements % t->block_elements != 0)
    fail(ErrorCode::invalid_argument, "[dtype] {} elements of {} are not a whole number of {}-element blocks",
         elements, t->name, t->block_elements);
  const uint64_t blocks = static_cast<uint64_t>(elements) / t->block_elements;
  if (blocks > UINT64_MAX / t->block_bytes)
    fail(ErrorCode::invalid_argument, "[dtype] {} elements of {} overflow a 64-bit byte count", elements, t->name);
  return blocks * t->block_bytes;
}

}  // namespace ollm
