// The decoder's weights bound from a ModelSpec's tensor table and placed on a device: on the CPU
// the matrices stay views into the mapped file (no copy); norm weights and biases become small f32
// vectors at load (any stored type, Gemma's +1 applied). Binding validates every shape and type
// (against what the device supports) and names what is missing.
#pragma once

#include <memory>
#include <vector>

#include "backend/backend.hpp"
#include "model/decoder_config.hpp"
#include "ollm/model_spec.hpp"

namespace ollm::model {

using backend::Vector;
using backend::Weight;

struct LayerWeights {
  Vector attn_norm, post_attn_norm, ffn_norm, post_ffn_norm;  // [hidden]
  Vector q_norm, k_norm;                                      // [head_dim]
  // Either separate q/k/v or one fused qkv ([q | k | v] rows, Phi-3).
  Weight q{}, k{}, v{}, qkv{}, o{};
  bool fused_qkv = false;
  Vector q_bias, k_bias, v_bias, o_bias;  // empty when absent
  // Dense MLP: gate/up separate or fused ([gate | up] rows, Phi-3).
  Weight gate{}, up{}, down{};
  bool fused_gate_up = false;
  // Mixture of experts: router [n_experts, hidden]; experts stacked [n_experts, ffn, hidden].
  Weight router{}, gate_exps{}, up_exps{}, down_exps{};
};

struct DecoderWeights {
  Weight embedding{};                  // [vocab, hidden]
  std::vector<LayerWeights> layers;
  Vector output_norm;                  // [hidden]
  // llama.cpp's converter bakes Llama 3 RoPE scaling into per-pair frequency divisors
  // ("rope_freqs.weight", [rot_dims / 2]) instead of metadata; empty when absent. A host copy:
  // the backend prepares the RoPE frequencies from it.
  std::vector<float> rope_freqs;
  Weight output{};                     // [vocab, hidden] (the embedding table when tied)
  uint64_t bytes_per_token = 0;        // weight bytes one decode step reads (for benchmarks)
};

// Throws Error(not_found) naming a missing tensor and the file, invalid_model_file for a shape
// that disagrees with the config, unsupported for a type the device's ops do not take.
DecoderWeights bind_decoder_weights(const ModelSpec& spec, const DecoderConfig& config, const backend::Device& device,
                                    backend::WeightStore& store);

}  // namespace ollm::model
