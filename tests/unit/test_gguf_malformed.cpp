// Malformed GGUF input: one test per defect, each asserting the ErrorCode and the exact message; a loop
// truncating valid files at every byte; and the split-model failures. Inputs are built byte by byte here.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "ollm/error.hpp"
#include "ollm/gguf.hpp"

using namespace ollm;
using VT = GgufValueType;

namespace {

constexpr uint32_t magic = 0x46554747;  // "GGUF"
constexpr uint32_t f32_id = 0, q4_0_id = 2, f64_id = 28;

// Appends little-endian GGUF pieces and remembers where named fields start.
class Bytes {
 public:
  template <class T>
  Bytes& put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    b_.insert(b_.end(), p, p + sizeof v);
    return *this;
  }
  Bytes& u8(uint8_t v) { return put(v); }
  Bytes& u32(uint32_t v) { return put(v); }
  Bytes& u64(uint64_t v) { return put(v); }
  Bytes& raw(std::string_view s) {
    b_.insert(b_.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& str(std::string_view s) { return u64(s.size()).raw(s); }
  Bytes& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return mark("magic").u32(magic).mark("version").u32(version).mark("n_tensors").u64(n_tensors).mark("n_kv").u64(n_kv);
  }
  // A key and its value type; the value follows.
  Bytes& key(std::string_view k, VT type) { return str(k).u32(static_cast<uint32_t>(type)); }
  Bytes& kv_u32(std::string_view k, uint32_t v) { return key(k, VT::uint32).u32(v); }
  Bytes& kv_str(std::string_view k, std::string_view v) { return key(k, VT::string).str(v); }
  Bytes& tensor(std::string_view name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) u64(d);
    return u32(type).u64(offset);
  }
  Bytes& pad(size_t alignment = 32) {
    b_.resize((b_.size() + alignment - 1) / alignment * alignment, 0);
    return *this;
  }
  Bytes& zeros(size_t n) {
    b_.resize(b_.size() + n, 0);
    return *this;
  }
  Bytes& mark(const std::string& name) {
    at_[name] = b_.size();
    return *this;
  }
  size_t at(const std::string& name) const { return at_.at(name); }
  size_t size() const { return b_.size(); }
  std::vector<uint8_t>& bytes() { return b_; }
  const std::vector<uint8_t>& bytes() const { return b_; }

 private:
  std::vector<uint8_t> b_;
  std::map<std::string, size_t> at_;
};

// Parses `bytes` (copied to an exactly sized buffer, so a sanitizer sees any over-read) and requires
// an Error with this code and this message; `message` omits the "[gguf] bad.gguf: " prefix.
void expect_error(std::span<const uint8_t> bytes, ErrorCode code, const std::string& message) {
  const std::vector<uint8_t> exact(bytes.begin(), bytes.end());
  try {
    (void)GgufFile::parse(exact, "bad.gguf");
    FAIL("parsed without error; expected: " << message);
  } catch (const Error& e) {
    CHECK(error_code_name(e.code()) == error_code_name(code));
    CHECK(std::string(e.what()) == "[gguf] bad.gguf: " + message);
  }
}
void expect_error(const Bytes& b, ErrorCode code, const std::string& message) { expect_error(b.bytes(), code, message); }

constexpr auto bad = ErrorCode::invalid_model_file;

// Header, one string key, one tensor "w" of 8 F32 at offset 0, 32 data bytes: valid, no trailing padding.
Bytes one_tensor_file(std::vector<uint64_t> dims = {8}, uint32_t type = f32_id, uint64_t offset = 0, size_t data = 32) {
  Bytes b;
  b.header(1, 1).kv_str("general.architecture", "x").mark("tensor").tensor("w", dims, type, offset).pad().mark("data");
  return b.zeros(data);
}

// A file with a value of one key; `value` writes the key's type and value.
template <class F>
Bytes one_key_file(F&& value) {
  Bytes b;
  b.header(0, 1).mark("kv");
  value(b);
  return b;
}

// A scratch directory for split-model files, removed on destruction.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = std::filesystem::temp_directory_path() / fmt::format("ollm_gguf_test_{}_{}", ::getpid(), counter++);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::filesystem::path write(const std::string& name, const std::vector<uint8_t>& bytes) const {
    std::ofstream f(path / name, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path / name;
  }
};

