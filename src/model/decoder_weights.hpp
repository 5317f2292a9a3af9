// The decoder's weights bound from a ModelSpec's tensor table: matrices stay views into the
// mapped file (no copy); norm weights and biases become small f32 vectors at load (any stored
// type, Gemma's +1 applied). Binding validates every shape and names what is missing.
#pragma once

#include <memory>
#include <vector>

#include "cpu/matmul.hpp"
#include "model/decoder_config.hpp"
#include "ollm/model_spec.hpp"

namespace ollm::model {

struct LayerWeights {
  std::vector<float> attn_norm, post_attn_norm, ffn_norm, post_ffn_norm;  // [hidden]
  std::vector<float> q_norm, k_norm;                                      // [head_dim]
  // Either separate q/k/v or one fused qkv ([q | k | v] rows, Phi-3).
  cpu::WeightMatrix q{}, k{}, v{}, qkv{}, o{};
  bool fused_qkv = false;
  std::vector<float> q_bias, k_bias, v_bias, o_bias;  // empty when absent
  // Dense MLP: gate/up separate or fused ([gate | up] rows, Phi-3).
  cpu::WeightMatrix gate{}, up{}, down{};
  bool fused_gate_up = false;
  // Mixture of experts: router [n_experts, hidden]; experts stacked [n_experts, ffn, hidden].
  cpu::WeightMatrix router{}, gate_exps{}, up_exps{}, down_exps{};
};

struct DecoderWeights {
  DType embedding_type = DType::f32;
  const void* embedding = nullptr;     // [vocab, hidden] rows of embedding_type
  size_t embedding_row_stride = 0;
  std::vector<LayerWeights> layers;
  std::vector<float> output_norm;      // [hidden]
  // llama.cpp's converter bakes Llama 3 RoPE scaling into per-pair frequency divisors
  // ("rope_freqs.weight", [rot_dims / 2]) instead of metadata; empty when absent.
  std::vector<float> rope_freqs;
  cpu::WeightMatrix output{};          // [vocab, hidden] (the embedding table when tied)
  // Owned copies where the file's layout cannot be used in place (HF per-expert tensors
  // stacked into one [n_experts, ...] block).
  std::vector<std::unique_ptr<uint8_t[]>> owned;
  uint64_t bytes_per_token = 0;        // weight bytes one decode step reads (for benchmarks)
};

// Throws Error(not_found) naming a missing tensor and the file, invalid_model_file for a shape
// that disagrees with the config, unsupported for a type the matmul cannot take.
DecoderWeights bind_decoder_weights(const ModelSpec& spec, const DecoderConfig& config);

}  // namespace ollm::model
