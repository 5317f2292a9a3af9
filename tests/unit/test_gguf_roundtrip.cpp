// Writer → reader round trips over every value type, nested arrays and tensor types.
#include <doctest/doctest.h>

#include <cstring>

#include "ollm/error.hpp"
#include "ollm/gguf.hpp"

using namespace ollm;

TEST_CASE("every metadata type survives a round trip") {
  GgufWriter w;
  w.set("general.architecture", "llama");
  w.set("u8", uint8_t{200});
  w.set("i8", int8_t{-100});
  w.set("u16", uint16_t{60000});
  w.set("i16", int16_t{-30000});
  w.set("u32", uint32_t{4000000000u});
  w.set("i32", int32_t{-2000000000});
  w.set("f32", 1.5f);
  w.set("bool", true);
  w.set("str", "héllo");
  w.set("u64", uint64_t{18000000000000000000ull});
  w.set("i64", int64_t{-9000000000000000000ll});
  w.set("f64", 2.25);
  w.set("arr_str", GgufArray{std::vector<std::string>{"a", "", "ccc"}});
  w.set("arr_f32", GgufArray{std::vector<float>{1.f, -2.f}});
  w.set("arr_nested", GgufArray{std::vector<GgufArray>{GgufArray{std::vector<int32_t>{1, 2}},
                                                       GgufArray{std::vector<int32_t>{3}}}});
  std::vector<uint8_t> q4k(144 * 2, 0x5a);
  w.add_tensor("blk.0.w", DType::q4_k, {256, 2}, q4k);
  std::vector<uint8_t> f32(4 * 3);
  w.add_tensor("v", DType::f32, {3}, f32);

  const auto bytes = w.to_bytes();
  const auto file = GgufFile::parse(bytes);
  CHECK(file.version() == 3);
  const auto& md = file.metadata();
  REQUIRE(md.entries().size() == 16);
  CHECK(md.at("u8") == GgufValue(uint8_t{200}));
  CHECK(md.at("i64").to_int64("i64") == -9000000000000000000ll);
  CHECK(md.at("u64").to_uint64("u64") == 18000000000000000000ull);
  CHECK(md.at("str").to_string("str") == "héllo");
  CHECK(md.at("bool").to_bool("bool"));
  CHECK(md.at("f32").to_double("f32") == 1.5);
  CHECK(md.at("arr_nested") == GgufValue(GgufArray{std::vector<GgufArray>{GgufArray{std::vector<int32_t>{1, 2}},
                                                                          GgufArray{std::vector<int32_t>{3}}}}));
  CHECK(md.entries()[0].first == "general.architecture");
  REQUIRE(file.tensors().size() == 2);
  const auto* t = file.find_tensor("blk.0.w");
  REQUIRE(t != nullptr);
  CHECK(t->type == DType::q4_k);
  CHECK(t->dims == std::vector<int64_t>{256, 2});
  CHECK(t->n_bytes == 288);
  CHECK(std::memcmp(t->data.data(), q4k.data(), q4k.size()) == 0);
  CHECK((t->data.data() - bytes.data()) % 32 == 0);
  CHECK(file.find_tensor("v")->offset == 288 + 0 /* padded to 32: 288 is a multiple */);
}

TEST_CASE("wrong conversions name the key") {
  GgufWriter w;
  w.set("general.architecture", "llama");
  const auto bytes = w.to_bytes();
  const auto file = GgufFile::parse(bytes);
  try {
    (void)file.metadata().at("general.architecture").to_int64("general.architecture");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::invalid_model_file);
    CHECK(std::string(e.what()) == "[gguf] 'general.architecture' is string, expected an integer");
  }
  CHECK_THROWS_AS(file.metadata().at("missing"), Error);
}

TEST_CASE("writer refuses inconsistent tensors") {
  GgufWriter w;
  std::vector<uint8_t> data(10);
  CHECK_THROWS_AS(w.add_tensor("x", DType::f32, {3}, data), Error);
  CHECK_THROWS_AS(w.add_tensor("x", DType::q4_0, {16}, data), Error);
  CHECK_THROWS_AS(w.set("general.alignment", uint32_t{3}), Error);
}