void expect_open_error(const std::filesystem::path& path, ErrorCode code, const std::string& message) {
  try {
    (void)GgufFile::open(path);
    FAIL("opened without error; expected: " << message);
  } catch (const Error& e) {
    CHECK(error_code_name(e.code()) == error_code_name(code));
    CHECK(std::string(e.what()) == message);
  }
}

// One split: the split.* keys (any may be left out by passing a negative value) and tensors named `names`.
std::vector<uint8_t> split_file(int no, int count, int total_tensors, std::vector<std::string> names) {
  GgufWriter w;
  if (no >= 0) w.set("split.no", static_cast<uint16_t>(no));
  if (count >= 0) w.set("split.count", static_cast<uint16_t>(count));
  if (total_tensors >= 0) w.set("split.tensors.count", static_cast<int32_t>(total_tensors));
  const std::vector<uint8_t> data(32);
  for (auto& n : names) w.add_tensor(n, DType::f32, {8}, data);
  return w.to_bytes();
}

}  // namespace

TEST_CASE("the byte builder's reference file is valid") {
  auto b = one_tensor_file();
  const auto f = GgufFile::parse(b.bytes(), "ok.gguf");
  REQUIRE(f.tensors().size() == 1);
  CHECK(f.tensors()[0].data.data() == b.bytes().data() + b.at("data"));
}

TEST_CASE("empty file") {
  expect_error(std::span<const uint8_t>{}, bad, "file of 0 bytes is too short to be GGUF");
  TempDir dir;
  const auto path = dir.write("empty.gguf", {});
  expect_open_error(path, bad, fmt::format("[gguf] {}: file of 0 bytes is too short to be GGUF", path.string()));
}

TEST_CASE("truncated inside each header, metadata and tensor-info field") {
  // A long first key keeps the count checks (n_kv, n_tensors against the bytes left) out of the way,
  // so each truncation is reported by the field it cuts.
  Bytes b;
  b.header(1, 4).kv_str("general.architecture", std::string(63, 'a'));  // 1 byte of padding before the data
  b.mark("key_len").u64(5).mark("key_bytes").raw("t.str").mark("value_type").u32(8);
  b.mark("str_len").u64(6).mark("str_bytes").raw("string");
  b.key("t.arr", VT::array).mark("elem_type").u32(8).mark("arr_len").u64(3);
  b.str("alpha").str("beta").mark("item_len").u64(5).mark("item_bytes").raw("gamma");
  b.key("t.u32", VT::uint32).mark("u32").u32(7);
  b.mark("name_len").u64(1).mark("name_bytes").raw("w").mark("n_dims").u32(2).mark("dims").u64(8).u64(1);
  b.mark("type").u32(f32_id).mark("offset").u64(0).pad().mark("data").zeros(32);
  REQUIRE_NOTHROW(GgufFile::parse(b.bytes(), "ok.gguf"));
  REQUIRE(b.at("data") == b.at("offset") + 8 + 1);

  struct Case {
    const char* field;     // builder mark
    size_t keep;           // bytes of the field left in the file
    const char* name;      // the field as the message names it
    size_t needs;
  };
  const Case cases[] = {
      {"version", 2, "version", 4},           {"n_tensors", 3, "tensor count", 8},
      {"n_kv", 7, "metadata count", 8},       {"key_len", 3, "metadata key", 8},
      {"key_bytes", 2, "metadata key", 5},    {"value_type", 1, "value type", 4},
      {"str_len", 4, "key 't.str'", 8},       {"str_bytes", 5, "key 't.str'", 6},
      {"elem_type", 3, "value type", 4},      {"arr_len", 1, "array length", 8},
      {"item_len", 6, "key 't.arr'", 8},      {"item_bytes", 2, "key 't.arr'", 5},
      {"u32", 3, "key 't.u32'", 4},           {"name_len", 7, "tensor name", 8},
      {"name_bytes", 0, "tensor name", 1},    {"n_dims", 2, "tensor dimension count", 4},
      {"dims", 4, "tensor dimension", 8},    {"type", 3, "tensor type", 4},
      {"offset", 5, "tensor data offset", 8},
  };
  for (const auto& c : cases) {
    CAPTURE(c.field);
    size_t at = b.at(c.field);
    if (std::string_view(c.field) == "dims") at += 8;  // the second dimension
    const std::span<const uint8_t> cut(b.bytes().data(), at + c.keep);
    expect_error(cut, bad, fmt::format("truncated: {} needs {} bytes at offset {} but only {} remain", c.name, c.needs,
                                       at, c.keep));
  }
  expect_error(std::span(b.bytes().data(), 2), bad, "file of 2 bytes is too short to be GGUF");
  expect_error(std::span(b.bytes().data(), b.at("data") - 1), bad,
               fmt::format("tensor data section would start at {}, past the end of the file ({} bytes)", b.at("data"),
                           b.at("data") - 1));
  expect_error(std::span(b.bytes().data(), b.size() - 1), bad,
               fmt::format("tensor 'w' data (32 bytes at offset 0 of the data section, which starts at {}) lies past "
                           "the end of the file ({} bytes)", b.at("data"), b.size() - 1));
}

