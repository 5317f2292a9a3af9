// safetensors reader: golden files written by the reference library (their expected.json says what it
// reads back) and one test per malformed-header case, checking the error code and the exact message.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "format/safetensors.hpp"
#include "hf_test_support.hpp"
#include "ollm/types.hpp"

using namespace ollm;
using hf_test::check_error;

namespace {

// An 8-byte length, the header text, then `data_bytes` zero bytes.
std::vector<uint8_t> st_file(std::string_view header, size_t data_bytes = 0) {
  std::vector<uint8_t> out(8 + header.size() + data_bytes, 0);
  const uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, header.data(), header.size());
  return out;
}

void check_st_error(std::string_view header, size_t data_bytes, ErrorCode code, std::string_view message) {
  const auto bytes = st_file(header, data_bytes);
  check_error([&] { (void)parse_safetensors(bytes, "t.safetensors"); }, code, message);
}

void compare_with_reference(const SafetensorsFile& file, std::string_view key) {
  const auto want = hf_test::expected()["safetensors"][key].get_object().value();
  CHECK(file.data_offset == want["data_offset"].get_uint64().value());
  const auto tensors = want["tensors"].get_array().value();
  REQUIRE(file.tensors.size() == tensors.size());
  for (const auto w : tensors) {
    const std::string name(w["name"].get_string().value());
    CAPTURE(name);
    const auto* t = file.find_tensor(name);
    REQUIRE(t != nullptr);
    CHECK(dtype_name(t->type) == w["dtype"].get_string().value());  // ollm spells dtypes as safetensors does
    std::vector<int64_t> shape;
    for (const auto d : hf_test::array_of(w["shape"])) shape.push_back(d.get_int64().value());
    CHECK(t->shape == shape);
    CHECK(t->data_begin == w["data_offsets"].at(0).get_uint64().value());
    CHECK(t->data_end == w["data_offsets"].at(1).get_uint64().value());
    CHECK(t->data.size() == t->data_end - t->data_begin);
    CHECK(hf_test::fnv1a64(t->data) == w["fnv1a64"].get_string().value());
  }
  const auto metadata = want["metadata"].get_object().value();
  REQUIRE(file.metadata.size() == metadata.size());
  for (const auto& [k, v] : file.metadata) CHECK(metadata[k].get_string().value() == v);
}

}  // namespace

TEST_CASE("safetensors files written by the reference library read back identically") {
  for (const char* key : {"all_dtypes.safetensors", "tiny_llama/model.safetensors",
                          "sharded_qwen3/model-00001-of-00002.safetensors",
                          "sharded_qwen3/model-00002-of-00002.safetensors"}) {
    CAPTURE(key);
    const auto file = open_safetensors(hf_test::data_dir / key);
    REQUIRE(file.mapping != nullptr);
    compare_with_reference(file, key);
  }
}

TEST_CASE("every dtype ollm reads, a scalar and an empty tensor") {
  const auto file = open_safetensors(hf_test::data_dir / "all_dtypes.safetensors");
  const std::pair<const char*, DType> types[] = {
      {"t_f32", DType::f32}, {"t_f16", DType::f16}, {"t_bf16", DType::bf16}, {"t_f64", DType::f64},
      {"t_i8", DType::i8}, {"t_u8", DType::u8}, {"t_i16", DType::i16}, {"t_i32", DType::i32},
      {"t_i64", DType::i64}, {"t_bool", DType::boolean}, {"t_f8_e4m3", DType::f8_e4m3}, {"t_f8_e5m2", DType::f8_e5m2}};
  for (const auto& entry : types) {
    const char* name = entry.first;  // not a structured binding: clang 14 cannot capture those
    const DType type = entry.second;
    CAPTURE(name);
    REQUIRE(file.find_tensor(name) != nullptr);
    CHECK(file.find_tensor(name)->type == type);
  }
  CHECK(file.find_tensor("scalar")->shape.empty());
  CHECK(file.find_tensor("scalar")->data.size() == 4);
  CHECK(file.find_tensor("empty")->shape == std::vector<int64_t>{0, 3});
  CHECK(file.find_tensor("empty")->data.empty());
  CHECK(file.find_tensor("missing") == nullptr);
  CHECK(safetensors_dtype("F8_E4M3") == DType::f8_e4m3);
  CHECK(!safetensors_dtype("f32").has_value());
}

