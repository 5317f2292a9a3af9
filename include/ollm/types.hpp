// Element types of tensors: the ggml/GGUF type ids (same numbers as the GGUF file format),
// plus the few safetensors dtypes that GGUF has no id for.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ollm/export.h"

namespace ollm {

enum class DType : uint32_t {
  // ggml type ids, as stored in GGUF tensor infos.
  f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9,
  q2_k = 10, q3_k = 11, q4_k = 12, q5_k = 13, q6_k = 14, q8_k = 15,
  iq2_xxs = 16, iq2_xs = 17, iq3_xxs = 18, iq1_s = 19, iq4_nl = 20, iq3_s = 21, iq2_s = 22, iq4_xs = 23,
  i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_m = 29, bf16 = 30,
  tq1_0 = 34, tq2_0 = 35, mxfp4 = 39, nvfp4 = 40, q1_0 = 41,
  // Not in ggml: safetensors-only dtypes (ids chosen outside ggml's range).
  u8 = 1000, boolean = 1001, f8_e4m3 = 1002, f8_e5m2 = 1003,
};

struct DTypeTraits {
  DType type;
  std::string_view name;     // "Q4_K", "F16", ... as ggml and the gguf package spell it
  uint32_t block_elements;   // elements per block (1 for plain types)
  uint32_t block_bytes;      // bytes per block
  bool computable;           // ollm has (or will have) kernels for it; false: recognised, reported unsupported
};

// Traits of a known type; nullopt for an id that no ggml version defines.
OLLM_API std::optional<DTypeTraits> dtype_traits(DType type) noexcept;
OLLM_API std::optional<DType> dtype_from_ggml_id(uint32_t id) noexcept;
// "Q4_K", or "unknown(77)".
OLLM_API std::string dtype_name(DType type);

// Bytes of a row of `elements` values; throws invalid_argument if elements is not a
// whole number of blocks or the byte count would overflow.
OLLM_API uint64_t dtype_row_bytes(DType type, int64_t elements);

}  // namespace ollm