TEST_CASE("every truncation of a valid file throws, never crashes") {
  auto check_prefixes = [](const std::vector<uint8_t>& full, size_t valid_from) {
    size_t failures = 0;
    for (size_t n = 0; n < full.size(); ++n) {
      const std::vector<uint8_t> prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      try {
        (void)GgufFile::parse(prefix, "cut.gguf");
        if (n < valid_from) {
          ++failures;
          FAIL_CHECK("a " << n << "-byte prefix parsed");
        }
      } catch (const Error& e) {
        if (e.code() != ErrorCode::invalid_model_file || !std::string_view(e.what()).starts_with("[gguf] cut.gguf: ")) {
          ++failures;
          FAIL_CHECK(n << "-byte prefix: " << error_code_name(e.code()) << ": " << e.what());
        }
        if (n >= valid_from) {
          ++failures;
          FAIL_CHECK(n << "-byte prefix should parse: " << e.what());
        }
      }
    }
    CHECK(failures == 0);
    CHECK_NOTHROW(GgufFile::parse(full, "cut.gguf"));
  };
  SUBCASE("ollm-written file without trailing padding: only the whole file parses") {
    GgufWriter w;
    w.set("general.architecture", "llama");
    w.set("a.arr", GgufArray{std::vector<std::string>{"x", "yy", ""}});
    w.set("a.nested", GgufArray{std::vector<GgufArray>{GgufArray{std::vector<int16_t>{1, 2}}}});
    w.set("a.f64", 0.5);
    w.set("a.b", true);
    w.add_tensor("q", DType::q4_0, {64, 2}, std::vector<uint8_t>(72));  // 72 bytes, padded to 96
    w.add_tensor("f", DType::f32, {8, 2}, std::vector<uint8_t>(64));    // ends the file exactly
    const auto full = w.to_bytes();
    check_prefixes(full, full.size());
  }
  SUBCASE("gguf-py fixture: prefixes parse once they hold the last tensor's data") {
    std::ifstream f(std::filesystem::path(OLLM_TEST_DATA) / "gguf" / "all_types.gguf", std::ios::binary);
    const std::vector<uint8_t> full{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
    REQUIRE(full.size() > 1000);
    const auto file = GgufFile::parse(full, "all_types.gguf");
    size_t end = 0;
    for (const auto& t : file.tensors()) end = std::max<size_t>(end, static_cast<size_t>(t.data.data() - full.data()) + t.data.size());
    check_prefixes(full, end);  // the bytes after `end` are GGUFWriter's trailing padding
  }
}

TEST_CASE("bad magic") {
  auto b = one_tensor_file();
  b.bytes()[3] = 'X';
  expect_error(b, bad, "bad magic 0x58554747 (expected 0x46554747, \"GGUF\")");
}

TEST_CASE("version 1 is unsupported") {
  auto b = one_tensor_file();
  b.bytes()[4] = 1;
  expect_error(b, ErrorCode::unsupported, "GGUF version 1 is not supported (versions 2 and 3 are); re-convert the model");
}

TEST_CASE("version 4 is newer than ollm reads; version 0 is garbage") {
  auto b = one_tensor_file();
  b.bytes()[4] = 4;
  expect_error(b, ErrorCode::unsupported, "GGUF version 4 is newer than this ollm reads (versions 2 and 3); update ollm");
  b.bytes()[4] = 0;
  expect_error(b, bad, "unknown GGUF version 0 (expected 2 or 3)");
  b.bytes()[4] = 0x78, b.bytes()[5] = 0x56, b.bytes()[6] = 0x34, b.bytes()[7] = 0x12;
  expect_error(b, bad, "unknown GGUF version 305419896 (expected 2 or 3)");
  b.bytes()[4] = 2, b.bytes()[5] = 0, b.bytes()[6] = 0, b.bytes()[7] = 0;
  CHECK(GgufFile::parse(b.bytes(), "v2.gguf").version() == 2);
}

TEST_CASE("big-endian file") {
  // gguf-py's big-endian files keep the magic's byte order and swap everything else.
  Bytes b;
  b.u32(magic).put(__builtin_bswap32(3)).put(__builtin_bswap64(0)).put(__builtin_bswap64(0));
  expect_error(b, ErrorCode::unsupported, "big-endian GGUF is not supported (version field 0x03000000); convert it "
                                          "to little-endian");
}

TEST_CASE("absurd metadata and tensor counts fail before allocating") {
  Bytes b;
  b.header(0, uint64_t{1} << 62).kv_u32("k", 1);
  expect_error(b, bad, "metadata count 4611686018427387904 cannot fit in the 17 bytes that follow");
  Bytes t;
  t.header(UINT64_MAX, 0).zeros(100);
  expect_error(t, bad, "tensor count 18446744073709551615 cannot fit in the 100 bytes that follow");
}

TEST_CASE("string lengths beyond the file") {
  Bytes b;
  b.header(0, 1).u64(UINT64_MAX).raw("key").zeros(10);
  expect_error(b, bad, "truncated: metadata key needs 18446744073709551615 bytes at offset 32 but only 13 remain");
  Bytes v;
  v.header(0, 1).key("k", VT::string).mark("len").u64(1000).raw("short");
  expect_error(v, bad, fmt::format("truncated: key 'k' needs 1000 bytes at offset {} but only 5 remain", v.at("len") + 8));
  Bytes t;  // a tensor name
  t.header(1, 0).mark("name").u64(uint64_t{1} << 40).zeros(40);
  expect_error(t, bad, "truncated: tensor name needs 1099511627776 bytes at offset 32 but only 40 remain");
}

TEST_CASE("array counts beyond the file") {
  auto b = one_key_file([](Bytes& b) { b.key("k", VT::array).u32(4).mark("count").u64(1000000).u32(1).u32(2); });
  expect_error(b, bad, fmt::format("key 'k' claims 1000000 elements of uint32 at offset {} but only 8 bytes remain", b.at("count")));
  auto s = one_key_file([](Bytes& b) { b.key("k", VT::array).u32(8).mark("count").u64(UINT64_MAX).str("x"); });
  expect_error(s, bad, fmt::format("key 'k' claims 18446744073709551615 elements of string at offset {} but only 9 bytes remain",
                                   s.at("count")));
  auto n = one_key_file([](Bytes& b) { b.key("k", VT::array).u32(9).mark("count").u64(2).u32(4).u64(0); });
  expect_error(n, bad, fmt::format("key 'k' claims 2 elements of array at offset {} but only 12 bytes remain", n.at("count")));
}

TEST_CASE("unknown value types") {
  auto b = one_key_file([](Bytes& b) { b.str("k").mark("type").u32(13).u32(0); });
  expect_error(b, bad, fmt::format("key 'k' has unknown value type 13 at offset {}", b.at("type")));
  auto a = one_key_file([](Bytes& b) { b.key("k", VT::array).mark("type").u32(0xffffffff).u64(0); });
  expect_error(a, bad, fmt::format("key 'k' has unknown value type 4294967295 at offset {}", a.at("type")));
}

TEST_CASE("tensor type ids: unknown ones fail, recognised unsupported ones read") {
  for (uint32_t id : {4u, 5u, 31u, 36u, 42u, 1000u, 0xffffffffu}) {
    CAPTURE(id);
    expect_error(one_tensor_file({256}, id), bad, fmt::format("tensor 'w' has unknown type id {}", id));
  }
  const auto iq2 = one_tensor_file({256}, 16, 0, 66);  // IQ2_XXS: 66 bytes per 256 elements
  const auto f = GgufFile::parse(iq2.bytes(), "iq2.gguf");
  CHECK(f.tensors()[0].type == DType::iq2_xxs);
  CHECK(f.tensors()[0].n_bytes == 66);
}

TEST_CASE("dimension counts and sizes") {
  expect_error(one_tensor_file({}), bad, "tensor 'w' has 0 dimensions (1 to 4 supported)");
  expect_error(one_tensor_file({8, 1, 1, 1, 1}), bad, "tensor 'w' has 5 dimensions (1 to 4 supported)");
  expect_error(one_tensor_file({8, 0}), bad, "tensor 'w' dimension 1 is 0");
  expect_error(one_tensor_file({uint64_t{1} << 32, uint64_t{1} << 32}), bad,
               "tensor 'w' dimension 1 of 4294967296 overflows the int64 element count");
  expect_error(one_tensor_file({uint64_t{1} << 63}), bad,
               "tensor 'w' dimension 0 of 9223372036854775808 overflows the int64 element count");
  // 2^62 F64 elements fit in int64 but their 2^65 bytes do not fit in uint64.
  expect_error(one_tensor_file({uint64_t{1} << 62}, f64_id), bad,
               "tensor 'w' (F64 [4611686018427387904]) byte size overflows 64 bits");
  expect_error(one_tensor_file({32, uint64_t{1} << 57}, f64_id), bad,
               "tensor 'w' (F64 [32, 144115188075855872]) byte size overflows 64 bits");
  expect_error(one_tensor_file({48}, q4_0_id), bad, "tensor 'w' rows of 48 elements are not a multiple of the Q4_0 block size 32");
  CHECK_NOTHROW(GgufFile::parse(one_tensor_file({8, 1, 1, 1}).bytes(), "4d.gguf"));
}

TEST_CASE("tensor data placement") {
  const auto past = [](uint64_t n_bytes, uint64_t offset, const Bytes& b) {
    return fmt::format("tensor 'w' data ({} bytes at offset {} of the data section, which starts at {}) lies past the "
                       "end of the file ({} bytes)", n_bytes, offset, b.at("data"), b.size());
  };
  const auto beyond = one_tensor_file({8}, f32_id, 32);
  expect_error(beyond, bad, past(32, 32, beyond));
  const auto huge = one_tensor_file({8}, f32_id, UINT64_MAX - 31);  // offset + start would wrap
  expect_error(huge, bad, past(32, UINT64_MAX - 31, huge));
  const auto too_long = one_tensor_file({16}, f32_id, 0, 32);  // 64 bytes claimed, 32 present
  expect_error(too_long, bad, past(64, 0, too_long));
  expect_error(one_tensor_file({8}, f32_id, 4), bad, "tensor 'w' data offset 4 is not a multiple of the alignment 32");
}

TEST_CASE("overlapping tensors and duplicate names") {
  Bytes b;
  b.header(2, 0).tensor("a", {16}, f32_id, 0).tensor("b", {8}, f32_id, 32).pad().zeros(96);
  expect_error(b, bad, "tensor 'a' data [0, +64) overlaps tensor 'b' at 32");
  Bytes same;
  same.header(2, 0).tensor("b", {8}, f32_id, 0).tensor("a", {8}, f32_id, 0).pad().zeros(32);
  expect_error(same, bad, "tensor 'b' data [0, +32) overlaps tensor 'a' at 0");
  Bytes dup;
  dup.header(2, 0).tensor("w", {8}, f32_id, 0).tensor("w", {8}, f32_id, 32).pad().zeros(64);
  expect_error(dup, bad, "duplicate tensor name 'w'");
  Bytes empty_name;
  empty_name.header(1, 0).mark("t").tensor("", {8}, f32_id, 0).pad().zeros(32);
  expect_error(empty_name, bad, fmt::format("tensor at offset {} has an empty name", empty_name.at("t")));
}

TEST_CASE("duplicate and empty metadata keys") {
  Bytes b;
  b.header(0, 2).kv_u32("k", 1).mark("second").kv_u32("k", 2);
  expect_error(b, bad, fmt::format("duplicate metadata key 'k' at offset {}", b.at("second")));
  Bytes e;
  e.header(0, 1).kv_u32("", 1);
  expect_error(e, bad, "metadata entry 0 at offset 24 has an empty key");
}

TEST_CASE("general.alignment must be a uint32 power of two") {
  auto file = [](auto value) {
    Bytes b;
    b.header(0, 1);
    value(b);
    return b;
  };
  expect_error(file([](Bytes& b) { b.key("general.alignment", VT::uint64).u64(32); }), bad,
               "general.alignment is uint64, expected uint32");
  expect_error(file([](Bytes& b) { b.key("general.alignment", VT::int32).u32(32); }), bad,
               "general.alignment is int32, expected uint32");
  expect_error(file([](Bytes& b) { b.kv_u32("general.alignment", 48); }), bad, "general.alignment 48 is not a power of two");
  expect_error(file([](Bytes& b) { b.kv_u32("general.alignment", 0); }), bad, "general.alignment 0 is not a power of two");
  const auto ok = file([](Bytes& b) { b.kv_u32("general.alignment", 1); });
  CHECK(GgufFile::parse(ok.bytes(), "a1.gguf").alignment() == 1);
}

TEST_CASE("nested arrays: 8 levels read, 9 are refused") {
  auto nest = [](int levels) {
    Bytes b;
    b.header(0, 1).key("deep", VT::array);
    for (int i = 1; i < levels; ++i) b.u32(9).u64(1);  // an array holding one array
    b.mark("innermost").u32(4).u64(1).u32(7);           // the innermost holds one uint32
    return b;
  };
  const auto eight = nest(8);
  const auto f = GgufFile::parse(eight.bytes(), "deep.gguf");
  const GgufArray* a = &f.metadata().at("deep").to_array("deep");
  for (int i = 1; i < 8; ++i) a = &std::get<std::vector<GgufArray>>(a->items).at(0);
  CHECK(std::get<std::vector<uint32_t>>(a->items) == std::vector<uint32_t>{7});
  const auto nine = nest(9);
  expect_error(nine, bad, fmt::format("key 'deep' nests arrays deeper than 8 at offset {}", nine.at("innermost")));
  // A hostile file nesting thousands of levels stops at the same depth instead of exhausting the stack.
  Bytes hostile;
  hostile.header(0, 1).key("deep", VT::array);
  for (int i = 0; i < 100000; ++i) hostile.u32(9).u64(1);
  expect_error(hostile, bad, "key 'deep' nests arrays deeper than 8 at offset 136");
}

TEST_CASE("bool bytes other than 0 and 1") {
  auto scalar = one_key_file([](Bytes& b) { b.key("b", VT::boolean).mark("v").u8(2); });
  expect_error(scalar, bad, fmt::format("key 'b' has bool byte 2 at offset {} (expected 0 or 1)", scalar.at("v")));
  auto array = one_key_file([](Bytes& b) { b.key("b", VT::array).u32(7).u64(3).u8(1).u8(0).mark("v").u8(255); });
  expect_error(array, bad, fmt::format("key 'b' has bool byte 255 at offset {} (expected 0 or 1)", array.at("v")));
}

TEST_CASE("splits: missing, opened from the second, disagreeing with their names, sharing tensors") {
  TempDir dir;
  const auto first = dir.path / "m-00001-of-00002.gguf";
  const auto second = dir.path / "m-00002-of-00002.gguf";
  SUBCASE("a valid pair opens") {
    dir.write("m-00001-of-00002.gguf", split_file(0, 2, 2, {"a"}));
    dir.write("m-00002-of-00002.gguf", split_file(1, 2, 2, {"b"}));
    const auto f = GgufFile::open(first);
    CHECK(f.split_count() == 2);
    CHECK(f.find_tensor("b")->split == 1);
  }
  SUBCASE("missing second split") {
    dir.write("m-00001-of-00002.gguf", split_file(0, 2, 2, {"a"}));
    expect_open_error(first, ErrorCode::io, fmt::format("[gguf] split 2 of 2 is missing: '{}'", second.string()));
  }
  SUBCASE("opening the second split directly") {
    dir.write("m-00001-of-00002.gguf", split_file(0, 2, 2, {"a"}));
    dir.write("m-00002-of-00002.gguf", split_file(1, 2, 2, {"b"}));
    expect_open_error(second, ErrorCode::invalid_argument,
                      fmt::format("[gguf] '{}' is split 2 of 2; open the first split (m-00001-of-00002.gguf)", second.string()));
  }
  SUBCASE("split.count disagrees with the file name") {
    dir.write("m-00001-of-00002.gguf", split_file(0, 3, 2, {"a"}));
    dir.write("m-00002-of-00002.gguf", split_file(1, 2, 2, {"b"}));
    expect_open_error(first, bad, fmt::format("[gguf] {}: split.count is 3, but the file name says 2", first.string()));
  }
  SUBCASE("split.no disagrees with the file name") {
    dir.write("m-00001-of-00002.gguf", split_file(0, 2, 2, {"a"}));
    dir.write("m-00002-of-00002.gguf", split_file(0, 2, 2, {"b"}));
    expect_open_error(first, bad, fmt::format("[gguf] {}: split.no is 0, but the file name says split 2 of 2 (split.no 1)",
                                              second.string()));
  }
  SUBCASE("a split key that is not an integer") {
    GgufWriter w;
    w.set("split.count", "two");
    dir.write("m-00001-of-00002.gguf", w.to_bytes());
    expect_open_error(first, bad, fmt::format("[gguf] {}: split.count is string, expected an integer", first.string()));
  }
  SUBCASE("the same tensor in two splits") {
    dir.write("m-00001-of-00002.gguf", split_file(0, 2, 2, {"a"}));
    dir.write("m-00002-of-00002.gguf", split_file(1, 2, 2, {"a"}));
    expect_open_error(first, bad, fmt::format("[gguf] {}: tensor 'a' also appears in an earlier split", second.string()));
  }
  SUBCASE("split.tensors.count disagrees with the tensors found") {
    dir.write("m-00001-of-00002.gguf", split_file(0, 2, 3, {"a"}));
    dir.write("m-00002-of-00002.gguf", split_file(1, 2, 3, {"b"}));
    expect_open_error(first, bad, fmt::format("[gguf] {}: split.tensors.count is 3, but the 2 splits hold 2 tensors",
                                              first.string()));
  }
  SUBCASE("a malformed second split names its own file") {
    dir.write("m-00001-of-00002.gguf", split_file(0, 2, 2, {"a"}));
    dir.write("m-00002-of-00002.gguf", {'G', 'G', 'U'});
    expect_open_error(first, bad, fmt::format("[gguf] {}: file of 3 bytes is too short to be GGUF", second.string()));
  }
  SUBCASE("a renamed first split whose name no longer says so") {
    const auto renamed = dir.write("model.gguf", split_file(0, 2, 2, {"a"}));
    expect_open_error(renamed, bad,
                      fmt::format("[gguf] {}: split.count is 2, but the file name does not follow NAME-00001-of-00002.gguf, "
                                  "so the other splits cannot be found (keep the names gguf-split gave them)",
                                  renamed.string()));
  }
}

TEST_CASE("the writer refuses what the reader would reject") {
  GgufWriter w;
  GgufArray deep{std::vector<uint32_t>{1}};
  for (int i = 1; i < 9; ++i) deep = GgufArray{std::vector<GgufArray>{deep}};
  try {
    w.set("deep", deep);
    FAIL("accepted 9 levels");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(std::string(e.what()) == "[gguf-writer] key 'deep' nests arrays 9 deep; readers accept at most 8");
  }
  CHECK_THROWS_AS(w.set("general.alignment", uint64_t{32}), Error);
  CHECK_THROWS_AS(w.set("general.alignment", uint32_t{0}), Error);
  CHECK_THROWS_AS(w.add_tensor("z", DType::f32, {0}, {}), Error);
  CHECK_THROWS_AS(w.add_tensor("big", DType::f64, {int64_t{1} << 40, int64_t{1} << 40}, {}), Error);
  CHECK_THROWS_AS(GgufWriter(1), Error);
}
