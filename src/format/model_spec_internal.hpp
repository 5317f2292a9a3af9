// Internal entry points behind read_model_spec(): one per source format, and the sink that lets
// a reader either throw at the first bad value or collect them all (for `ollm inspect`).
#pragma once

#include <fmt/format.h>

#include <filesystem>
#include <utility>
#include <vector>

#include "ollm/error.hpp"
#include "ollm/model_spec.hpp"

namespace ollm {

// Problems with values a reader could still read (a NaN epsilon, a head count that does not
// divide the hidden size, a missing lm_head): thrown at once without a list, appended to it
// otherwise. Problems that leave nothing to describe (a missing key, a malformed file) always throw.
class SpecProblems {
 public:
  explicit SpecProblems(std::vector<Error>* collect) noexcept : collect_(collect) {}

  template <class... Args>
  void add(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) const {
    Error e(code, fmt::format(format, std::forward<Args>(args)...));
    if (!collect_) throw e;
    collect_->push_back(std::move(e));
  }

 private:
  std::vector<Error>* collect_;
};

// A Hugging Face directory: config.json, weights in safetensors, tokenizer files.
ModelSpec model_spec_from_hf_dir(const std::filesystem::path& dir, const SpecProblems& problems);
ModelSpec model_spec_from_gguf(std::shared_ptr<const GgufFile> file, const std::filesystem::path& path,
                               const SpecProblems& problems);

}  // namespace ollm