TEST_CASE("a parsed span points into the caller's bytes") {
  const auto bytes = st_file(R"({"a":{"dtype":"I16","shape":[2],"data_offsets":[0,4]},"__metadata__":{"k":"v"}})", 4);
  const auto file = parse_safetensors(bytes, "t.safetensors");
  REQUIRE(file.tensors.size() == 1);
  CHECK(file.tensors[0].data.data() == bytes.data() + file.data_offset);
  CHECK(file.mapping == nullptr);
  CHECK(file.metadata == std::vector<std::pair<std::string, std::string>>{{"k", "v"}});
}

TEST_CASE("gaps between tensors and trailing bytes are accepted") {
  const auto bytes = st_file(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}})", 10);
  CHECK(parse_safetensors(bytes, "t.safetensors").tensors.size() == 1);
}

TEST_CASE("malformed file framing") {
  const std::vector<uint8_t> short_file(5, 0);
  check_error([&] { (void)parse_safetensors(short_file, "t.safetensors"); }, ErrorCode::invalid_model_file,
              "[safetensors] t.safetensors: file of 5 bytes is too short to be safetensors (the header length takes 8)");

  auto huge = st_file("{}");
  const uint64_t absurd = 100'000'001;
  std::memcpy(huge.data(), &absurd, 8);
  check_error([&] { (void)parse_safetensors(huge, "t.safetensors"); }, ErrorCode::invalid_model_file,
              "[safetensors] t.safetensors: header length 100000001 exceeds the 100000000-byte limit");

  auto past = st_file("{}");
  const uint64_t too_long = 3;
  std::memcpy(past.data(), &too_long, 8);
  check_error([&] { (void)parse_safetensors(past, "t.safetensors"); }, ErrorCode::invalid_model_file,
              "[safetensors] t.safetensors: header length 3 runs past the end of the file (2 bytes follow it)");

  check_error([] { (void)open_safetensors("/nonexistent/x.safetensors"); }, ErrorCode::io,
              "[file] cannot open '/nonexistent/x.safetensors': No such file or directory");
}

