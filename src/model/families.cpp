// Family adapters. Sources for each family's conventions: transformers' modeling_<family>.py
// (the reference we match) and llama.cpp's converter / llm_build_* (how GGUF files store them:
// which tensors it permutes, which defaults it hard-codes instead of writing them to the file).
#include "model/families.hpp"

#include <algorithm>
#include <cmath>

#include "format/hparam_ranges.hpp"
#include "util/fail.hpp"
#include "util/printable.hpp"

namespace ollm::model {
namespace {

enum class Family { llama, qwen2, qwen3, gemma2, gemma3, phi3 };

struct FamilyInfo {
  std::string_view architecture;
  Family family;
};

constexpr FamilyInfo family_table[] = {
    {"llama", Family::llama},   {"mistral", Family::llama}, {"mixtral", Family::llama},
    {"qwen2", Family::qwen2},   {"qwen3", Family::qwen3},   {"qwen3moe", Family::qwen3},
    {"gemma2", Family::gemma2}, {"gemma3", Family::gemma3}, {"phi3", Family::phi3},
};

RopeScalingType rope_scaling_kind(const ModelSpec& spec) {
  const auto& type = spec.hparams.rope_scaling.type;
  if (type.empty() || type == "none" || type == "default") return RopeScalingType::none;
  if (type == "linear") return RopeScalingType::linear;
  if (type == "llama3") return RopeScalingType::llama3;
  if (type == "yarn") return RopeScalingType::yarn;
  fail(ErrorCode::unsupported, "[model] {}: RoPE scaling '{}' is not supported (none, linear, llama3, yarn are)",
       spec.path.string(), type);
}

RopeParams make_rope(const ModelSpec& spec, double theta, RopeLayout layout, bool with_scaling) {
  const auto& hp = spec.hparams;
  RopeParams p;
  p.head_dim = static_cast<int>(hp.head_dim);
  p.rot_dims = static_cast<int>(hp.rope_dims ? hp.rope_dims : hp.head_dim);
  p.theta_base = static_cast<float>(theta);
  p.layout = layout;
  p.scaling = with_scaling ? rope_scaling_kind(spec) : RopeScalingType::none;
  if (p.scaling != RopeScalingType::none) {
    const auto& rs = hp.rope_scaling;
    p.factor = static_cast<float>(rs.factor);
    if (rs.low_freq_factor > 0) p.low_freq_factor = static_cast<float>(rs.low_freq_factor);
    if (rs.high_freq_factor > 0) p.high_freq_factor = static_cast<float>(rs.high_freq_factor);
    if (rs.beta_fast > 0) p.beta_fast = static_cast<float>(rs.beta_fast);
    if (rs.beta_slow > 0) p.beta_slow = static_cast<float>(rs.beta_slow);
    if (rs.attention_factor > 0) p.attn_factor = static_cast<float>(rs.attention_factor);
    p.original_max_positions = rs.original_context;
    if (p.scaling == RopeScalingType::llama3 && p.original_max_positions == 0)
      fail(ErrorCode::invalid_model_file, "[model] {}: llama3 RoPE scaling needs the original context length",
           spec.path.string());
  }
  if (p.rot_dims <= 0 || p.rot_dims > p.head_dim || p.rot_dims % 2 != 0)
    fail(ErrorCode::invalid_model_file, "[model] {}: {} rotary dimensions do not fit head dim {}", spec.path.string(),
         p.rot_dims, p.head_dim);
  return p;
}

// The readers name the key of a bad value; this catches specs built or edited by hand, where a
// NaN epsilon or a zero RoPE base would otherwise run and produce NaN logits.
void check_real_hparams(const ModelSpec& spec) {
  const auto& hp = spec.hparams;
  const auto& rs = hp.rope_scaling;
  const struct {
    std::string_view field;
    double value;
    const RealRange& range;
  } checks[] = {
      {"norm_eps", hp.norm_eps, norm_eps_range},
      {"rope_base", hp.rope_base, positive_range},
      {"rope_base_local", hp.rope_base_local, off_or_positive_range},
      {"rope_scaling.factor", rs.factor, positive_range},
      {"rope_scaling.low_freq_factor", rs.low_freq_factor, off_or_positive_range},
      {"rope_scaling.high_freq_factor", rs.high_freq_factor, off_or_positive_range},
      {"rope_scaling.attention_factor", rs.attention_factor, off_or_positive_range},
      {"rope_scaling.beta_fast", rs.beta_fast, off_or_positive_range},
      {"rope_scaling.beta_slow", rs.beta_slow, off_or_positive_range},
      {"attn_logit_softcap", hp.attn_logit_softcap, off_or_positive_range},
      {"final_logit_softcap", hp.final_logit_softcap, off_or_positive_range},
      {"query_pre_attn_scalar", hp.query_pre_attn_scalar, off_or_positive_range},
      {"embedding_scale", hp.embedding_scale, off_or_positive_range},
  };
  for (const auto& c : checks)
    if (!c.range.contains(c.value))
      fail(ErrorCode::invalid_model_file, "[model] {}: hyper-parameter {} is {}, expected {}", spec.path.string(), c.field,
           c.value, c.range.expected);
}

}  // namespace

const std::vector<std::string>& supported_architectures() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& f : family_table) out.emplace_back(f.architecture);
    return out;
  }();
  return names;
}

