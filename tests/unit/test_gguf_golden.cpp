// Golden tests against the reference implementation: fixtures written by gguf-py's GGUFWriter and the
// expected.json its GGUFReader produced (scripts/fixtures/make_gguf_fixtures.py), read and rewritten by ollm.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "ollm/error.hpp"
#include "ollm/gguf.hpp"

using namespace ollm;
namespace dom = simdjson::dom;

namespace {

const std::filesystem::path fixture_dir = std::filesystem::path(OLLM_TEST_DATA) / "gguf";

std::vector<uint8_t> slurp(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), "cannot open " << path);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

uint64_t fnv1a64(std::span<const uint8_t> bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ull;
  return h;
}

std::string hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// By value: in `for (x : r.get_array().value())` value() returns a reference into a temporary that
// dies before the loop runs.
dom::array array_of(simdjson::simdjson_result<dom::element> r) { return r.get_array().value(); }

// The parsed expected.json; elements borrowed from it live as long as the parser.
dom::element expected_files() {
  static dom::parser parser;
  static dom::element root = parser.load((fixture_dir / "expected.json").string()).value();
  return root["files"].value();
}

dom::element expected_file(std::string_view name) {
  for (dom::element f : array_of(expected_files()))
    if (std::string_view(f["file"].get_string().value()) == name) return f;
  FAIL("expected.json has no entry for " << name);
  return {};
}

GgufValueType value_type_named(std::string_view name) {
  for (uint32_t id = 0; id <= 12; ++id)
    if (gguf_value_type_name(static_cast<GgufValueType>(id)) == name) return static_cast<GgufValueType>(id);
  FAIL("unknown value type name " << name);
  return GgufValueType::uint8;
}

DType dtype_named(std::string_view name) {
  for (uint32_t id = 0; id < 64; ++id)
    if (auto t = dtype_from_ggml_id(id); t && dtype_name(*t) == name) return *t;
  FAIL("ollm has no tensor type named " << name);
  return DType::f32;
}

template <class T>
T int_from_json(dom::element e) {
  if constexpr (std::is_unsigned_v<T>) {
    const uint64_t v = e.get_uint64().value();
    REQUIRE(v <= std::numeric_limits<T>::max());
    return static_cast<T>(v);
  } else {
    const int64_t v = e.get_int64().value();
    REQUIRE(v >= std::numeric_limits<T>::min());
    REQUIRE(v <= std::numeric_limits<T>::max());
    return static_cast<T>(v);
  }
}

GgufValue scalar_from_json(GgufValueType type, dom::element e);

// A JSON array of values of one element type; nested arrays are objects {element_type, value}.
GgufArray array_from_json(GgufValueType element_type, dom::array values) {
  GgufArray out;
  auto fill = [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> items;
    for (dom::element v : values) {
      if constexpr (std::is_same_v<T, GgufArray>)
        items.push_back(array_from_json(value_type_named(v["element_type"].get_string().value()),
                                        v["value"].get_array().value()));
      else
        items.push_back(std::get<T>(scalar_from_json(element_type, v).storage()));
    }
    out.items = std::move(items);
  };
  switch (element_type) {
    case GgufValueType::uint8: fill(uint8_t{}); break;
    case GgufValueType::int8: fill(int8_t{}); break;
    case GgufValueType::uint16: fill(uint16_t{}); break;
    case GgufValueType::int16: fill(int16_t{}); break;
    case GgufValueType::uint32: fill(uint32_t{}); break;
    case GgufValueType::int32: fill(int32_t{}); break;
    case GgufValueType::float32: fill(float{}); break;
    case GgufValueType::boolean: fill(bool{}); break;
    case GgufValueType::string: fill(std::string{}); break;
    case GgufValueType::array: fill(GgufArray{}); break;
    case GgufValueType::uint64: fill(uint64_t{}); break;
    case GgufValueType::int64: fill(int64_t{}); break;
    case GgufValueType::float64: fill(double{}); break;
  }
  return out;
}

