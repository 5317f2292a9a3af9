// Hugging Face model directory → ModelSpec: config.json for the hyper-parameters, one
// model.safetensors or a model.safetensors.index.json with its shards for the weights.
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "format/hf_config.hpp"
#include "format/hf_tensor_names.hpp"
#include "format/json.hpp"
#include "format/model_spec_internal.hpp"
#include "format/safetensors.hpp"
#include "util/fail.hpp"
#include "util/log_internal.hpp"
#include "util/read_file.hpp"

namespace ollm {
namespace {

namespace fs = std::filesystem;

// Present at all: an entry of the wrong type (a directory, a FIFO, a link loop) is then opened
// and reported as what it is, not as missing.
bool is_file(const fs::path& path) { return path_entry_exists(path); }

// Index entries name files beside the index; anything else could reach outside the model directory.
void check_shard_name(std::string_view shard, std::string_view tensor, const std::string& source) {
  const fs::path p(shard);
  const bool plain = !shard.empty() && p.is_relative() &&
                     std::none_of(p.begin(), p.end(), [](const fs::path& part) { return part == ".."; });
  if (!plain)
    fail(ErrorCode::invalid_model_file, "{}: tensor '{}' is in shard '{}', which is not a file name inside the model directory",
         source, tensor, shard);
}

// Opens every shard the index names, once each, and checks each listed tensor is where the index says.
std::vector<SafetensorsFile> open_sharded(const fs::path& dir, const fs::path& index_path) {
  const auto doc = JsonDocument::load(index_path, "hf");
  const auto& source = doc.source();
  const auto root = json_object(doc.root(), "index", source);
  const auto weight_map_value = json_find(root, "weight_map");
  if (!weight_map_value) fail(ErrorCode::invalid_model_file, "{}: required key 'weight_map' is missing", source);
  const auto weight_map = json_object(*weight_map_value, "weight_map", source);
  json_require_unique_keys(weight_map, "'weight_map'", source);

  std::map<std::string, std::vector<std::string_view>, std::less<>> by_shard;  // sorted: deterministic order
  for (const auto entry : weight_map) {
    const auto shard = json_string(entry.value, fmt::format("weight_map.{}", entry.key), source);
    check_shard_name(shard, entry.key, source);
    by_shard[std::string(shard)].push_back(entry.key);
  }
  if (by_shard.empty()) fail(ErrorCode::invalid_model_file, "{}: 'weight_map' lists no tensors", source);

  std::vector<SafetensorsFile> shards;
  shards.reserve(by_shard.size());
  for (const auto& [shard, tensors] : by_shard) {
    const fs::path path = dir / shard;
    if (!is_file(path))
      fail(ErrorCode::io, "[hf] shard '{}' listed in '{}' does not exist", path.string(), index_path.string());
    shards.push_back(open_safetensors(path));
    for (const auto tensor : tensors)
      if (!shards.back().find_tensor(tensor))
        fail(ErrorCode::invalid_model_file, "{}: tensor '{}' is listed in shard '{}', which has no such tensor", source,
             tensor, shard);
  }
  return shards;
}

std::string directory_name(const fs::path& dir) {
  auto name = dir.filename();
  if (name.empty()) name = dir.parent_path().filename();  // "models/x/"
  return name.string();
}

}  // namespace

ModelSpec model_spec_from_hf_dir(const fs::path& dir, const SpecProblems& problems) {
  const fs::path config_path = dir / "config.json";
  if (!is_file(config_path)) fail(ErrorCode::io, "[hf] '{}' has no config.json", dir.string());
  const HfConfig config = read_hf_config(config_path, problems);

  const fs::path single = dir / "model.safetensors";
  const fs::path index = dir / "model.safetensors.index.json";
  std::vector<SafetensorsFile> files;
  if (is_file(single)) {
    files.push_back(open_safetensors(single));
  } else if (is_file(index)) {
    files = open_sharded(dir, index);
  } else if (is_file(dir / "pytorch_model.bin") || is_file(dir / "pytorch_model.bin.index.json")) {
    fail(ErrorCode::unsupported, "[hf] '{}' holds PyTorch pickle weights; ollm reads only safetensors (convert them first)",
         dir.string());
  } else {
    fail(ErrorCode::io, "[hf] '{}' has neither model.safetensors nor model.safetensors.index.json", dir.string());
  }

  ModelSpec spec;
  spec.architecture = config.architecture;
  spec.name = directory_name(dir);
  spec.format = ModelFormat::safetensors;
  spec.path = dir;
  spec.hparams = config.hparams;

  // Normalised name → where it came from, to reject two tensors landing on one name.
  struct Origin {
    std::string_view source_name;
    const fs::path* file;
  };
  std::unordered_map<std::string, Origin> taken;
  for (const auto& file : files) {
    const fs::path& path = file.mapping->path();
    for (const auto& t : file.tensors) {
      auto mapped = hf_tensor_gguf_name(spec.architecture, t.name);
      if (!mapped) detail::log(LogLevel::debug, "[hf] {}: tensor '{}' has no GGUF name; kept as is", path.string(), t.name);
      std::string name = mapped ? std::move(*mapped) : t.name;
      if (const auto [it, fresh] = taken.emplace(name, Origin{t.name, &path}); !fresh) {
        if (it->second.source_name == t.name)
          fail(ErrorCode::invalid_model_file, "[hf] tensor '{}' is in both '{}' and '{}'", t.name,
               it->second.file->string(), path.string());
        fail(ErrorCode::invalid_model_file, "[hf] {}: tensors '{}' and '{}' both map to '{}'", path.string(),
             it->second.source_name, t.name, name);
      }
      TensorInfo info;
      info.name = std::move(name);
      info.source_name = t.name;
      info.type = t.type;
      info.dims.assign(t.shape.rbegin(), t.shape.rend());  // ggml order: innermost first
      info.data = t.data;
      spec.tensors.push_back(std::move(info));
    }
  }

  // An untied model without its output projection is a broken download or conversion: tying it
  // to the embedding would produce some other model's logits.
  spec.hparams.tied_embeddings = config.hparams.tied_embeddings;
  if (!spec.hparams.tied_embeddings && !spec.find_tensor("output.weight"))
    problems.add(ErrorCode::invalid_model_file,
                 "[hf] {}: 'tie_word_embeddings' is false but no weights file holds 'lm_head.weight' (the output "
                 "projection)",
                 config_path.string());

  for (const auto& [field, file] : {std::pair{&spec.tokenizer.tokenizer_json, "tokenizer.json"},
                                    std::pair{&spec.tokenizer.tokenizer_config_json, "tokenizer_config.json"},
                                    std::pair{&spec.tokenizer.generation_config_json, "generation_config.json"}})
    if (is_file(dir / file)) *field = dir / file;

  auto mappings = std::make_shared<std::vector<std::shared_ptr<const MappedFile>>>();
  for (auto& file : files) mappings->push_back(std::move(file.mapping));
  spec.storage = std::move(mappings);
  return spec;
}

}  // namespace ollm
