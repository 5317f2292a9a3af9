// Type table: block geometry against ggml's published sizes, and name/id round trips.
#include <doctest/doctest.h>

#include "ollm/error.hpp"
#include "ollm/types.hpp"

using namespace ollm;

TEST_CASE("block sizes match ggml") {
  CHECK(dtype_traits(DType::q4_0)->block_bytes == 18);
  CHECK(dtype_traits(DType::q4_k)->block_bytes == 144);
  CHECK(dtype_traits(DType::q6_k)->block_bytes == 210);
  CHECK(dtype_traits(DType::q2_k)->block_bytes == 84);
  CHECK(dtype_traits(DType::q3_k)->block_bytes == 110);
  CHECK(dtype_traits(DType::q5_k)->block_bytes == 176);
  CHECK(dtype_traits(DType::q8_k)->block_bytes == 292);
  CHECK(dtype_traits(DType::iq4_xs)->block_bytes == 136);
  CHECK(dtype_traits(DType::iq4_nl)->block_bytes == 18);
  CHECK(dtype_traits(DType::bf16)->block_bytes == 2);
  CHECK(dtype_traits(DType::q4_k)->block_elements == 256);
}

TEST_CASE("ggml ids") {
  CHECK(dtype_from_ggml_id(12) == DType::q4_k);
  CHECK_FALSE(dtype_from_ggml_id(4).has_value());   // Q4_2 was removed from ggml
  CHECK_FALSE(dtype_from_ggml_id(77).has_value());
  CHECK_FALSE(dtype_from_ggml_id(1000).has_value()); // ollm-only ids are not ggml ids
  CHECK(dtype_name(DType::iq2_xxs) == "IQ2_XXS");
  CHECK_FALSE(dtype_traits(DType::iq2_xxs)->computable);
  CHECK(dtype_name(static_cast<DType>(77)) == "unknown(77)");
}

TEST_CASE("row bytes") {
  CHECK(dtype_row_bytes(DType::q4_k, 512) == 288);
  CHECK(dtype_row_bytes(DType::f16, 3) == 6);
  CHECK_THROWS_AS(dtype_row_bytes(DType::q4_k, 100), Error);
}