GgufValue scalar_from_json(GgufValueType type, dom::element e) {
  switch (type) {
    case GgufValueType::uint8: return int_from_json<uint8_t>(e);
    case GgufValueType::int8: return int_from_json<int8_t>(e);
    case GgufValueType::uint16: return int_from_json<uint16_t>(e);
    case GgufValueType::int16: return int_from_json<int16_t>(e);
    case GgufValueType::uint32: return int_from_json<uint32_t>(e);
    case GgufValueType::int32: return int_from_json<int32_t>(e);
    case GgufValueType::uint64: return int_from_json<uint64_t>(e);
    case GgufValueType::int64: return int_from_json<int64_t>(e);
    case GgufValueType::float32: {
      const double d = e.get_double().value();  // gguf-py wrote float(np.float32): exact
      REQUIRE(static_cast<double>(static_cast<float>(d)) == d);
      return static_cast<float>(d);
    }
    case GgufValueType::float64: return e.get_double().value();
    case GgufValueType::boolean: return e.get_bool().value();
    case GgufValueType::string: return std::string(e.get_string().value());
    case GgufValueType::array: break;
  }
  FAIL("not a scalar type");
  return {};
}

// One metadata entry of expected.json as a GgufValue.
GgufValue value_from_json(dom::element entry) {
  const auto type = value_type_named(entry["type"].get_string().value());
  if (type != GgufValueType::array) return scalar_from_json(type, entry["value"].value());
  return array_from_json(value_type_named(entry["element_type"].get_string().value()),
                         entry["value"].get_array().value());
}

void check_metadata(const GgufMetadata& md, dom::array expected) {
  REQUIRE(md.entries().size() == expected.size());
  size_t i = 0;
  for (dom::element e : expected) {
    const auto& [key, value] = md.entries()[i++];
    const std::string_view want_key = e["key"].get_string().value();
    CAPTURE(want_key);
    CHECK(key == want_key);
    CHECK(gguf_value_type_name(value.type()) == std::string_view(e["type"].get_string().value()));
    CHECK(value == value_from_json(e));
    CHECK(md.find(want_key) == &value);
  }
}

// One tensor against its expected.json entry. `file_bytes` is the whole file the tensor lives in.
void check_tensor(const GgufTensorInfo& t, dom::element e, std::span<const uint8_t> file_bytes, uint32_t split) {
  const std::string_view name = e["name"].get_string().value();
  CAPTURE(name);
  CHECK(t.name == name);
  CHECK(dtype_name(t.type) == std::string_view(e["type"].get_string().value()));
  std::vector<int64_t> ne;
  for (dom::element d : array_of(e["ne"])) ne.push_back(d.get_int64().value());
  CHECK(t.dims == ne);
  CHECK(t.element_count() == e["n_elements"].get_int64().value());
  CHECK(t.offset == e["offset"].get_uint64().value());
  CHECK(t.n_bytes == e["n_bytes"].get_uint64().value());
  CHECK(t.split == split);
  REQUIRE(t.data.size() == t.n_bytes);
  CHECK(hex16(fnv1a64(t.data)) == std::string_view(e["fnv1a64"].get_string().value()));
  const uint64_t at = e["data_offset"].get_uint64().value();
  REQUIRE(at + t.n_bytes <= file_bytes.size());
  CHECK(std::memcmp(t.data.data(), file_bytes.data() + at, t.n_bytes) == 0);
}

void check_single_file(const GgufFile& f, dom::element e, std::span<const uint8_t> bytes) {
  CHECK(f.version() == e["version"].get_uint64().value());
  CHECK(f.alignment() == e["alignment"].get_uint64().value());
  CHECK(f.split_count() == 1);
  CHECK(f.total_file_bytes() == e["file_size"].get_uint64().value());
  check_metadata(f.metadata(), e["metadata"].get_array().value());
  const dom::array tensors = e["tensors"].get_array().value();
  REQUIRE(f.tensors().size() == tensors.size());
  size_t i = 0;
  for (dom::element t : tensors) {
    check_tensor(f.tensors()[i], t, bytes, 0);
    CHECK(f.find_tensor(f.tensors()[i].name) == &f.tensors()[i]);
    ++i;
  }
}

bool is_split_name(std::string_view name) { return name.find("-of-") != std::string_view::npos; }

// The content written_by_ollm.gguf holds; make_gguf_fixtures.py --check-ollm-file restates it in Python.
std::vector<uint8_t> ollm_pattern(size_t n, unsigned seed) {
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(i * 31 + seed);
  return out;
}

