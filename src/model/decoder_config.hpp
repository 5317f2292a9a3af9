// The one configurable decoder every supported family is expressed in: which norms sit where,
// which projections carry biases, the activation, RoPE variant, window pattern, experts,
// soft-capping. Family adapters (families.cpp) fill it from a ModelSpec; forward.cpp runs it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ollm/ops.hpp"

namespace ollm::model {

struct DecoderConfig {
  std::string architecture;
  int64_t vocab = 0;
  int64_t hidden = 0;
  int64_t n_layers = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  int head_dim_v = 0;
  int64_t ffn = 0;                 // dense MLP width (per expert width lives in expert_ffn)
  int64_t context_length = 0;
  float norm_eps = 1e-5f;

  // Norm placement. Pre-norms always; Gemma 2/3 add post-norms after attention and MLP.
  bool post_attention_norm = false;
  bool post_ffn_norm = false;
  bool qk_norm = false;            // Qwen 3, Gemma 3: RMSNorm over each head of Q and K
  // HF Gemma stores RMSNorm weights as w and computes x * (1 + w); the GGUF converter already
  // added the 1. Applied once at load to the f32 copies of the norm weights.
  float norm_weight_offset = 0.0f;

  Activation activation = Activation::silu;  // of the gated MLP

  // RoPE. Global layers use rope; sliding-window layers use rope_local when has_local_rope.
  RopeParams rope;
  bool has_local_rope = false;
  RopeParams rope_local;

  // Attention.
  float attention_scale = 0.0f;    // multiplies q·k; 1/sqrt(head_dim) unless the family says
  float attn_softcap = 0.0f;       // Gemma 2
  int64_t sliding_window = 0;      // 0 = none
  std::vector<bool> layer_is_local;  // [n_layers]: sliding-window layer?

  // Embeddings and output.
  float embedding_scale = 0.0f;    // Gemma: sqrt(hidden); 0 = none
  bool tied_embeddings = false;
  float final_softcap = 0.0f;      // Gemma 2

  // Mixture of experts (Mixtral, Qwen 3 MoE): every layer when n_experts > 0.
  int n_experts = 0;
  int n_experts_used = 0;
  int64_t expert_ffn = 0;
  bool normalize_expert_weights = true;  // renormalise the top-k router probabilities
};

}  // namespace ollm::model
