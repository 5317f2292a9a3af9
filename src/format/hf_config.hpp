// Hugging Face config.json → ollm's normalised architecture name and HyperParams.
// Defaults for absent keys follow the transformers config class of each family.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ollm/model_spec.hpp"

namespace ollm {

struct HfConfig {
  std::string architecture;     // normalised: "llama", "gemma3", "qwen3moe", ...
  std::string hf_architecture;  // as written: architectures[0], or model_type when that is absent
  HyperParams hparams;          // tied_embeddings is the config's tie_word_embeddings (or its default)
};

// Parses a config.json image; messages start "[hf] {name}: ". Malformed JSON, wrong value types
// and missing required keys throw invalid_model_file naming the key; an architecture ollm does
// not implement throws unsupported naming it.
// A real value out of range (an rms_norm_eps of -1, a rope_theta of 0) is invalid_model_file too,
// naming the key; the overloads taking SpecProblems may collect such problems instead.
HfConfig parse_hf_config(std::span<const uint8_t> bytes, std::string_view name);
HfConfig read_hf_config(const std::filesystem::path& path);
class SpecProblems;
HfConfig parse_hf_config(std::span<const uint8_t> bytes, std::string_view name, const SpecProblems& problems);
HfConfig read_hf_config(const std::filesystem::path& path, const SpecProblems& problems);

// The architectures whose hyper-parameters ollm reads, in ollm's (and llama.cpp's GGUF) naming:
// "llama, mistral, ..." for messages about a file of some other architecture.
const std::string& known_architectures_list();

// "LlamaForCausalLM" or a model_type such as "llama" → "llama"; nullopt when ollm has no such family.
std::optional<std::string_view> normalised_hf_architecture(std::string_view hf_name) noexcept;

}  // namespace ollm