GgufWriter ollm_written_content() {
  GgufWriter w;
  w.set("general.architecture", "ollmtest");
  w.set("general.alignment", uint32_t{16});
  w.set("o.u8", uint8_t{7});
  w.set("o.i8", int8_t{-7});
  w.set("o.u16", uint16_t{700});
  w.set("o.i16", int16_t{-700});
  w.set("o.u32", uint32_t{70000});
  w.set("o.i32", int32_t{-70000});
  w.set("o.f32", 0.25f);
  w.set("o.bool", false);
  w.set("o.str", "ollm \u2713");
  w.set("o.empty", "");
  w.set("o.u64", uint64_t{1} << 40);
  w.set("o.i64", -(int64_t{1} << 40));
  w.set("o.f64", -0.125);
  w.set("o.arr_empty", GgufArray{std::vector<int32_t>{}});
  w.set("o.arr_str", GgufArray{std::vector<std::string>{"a", "", "\u00fc"}});
  w.set("o.arr_bool", GgufArray{std::vector<bool>{true, false}});
  w.set("o.arr_nested", GgufArray{std::vector<GgufArray>{GgufArray{std::vector<uint8_t>{1, 2}},
                                                         GgufArray{std::vector<std::string>{"z"}},
                                                         GgufArray{std::vector<double>{}}}});
  w.add_tensor("o.q4_k", DType::q4_k, {256, 2}, ollm_pattern(288, 1));
  w.add_tensor("o.f32", DType::f32, {3}, ollm_pattern(12, 2));
  w.add_tensor("o.iq2_xxs", DType::iq2_xxs, {256}, ollm_pattern(66, 3));
  w.add_tensor("o.bf16", DType::bf16, {4, 1, 1, 2}, ollm_pattern(16, 4));
  return w;
}

}  // namespace

TEST_CASE("gguf-py fixtures read as GGUFReader reads them") {
  size_t files = 0;
  for (dom::element e : array_of(expected_files())) {
    const std::string name(e["file"].get_string().value());
    CAPTURE(name);
    const auto bytes = slurp(fixture_dir / name);
    REQUIRE(bytes.size() == e["file_size"].get_uint64().value());
    // parse(): tensor views point into the caller's bytes at exactly GGUFReader's data offsets.
    const auto parsed = GgufFile::parse(bytes, name);
    check_single_file(parsed, e, bytes);
    size_t i = 0;
    for (dom::element t : array_of(e["tensors"]))
      CHECK(parsed.tensors()[i++].data.data() == bytes.data() + t["data_offset"].get_uint64().value());
    // open(): the same through the memory mapping (split shards are opened as a model below).
    if (!is_split_name(name)) check_single_file(GgufFile::open(fixture_dir / name), e, bytes);
    ++files;
  }
  CHECK(files >= 5);
}

