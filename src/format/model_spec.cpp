// read_model_spec(): picks the reader by what the path is, and the checks shared by all formats.
#include "format/model_spec_internal.hpp"
#include "ollm/model_spec.hpp"
#include "util/fail.hpp"

namespace ollm {

int64_t TensorInfo::element_count() const noexcept {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

const TensorInfo* ModelSpec::find_tensor(std::string_view tensor_name) const noexcept {
  for (const auto& t : tensors)
    if (t.name == tensor_name) return &t;
  return nullptr;
}

const TensorInfo& ModelSpec::tensor(std::string_view tensor_name) const {
  if (const auto* t = find_tensor(tensor_name)) return *t;
  fail(ErrorCode::not_found, "[model] '{}' ({}) has no tensor '{}'", path.string(), architecture, tensor_name);
}

uint64_t ModelSpec::total_tensor_bytes() const noexcept {
  uint64_t n = 0;
  for (const auto& t : tensors) n += t.data.size();
  return n;
}

void require_computable_types(const ModelSpec& spec) {
  for (const auto& t : spec.tensors) {
    const auto traits = dtype_traits(t.type);
    if (!traits || !traits->computable)
      fail(ErrorCode::unsupported, "[model] '{}': tensor '{}' has type {}, which ollm does not support", spec.path.string(),
           t.name, dtype_name(t.type));
  }
}

namespace {

ModelSpec read_spec(const std::filesystem::path& path, const SpecProblems& problems) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found)
    fail(ErrorCode::io, "[model] '{}' does not exist", path.string());
  // A symbolic link loop, a permission error: the OS's reason, not "does not exist".
  if (ec) fail(ErrorCode::io, "[model] cannot open '{}': {}", path.string(), ec.message());
  if (std::filesystem::is_directory(status)) return model_spec_from_hf_dir(path, problems);
  if (path.extension() == ".safetensors")
    fail(ErrorCode::invalid_argument, "[model] '{}' is a bare safetensors file: pass the model directory with its config.json",
         path.string());
  // A FIFO or device is refused by the open (never read, so never waited on).
  auto file = std::make_shared<const GgufFile>(GgufFile::open(path));
  return model_spec_from_gguf(std::move(file), path, problems);
}

}  // namespace

ModelSpec read_model_spec(const std::filesystem::path& path) { return read_spec(path, SpecProblems(nullptr)); }

ModelSpec read_model_spec(const std::filesystem::path& path, std::vector<Error>& problems) {
  return read_spec(path, SpecProblems(&problems));
}

}  // namespace ollm