TEST_CASE("malformed header JSON") {
  const auto bytes = st_file(R"({"a": )");
  hf_test::check_error_prefix([&] { (void)parse_safetensors(bytes, "t.safetensors"); }, ErrorCode::invalid_model_file,
                              "[safetensors] t.safetensors: header: invalid JSON: ");
  check_st_error("[1,2]", 0, ErrorCode::invalid_model_file, "[safetensors] t.safetensors: header is array, expected an object");
  check_st_error(R"({"a": [1]})", 0, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: tensor 'a' is described by array, expected an object");
  check_st_error(R"({"": {"dtype":"F32","shape":[],"data_offsets":[0,4]}})", 4, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: a tensor has an empty name");
}

TEST_CASE("malformed dtype") {
  check_st_error(R"({"a": {"shape":[1],"data_offsets":[0,4]}})", 4, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: tensor 'a' has no 'dtype'");
  check_st_error(R"({"a": {"dtype":4,"shape":[1],"data_offsets":[0,4]}})", 4, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: tensor 'a': 'dtype' is integer, expected a string");
  check_st_error(R"({"a": {"dtype":"Q4_K","shape":[1],"data_offsets":[0,4]}})", 4, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: tensor 'a' has unknown dtype 'Q4_K'");
  check_st_error(R"({"a": {"dtype":"U32","shape":[1],"data_offsets":[0,4]}})", 4, ErrorCode::unsupported,
                 "[safetensors] t.safetensors: tensor 'a' has dtype U32, which ollm does not support");
}

TEST_CASE("malformed shape") {
  check_st_error(R"({"a": {"dtype":"F32","data_offsets":[0,4]}})", 4, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: tensor 'a' has no 'shape'");
  check_st_error(R"({"a": {"dtype":"F32","shape":"1","data_offsets":[0,4]}})", 4, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: tensor 'a': 'shape' is string, expected an array of non-negative integers");
  check_st_error(R"({"a": {"dtype":"F32","shape":[1,-2],"data_offsets":[0,4]}})", 4, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: tensor 'a': shape[1] is -2, expected a non-negative integer");
  check_st_error(R"({"a": {"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", 4, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: tensor 'a': shape[0] is number, expected a non-negative integer");
  check_st_error(R"({"a": {"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", 4,
                 ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: tensor 'a': shape[1] = 4294967296 overflows the element count");
  check_st_error(R"({"a": {"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,4]}})", 4,
                 ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: tensor 'a': shape[0] = 18446744073709551615 overflows the element count");
  // Fits int64 elements, but not bytes of F32.
  check_st_error(R"({"a": {"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,4]}})", 4,
                 ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: tensor 'a': data_offsets [0, 4] hold 4 bytes but shape [4611686018427387904] of F32 "
                 "needs 4611686018427387904 elements of 4 bytes");
}

TEST_CASE("malformed data_offsets") {
  check_st_error(R"({"a": {"dtype":"F32","shape":[1]}})", 4, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: tensor 'a' has no 'data_offsets'");
  check_st_error(R"({"a": {"dtype":"F32","shape":[1],"data_offsets":{"b":0}}})", 4, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: tensor 'a': 'data_offsets' is object, expected an array of 2 integers");
  check_st_error(R"({"a": {"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}})", 8, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: tensor 'a': 'data_offsets' has 3 entries, expected 2");
  check_st_error(R"({"a": {"dtype":"F32","shape":[1],"data_offsets":[-1,4]}})", 4, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: tensor 'a': data_offsets[0] is -1, expected a non-negative integer");
  check_st_error(R"({"a": {"dtype":"F32","shape":[1],"data_offsets":[0,"4"]}})", 4, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: tensor 'a': data_offsets[1] is string, expected a non-negative integer");
  check_st_error(R"({"a": {"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", 8, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: tensor 'a': data_offsets [8, 4] begin after they end");
  check_st_error(R"({"a": {"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 7, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: tensor 'a': data_offsets [0, 8] end past the 7-byte data buffer");
  check_st_error(R"({"a": {"dtype":"F32","shape":[2,3],"data_offsets":[0,12]}})", 12, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: tensor 'a': data_offsets [0, 12] hold 12 bytes but shape [2, 3] of F32 "
                 "needs 6 elements of 4 bytes");
}

TEST_CASE("overlapping and duplicate tensors") {
  check_st_error(R"({"a": {"dtype":"F32","shape":[4],"data_offsets":[0,16]},
                     "b": {"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
                 24, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: tensors 'a' [0, 16] and 'b' [8, 24] overlap");
  // Empty tensors share no byte with anything, wherever they point.
  const auto ok = st_file(R"({"a": {"dtype":"F32","shape":[4],"data_offsets":[0,16]},
                              "e": {"dtype":"F32","shape":[0],"data_offsets":[8,8]}})", 16);
  CHECK(parse_safetensors(ok, "t.safetensors").tensors.size() == 2);
  check_st_error(R"({"a": {"dtype":"F32","shape":[1],"data_offsets":[0,4]},
                     "a": {"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                 8, ErrorCode::invalid_model_file, "[safetensors] t.safetensors: duplicate tensor name 'a'");
}

TEST_CASE("malformed __metadata__") {
  check_st_error(R"({"__metadata__": ["x"]})", 0, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: '__metadata__' is array, expected an object of strings");
  check_st_error(R"({"__metadata__": {"k": 1}})", 0, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: '__metadata__' entry 'k' is integer, expected a string");
  check_st_error(R"({"__metadata__": {"k": "1", "k": "2"}})", 0, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: duplicate key 'k' in '__metadata__'");
  check_st_error(R"({"__metadata__": {}, "__metadata__": {}})", 0, ErrorCode::invalid_model_file,
                 "[safetensors] t.safetensors: '__metadata__' appears twice");
}