DecoderConfig make_decoder_config(const ModelSpec& spec) {
  const auto it = std::find_if(std::begin(family_table), std::end(family_table),
                               [&](const FamilyInfo& f) { return f.architecture == spec.architecture; });
  if (it == std::end(family_table))
    fail(ErrorCode::unsupported, "[model] {}: architecture '{}' is not supported (supported: {})",
         spec.path.string(), printable(spec.architecture), fmt::join(supported_architectures(), ", "));
  const Family family = it->family;
  check_real_hparams(spec);
  const auto& hp = spec.hparams;
  const bool gguf = spec.format == ModelFormat::gguf;
  const std::string& where = spec.path.string();

  DecoderConfig c;
  c.architecture = spec.architecture;
  c.vocab = hp.vocab_size;
  c.hidden = hp.hidden_size;
  c.n_layers = hp.n_layers;
  c.n_heads = static_cast<int>(hp.n_heads);
  c.n_kv_heads = static_cast<int>(hp.n_kv_heads);
  c.head_dim = static_cast<int>(hp.head_dim);
  c.head_dim_v = static_cast<int>(hp.head_dim_v ? hp.head_dim_v : hp.head_dim);
  c.ffn = hp.ffn_size;
  c.context_length = hp.context_length;
  c.norm_eps = static_cast<float>(hp.norm_eps);
  c.tied_embeddings = hp.tied_embeddings;
  c.n_experts = static_cast<int>(hp.n_experts);
  c.n_experts_used = static_cast<int>(hp.n_experts_used);
  c.expert_ffn = hp.expert_ffn_size ? hp.expert_ffn_size : hp.ffn_size;
  c.sliding_window = hp.sliding_window;
  c.attn_softcap = static_cast<float>(hp.attn_logit_softcap);
  c.final_softcap = static_cast<float>(hp.final_logit_softcap);

  if (c.vocab <= 0 || c.hidden <= 0 || c.n_heads <= 0 || c.head_dim <= 0)
    fail(ErrorCode::invalid_model_file, "[model] {}: vocab {}, hidden {}, heads {}, head dim {} cannot form a decoder",
         where, c.vocab, c.hidden, c.n_heads, c.head_dim);
  if (c.n_experts > 0 && (c.n_experts_used <= 0 || c.n_experts_used > c.n_experts))
    fail(ErrorCode::invalid_model_file, "[model] {}: {} experts used of {}", where, c.n_experts_used, c.n_experts);

  // RoPE layout: HF checkpoints rotate halves (NeoX). llama.cpp's converter permutes the Q/K
  // rows of llama/mistral/mixtral into interleaved pairs; every other family keeps NeoX.
  const auto layout = family == Family::llama && gguf ? RopeLayout::normal : RopeLayout::neox;
  c.rope = make_rope(spec, hp.rope_base, layout, true);
  c.attention_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));

  // Which layers use the window. An empty list with a window means every layer.
  c.layer_is_local.assign(static_cast<size_t>(c.n_layers), false);
  if (c.sliding_window > 0) {
    if (!hp.sliding_window_layers.empty()) {
      for (size_t i = 0; i < c.layer_is_local.size() && i < hp.sliding_window_layers.size(); ++i)
        c.layer_is_local[i] = hp.sliding_window_layers[i];
    } else if (family == Family::gemma2) {
      // llama.cpp hard-codes Gemma 2's pattern (the converter writes no list): even layers local.
      for (int64_t i = 0; i < c.n_layers; ++i) c.layer_is_local[static_cast<size_t>(i)] = i % 2 == 0;
    } else if (family == Family::gemma3) {
      // ... and Gemma 3's: five local layers, then one global.
      for (int64_t i = 0; i < c.n_layers; ++i) c.layer_is_local[static_cast<size_t>(i)] = (i + 1) % 6 != 0;
    } else {
      std::fill(c.layer_is_local.begin(), c.layer_is_local.end(), true);
    }
  }

  switch (family) {
    case Family::llama:
    case Family::qwen2:
      c.activation = Activation::silu;
      break;
    case Family::qwen3:
      c.activation = Activation::silu;
      c.qk_norm = true;
      break;
    case Family::phi3:
      c.activation = Activation::silu;
      break;
    case Family::gemma2:
    case Family::gemma3: {
      c.activation = Activation::gelu_tanh;
      c.post_attention_norm = true;
      c.post_ffn_norm = true;
      c.qk_norm = family == Family::gemma3;
      c.embedding_scale = std::sqrt(static_cast<float>(c.hidden));
      c.norm_weight_offset = gguf ? 0.0f : 1.0f;
      // GGUF files carry no query_pre_attn_scalar; llama.cpp then scales by 1/sqrt(head_dim).
      if (hp.query_pre_attn_scalar > 0)
        c.attention_scale = static_cast<float>(1.0 / std::sqrt(hp.query_pre_attn_scalar));
      if (family == Family::gemma3) {
        // Local layers: their own base (llama.cpp's default 10000 when the GGUF has none) and
        // no position scaling; global layers keep rope_base and the file's scaling.
        const double local_base = hp.rope_base_local > 0 ? hp.rope_base_local : 10000.0;
        c.has_local_rope = true;
        c.rope_local = make_rope(spec, local_base, layout, false);
      }
      break;
    }
  }
  return c;
}

}  // namespace ollm::model