TEST_CASE("every value type and tensor type of the gguf-py fixture is present") {
  const auto file = GgufFile::open(fixture_dir / "all_types.gguf");
  std::vector<bool> value_types(13), element_types(13);
  for (const auto& [key, value] : file.metadata().entries()) {
    value_types[static_cast<size_t>(value.type())] = true;
    if (value.type() == GgufValueType::array)
      element_types[static_cast<size_t>(std::get<GgufArray>(value.storage()).element_type())] = true;
  }
  for (size_t i = 0; i < 13; ++i) {
    CAPTURE(i);
    CHECK(value_types[i]);
    CHECK(element_types[i]);
  }
  for (const char* type : {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K",
                           "Q5_K", "Q6_K", "Q8_K", "IQ4_NL", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ2_XXS"}) {
    CAPTURE(type);
    const auto& ts = file.tensors();
    CHECK(std::any_of(ts.begin(), ts.end(), [&](const GgufTensorInfo& t) { return dtype_name(t.type) == type; }));
  }
  // Recognised but without kernels: read like any other, reported unsupported later by the model loader.
  const auto* iq2 = file.find_tensor("t.iq2_xxs");
  REQUIRE(iq2 != nullptr);
  CHECK_FALSE(dtype_traits(iq2->type)->computable);
  CHECK(file.metadata().at("test.string_nul").to_string("") == std::string("a\0b", 3));
  CHECK(file.metadata().at("test.string_empty").to_string("").empty());
  CHECK(file.metadata().at("general.architecture").to_string("") == "testarch");
}

TEST_CASE("a gguf-py split model opens as one model from its first split") {
  const auto first = expected_file("split-00001-of-00002.gguf");
  const auto second = expected_file("split-00002-of-00002.gguf");
  const auto bytes1 = slurp(fixture_dir / "split-00001-of-00002.gguf");
  const auto bytes2 = slurp(fixture_dir / "split-00002-of-00002.gguf");
  const auto model = GgufFile::open(fixture_dir / "split-00001-of-00002.gguf");
  CHECK(model.split_count() == 2);
  CHECK(model.total_file_bytes() == bytes1.size() + bytes2.size());
  CHECK(model.version() == 3);
  check_metadata(model.metadata(), first["metadata"].get_array().value());  // metadata of the first split
  const auto t1 = first["tensors"].get_array().value();
  const auto t2 = second["tensors"].get_array().value();
  REQUIRE(model.tensors().size() == t1.size() + t2.size());
  CHECK(model.metadata().get_int("split.tensors.count", 0) == static_cast<int64_t>(model.tensors().size()));
  size_t i = 0;
  for (dom::element t : t1) check_tensor(model.tensors()[i++], t, bytes1, 0);
  for (dom::element t : t2) check_tensor(model.tensors()[i++], t, bytes2, 1);
  for (const auto& t : model.tensors()) CHECK(model.find_tensor(t.name) == &t);
}

TEST_CASE("GgufWriter reproduces every gguf-py fixture byte for byte") {
  for (dom::element e : array_of(expected_files())) {
    const std::string name(e["file"].get_string().value());
    CAPTURE(name);
    const auto bytes = slurp(fixture_dir / name);
    GgufWriter w(static_cast<uint32_t>(e["version"].get_uint64().value()));
    for (dom::element kv : array_of(e["metadata"]))
      w.set(std::string(kv["key"].get_string().value()), value_from_json(kv));
    for (dom::element t : array_of(e["tensors"])) {
      std::vector<int64_t> ne;
      for (dom::element d : array_of(t["ne"])) ne.push_back(d.get_int64().value());
      const auto at = t["data_offset"].get_uint64().value();
      const auto n = t["n_bytes"].get_uint64().value();
      REQUIRE(at + n <= bytes.size());
      w.add_tensor(std::string(t["name"].get_string().value()), dtype_named(t["type"].get_string().value()), ne,
                   std::span(bytes).subspan(at, n));
    }
    const auto written = w.to_bytes();
    REQUIRE(written.size() == bytes.size());
    size_t first_diff = 0;
    while (first_diff < bytes.size() && written[first_diff] == bytes[first_diff]) ++first_diff;
    CHECK_MESSAGE(first_diff == bytes.size(), "first differing byte at offset " << first_diff);
  }
}

TEST_CASE("written_by_ollm.gguf: ollm's writer output is stable and reads back") {
  // Regenerate with OLLM_WRITE_GGUF_FIXTURES=1, then check it with gguf-py:
  //   python3 scripts/fixtures/make_gguf_fixtures.py --check-ollm-file tests/data/gguf/written_by_ollm.gguf
  const auto path = fixture_dir / "written_by_ollm.gguf";
  const auto bytes = ollm_written_content().to_bytes();
  if (std::getenv("OLLM_WRITE_GGUF_FIXTURES") != nullptr) ollm_written_content().write(path);
  const auto committed = slurp(path);
  CHECK_MESSAGE(bytes == committed, "ollm's writer no longer produces the committed " << path
                                    << "; if intended, regenerate it and re-check it with gguf-py");
  const auto file = GgufFile::parse(bytes, "written_by_ollm.gguf");
  CHECK(file.alignment() == 16);
  CHECK(file.metadata().entries().size() == 19);
  CHECK(file.metadata().at("o.arr_empty").to_array("").size() == 0);
  REQUIRE(file.tensors().size() == 4);
  for (const auto& t : file.tensors()) CHECK((t.data.data() - bytes.data()) % 16 == 0);
  CHECK(std::equal(file.tensors()[2].data.begin(), file.tensors()[2].data.end(), ollm_pattern(66, 3).begin()));
}
