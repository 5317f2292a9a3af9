// Internal entry points behind read_model_spec(): one per source format.
#pragma once

#include <filesystem>

#include "ollm/model_spec.hpp"

namespace ollm {

// A Hugging Face directory: config.json, weights in safetensors, tokenizer files.
ModelSpec model_spec_from_hf_dir(const std::filesystem::path& dir);

}  // namespace ollm
