// ModelSpec: the one description of a model that every file format is read into —
// architecture, normalised hyper-parameters, the tensor table under one naming scheme
// (GGUF's: "token_embd.weight", "blk.3.attn_q.weight", ...) and the raw tokenizer metadata.
// Readers fill it; the model layer builds a network from it and never looks at files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ollm/error.hpp"
#include "ollm/export.h"
#include "ollm/gguf.hpp"
#include "ollm/types.hpp"

namespace ollm {

enum class ModelFormat { gguf, safetensors };

struct RopeScaling {
  std::string type = "none";        // none | linear | llama3 | yarn | longrope | dynamic
  double factor = 1.0;
  uint32_t original_context = 0;    // context length the base model was trained with
  double low_freq_factor = 0.0;     // llama3
  double high_freq_factor = 0.0;    // llama3
  double attention_factor = 0.0;    // yarn: 0 means "derive from factor"
  double beta_fast = 0.0;           // yarn
  double beta_slow = 0.0;           // yarn
};

struct HyperParams {
  uint32_t vocab_size = 0;
  uint32_t hidden_size = 0;        // n_embd
  uint32_t n_layers = 0;
  uint32_t n_heads = 0;
  uint32_t n_kv_heads = 0;         // = n_heads without grouped-query attention
  uint32_t head_dim = 0;           // per head, for queries and keys
  uint32_t head_dim_v = 0;         // per head, for values (usually = head_dim)
  uint32_t ffn_size = 0;           // intermediate size of the dense MLP
  uint32_t context_length = 0;     // maximum positions the model was trained for
  double rope_base = 10000.0;      // theta of the global (or only) attention layers
  double rope_base_local = 0.0;    // theta of sliding-window layers when different (Gemma 3); 0 = same
  uint32_t rope_dims = 0;          // rotated dimensions per head (partial rotary); = head_dim when full
  RopeScaling rope_scaling;
  double norm_eps = 1e-5;
  uint32_t sliding_window = 0;     // 0: no sliding-window layers
  // Which layers use the sliding window: empty when none or all (see sliding_window);
  // Gemma 3 has 5 local layers then 1 global, repeating.
  std::vector<bool> sliding_window_layers;
  bool tied_embeddings = false;    // output projection reuses the token embedding
  uint32_t n_experts = 0;          // mixture of experts: 0 for dense models
  uint32_t n_experts_used = 0;
  uint32_t expert_ffn_size = 0;
  uint32_t n_shared_experts = 0;
  double attn_logit_softcap = 0.0;   // Gemma 2: 0 = off
  double final_logit_softcap = 0.0;  // Gemma 2: 0 = off
  double query_pre_attn_scalar = 0.0;  // Gemma 2/3 attention scale 1/sqrt(this); 0 = head_dim
  double embedding_scale = 0.0;    // multiply embeddings by this (Gemma: sqrt(hidden)); 0 = none
};

struct TensorInfo {
  std::string name;          // normalised (GGUF) name
  std::string source_name;   // as stored in the file ("model.layers.3.self_attn.q_proj.weight")
  DType type = DType::f32;
  std::vector<int64_t> dims; // ggml order: dims[0] innermost (for a weight [n_out, n_in] row-major: {n_in, n_out})
  std::span<const uint8_t> data;  // zero-copy view into a mapped file
  int64_t element_count() const noexcept;
};

// Where the tokenizer comes from: the GGUF metadata ("tokenizer.ggml.*", "tokenizer.chat_template")
// or a Hugging Face directory's files (empty path = absent).
struct TokenizerSource {
  std::shared_ptr<const GgufFile> gguf;
  std::filesystem::path tokenizer_json;
  std::filesystem::path tokenizer_config_json;
  std::filesystem::path generation_config_json;
};

class OLLM_API ModelSpec {
 public:
  std::string architecture;   // normalised: llama, mistral, mixtral, qwen2, qwen3, qwen3moe, gemma2, gemma3, phi3, ...
  std::string name;           // human name when the file has one
  ModelFormat format = ModelFormat::gguf;
  std::filesystem::path path; // what was opened
  HyperParams hparams;
  std::vector<TensorInfo> tensors;
  TokenizerSource tokenizer;
  std::shared_ptr<const void> storage;  // keeps every mapping behind `tensors` alive

  const TensorInfo* find_tensor(std::string_view name) const noexcept;
  // Throws not_found naming the tensor and the model file.
  const TensorInfo& tensor(std::string_view name) const;
  uint64_t total_tensor_bytes() const noexcept;
};

// Reads a GGUF file (or the first of its splits) or a Hugging Face model directory
// (config.json + model.safetensors or model.safetensors.index.json + tokenizer files).
// A value that cannot work (an epsilon of NaN or below 0, a RoPE base of 0, head counts that do not
// divide the hidden size, an untied output projection with no tensor) throws invalid_model_file
// naming the file and the key.
OLLM_API ModelSpec read_model_spec(const std::filesystem::path& path);
// The same, but such problems are appended to `problems` instead of thrown, so that a tool can
// show what a bad file says beside what is wrong with it (`ollm inspect`). Files that cannot be
// described at all (malformed, a required key missing) still throw.
OLLM_API ModelSpec read_model_spec(const std::filesystem::path& path, std::vector<Error>& problems);
// Throws Error(unsupported) naming the first tensor whose type ollm cannot compute with
// (IQ2/IQ3/IQ1, TQ, MXFP4, FP8, ...); reading such files works, building a model does not.
OLLM_API void require_computable_types(const ModelSpec& spec);
// The same for an already-open GGUF file.
OLLM_API ModelSpec model_spec_from_gguf(std::shared_ptr<const GgufFile> file, const std::filesystem::path& path);

}  // namespace ollm
