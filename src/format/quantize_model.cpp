// GGUF → GGUF requantization: dequantize each matrix row to f32, quantize to the target type.
#include "ollm/quantize.hpp"

#include <cctype>
#include <optional>
#include <vector>

#include "cpu/dequantize.hpp"
#include "cpu/quantize.hpp"
#include "ollm/gguf.hpp"
#include "util/fail.hpp"

namespace ollm {
namespace {

// llama.cpp's llama_ftype for a uniform file of `type` (general.file_type), when it has one.
std::optional<uint32_t> file_type_of(DType type) {
  switch (type) {
    case DType::f32: return 0;
    case DType::f16: return 1;
    case DType::q4_0: return 2;
    case DType::q4_1: return 3;
    case DType::q8_0: return 7;
    case DType::q5_0: return 8;
    case DType::q5_1: return 9;
    case DType::q2_k: return 10;
    case DType::q3_k: return 11;  // Q3_K_S
    case DType::q4_k: return 14;  // Q4_K_S: every matrix Q4_K
    case DType::q5_k: return 16;  // Q5_K_S
    case DType::q6_k: return 18;
    case DType::iq4_nl: return 25;
    case DType::iq4_xs: return 30;
    case DType::bf16: return 32;
    default: return std::nullopt;
  }
}

}  // namespace

std::optional<DType> dtype_from_name(std::string_view name) noexcept {
  std::string lower;
  for (char c : name) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  static const std::pair<const char*, DType> table[] = {
      {"f32", DType::f32},       {"f16", DType::f16},     {"bf16", DType::bf16},   {"q4_0", DType::q4_0},
      {"q4_1", DType::q4_1},     {"q5_0", DType::q5_0},   {"q5_1", DType::q5_1},   {"q8_0", DType::q8_0},
      {"q2_k", DType::q2_k},     {"q3_k", DType::q3_k},   {"q4_k", DType::q4_k},   {"q5_k", DType::q5_k},
      {"q6_k", DType::q6_k},     {"iq4_nl", DType::iq4_nl}, {"iq4_xs", DType::iq4_xs},
  };
  for (const auto& [n, t] : table)
    if (lower == n) return t;
  return std::nullopt;
}

QuantizeReport quantize_model(const std::filesystem::path& in, const std::filesystem::path& out,
                              const QuantizeOptions& options) {
  if (!cpu::quantize_row_fn(options.type))
    fail(ErrorCode::unsupported, "[quantize] no quantizer for {}", dtype_name(options.type));
  if (!cpu::quantize_row_fn(options.fallback))
    fail(ErrorCode::unsupported, "[quantize] no quantizer for the fallback type {}", dtype_name(options.fallback));
  const auto target = *dtype_traits(options.type);
  const auto fallback = *dtype_traits(options.fallback);

  const GgufFile file = GgufFile::open(in);
  GgufWriter writer(file.version());
  for (const auto& [key, value] : file.metadata().entries()) writer.set(key, value);
  if (auto ft = file_type_of(options.type)) writer.set("general.file_type", *ft);

  QuantizeReport report;
  std::vector<float> row;
  std::vector<uint8_t> bytes;
  const auto& tensors = file.tensors();
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    report.tensors++;
    report.bytes_in += t.data.size();
    const bool matrix = t.dims.size() >= 2 && t.name.ends_with(".weight");
    const int64_t k = t.dims.empty() ? 0 : t.dims[0];
    DType to = t.type;
    if (matrix) {
      if (k % target.block_elements == 0) {
        to = options.type;
      } else if (k % fallback.block_elements == 0) {
        to = options.fallback;
      }
    }
    if (to == t.type) {
      writer.add_tensor(t.name, t.type, t.dims, t.data);
      report.bytes_out += t.data.size();
    } else {
      const auto dequant = cpu::dequantize_row_fn(t.type);
      if (!dequant)
        fail(ErrorCode::unsupported, "[quantize] {}: tensor '{}' is {}, which cannot be dequantized", in.string(),
             t.name, dtype_name(t.type));
      const int64_t rows = t.element_count() / k;
      const size_t in_row = dtype_row_bytes(t.type, k), out_row = dtype_row_bytes(to, k);
      row.resize(static_cast<size_t>(k));
      bytes.resize(out_row * static_cast<size_t>(rows));
      for (int64_t r = 0; r < rows; ++r) {
        dequant(t.data.data() + in_row * static_cast<size_t>(r), row.data(), k);
        cpu::quantize_row(to, row.data(), bytes.data() + out_row * static_cast<size_t>(r), k);
      }
      writer.add_tensor(t.name, to, t.dims, bytes);
      report.bytes_out += bytes.size();
      (to == options.type ? report.quantized : report.fallback)++;
    }
    if (options.progress && !options.progress(i + 1, tensors.size()))
      fail(ErrorCode::cancelled, "[quantize] cancelled after {} of {} tensors", i + 1, tensors.size());
  }
  writer.write(out);
  return report;
}

}  // namespace ollm
