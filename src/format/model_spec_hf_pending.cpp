#include "format/model_spec_internal.hpp"
#include "util/fail.hpp"
namespace ollm {
ModelSpec model_spec_from_hf_dir(const std::filesystem::path& dir) {
  fail(ErrorCode::unsupported, "[hf] '{}': Hugging Face directories are not readable yet", dir.string());
}
}  // namespace ollm
