// Name tables for the families ollm reads from Hugging Face directories, checked against
// gguf-py's TensorNameMap by tests/unit/test_model_spec_hf.cpp (fixture from make_hf_fixtures.py).
#include "format/hf_tensor_names.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace ollm {
namespace {

struct Rename {
  std::string_view from;
  std::string_view to;
};

constexpr std::array<Rename, 3> decoder_globals{{
    {"model.embed_tokens", "token_embd"}, {"model.norm", "output_norm"}, {"lm_head", "output"},
}};

constexpr std::array<Rename, 4> bert_globals{{
    {"embeddings.word_embeddings", "token_embd"},
    {"embeddings.position_embeddings", "position_embd"},
    {"embeddings.token_type_embeddings", "token_types"},
    {"embeddings.LayerNorm", "token_embd_norm"},
}};

// Inside "model.layers.N.", for every decoder family.
constexpr std::array<Rename, 20> decoder_block{{
    {"self_attn.q_proj", "attn_q"}, {"self_attn.k_proj", "attn_k"}, {"self_attn.v_proj", "attn_v"},
    {"self_attn.o_proj", "attn_output"}, {"self_attn.qkv_proj", "attn_qkv"},
    {"self_attn.q_norm", "attn_q_norm"}, {"self_attn.k_norm", "attn_k_norm"},
    {"input_layernorm", "attn_norm"},
    {"mlp.gate_proj", "ffn_gate"}, {"mlp.up_proj", "ffn_up"}, {"mlp.down_proj", "ffn_down"},
    {"mlp.gate_up_proj", "ffn_up"},  // phi3: gate and up fused, gate first
    {"block_sparse_moe.gate", "ffn_gate_inp"}, {"mlp.gate", "ffn_gate_inp"},
    // Already stacked [n_expert, ...] (not per expert).
    {"mlp.experts.gate_proj", "ffn_gate_exps"}, {"mlp.experts.up_proj", "ffn_up_exps"},
    {"mlp.experts.down_proj", "ffn_down_exps"}, {"block_sparse_moe.experts.w1", "ffn_gate_exps"},
    {"block_sparse_moe.experts.w2", "ffn_down_exps"}, {"block_sparse_moe.experts.w3", "ffn_up_exps"},
}};

constexpr std::array<Rename, 1> llama_norms{{{"post_attention_layernorm", "ffn_norm"}}};

// Gemma 2/3 normalise before and after both the attention and the MLP.
constexpr std::array<Rename, 3> gemma_norms{{
    {"post_attention_layernorm", "post_attention_norm"},
    {"pre_feedforward_layernorm", "ffn_norm"},
    {"post_feedforward_layernorm", "post_ffw_norm"},
}};

// Inside "model.layers.N.{prefix}E.": one expert's matrices.
struct ExpertLayout {
  std::string_view prefix;
  std::array<Rename, 3> names;
};
constexpr std::array<ExpertLayout, 2> expert_layouts{{
    {"block_sparse_moe.experts.", {{{"w1", "ffn_gate"}, {"w2", "ffn_down"}, {"w3", "ffn_up"}}}},  // mixtral
    {"mlp.experts.", {{{"gate_proj", "ffn_gate"}, {"up_proj", "ffn_up"}, {"down_proj", "ffn_down"}}}},  // qwen3moe
}};

// Inside "encoder.layer.N.".
constexpr std::array<Rename, 8> bert_block{{
    {"attention.self.query", "attn_q"}, {"attention.self.key", "attn_k"}, {"attention.self.value", "attn_v"},
    {"attention.output.dense", "attn_output"}, {"attention.output.LayerNorm", "attn_output_norm"},
    {"intermediate.dense", "ffn_up"}, {"output.dense", "ffn_down"}, {"output.LayerNorm", "layer_output_norm"},
}};

template <size_t N>
std::optional<std::string_view> lookup(const std::array<Rename, N>& table, std::string_view from) {
  for (const auto& r : table)
    if (r.from == from) return r.to;
  return std::nullopt;
}

bool consume(std::string_view& s, std::string_view prefix) {
  if (!s.starts_with(prefix)) return false;
  s.remove_prefix(prefix.size());
  return true;
}

// Reads "123." off the front of s: a layer or expert index.
std::optional<std::string_view> consume_index(std::string_view& s) {
  size_t n = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
  if (n == 0 || n > 9 || n == s.size() || s[n] != '.') return std::nullopt;
  const auto index = s.substr(0, n);
  s.remove_prefix(n + 1);
  return index;
}

std::optional<std::string> decoder_block_name(std::string_view arch, std::string_view rest) {
  if (auto to = lookup(decoder_block, rest)) return std::string(*to);
  const bool gemma = arch == "gemma2" || arch == "gemma3";
  if (auto to = gemma ? lookup(gemma_norms, rest) : lookup(llama_norms, rest)) return std::string(*to);
  for (const auto& layout : expert_layouts) {
    std::string_view r = rest;
    if (!consume(r, layout.prefix)) continue;
    const auto expert = consume_index(r);
    if (!expert) continue;
    if (auto to = lookup(layout.names, r)) return std::string(*to) + "." + std::string(*expert);
  }
  return std::nullopt;
}

template <size_t N>
std::optional<std::string_view> reverse_lookup(const std::array<Rename, N>& table, std::string_view to) {
  for (const auto& r : table)
    if (r.to == to) return r.from;
  return std::nullopt;
}

// "attn_q" inside a decoder block → "self_attn.q_proj" for `arch`.
std::optional<std::string> decoder_block_source(std::string_view arch, std::string_view rest) {
  const bool gemma = arch == "gemma2" || arch == "gemma3";
  const bool mixtral = arch == "mixtral";
  // Where the forward table has several sources for one name, the family decides.
  if (rest == "ffn_up" && arch == "phi3") return "mlp.gate_up_proj";
  if (rest == "ffn_gate_inp") return std::string(mixtral ? "block_sparse_moe.gate" : "mlp.gate");
  if (rest.ends_with("_exps")) {
    for (const auto& r : decoder_block)
      if (r.to == rest && r.from.starts_with("block_sparse_moe.") == mixtral) return std::string(r.from);
    return std::nullopt;
  }
  if (auto from = gemma ? reverse_lookup(gemma_norms, rest) : reverse_lookup(llama_norms, rest)) return std::string(*from);
  if (auto from = reverse_lookup(decoder_block, rest)) return std::string(*from);
  // One expert: "ffn_gate.3".
  const size_t dot = rest.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::string_view kind = rest.substr(0, dot);
  const std::string_view expert = rest.substr(dot + 1);
  if (expert.empty() || expert.size() > 9 ||
      !std::all_of(expert.begin(), expert.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  const auto& layout = expert_layouts[mixtral ? 0 : 1];
  if (auto from = reverse_lookup(layout.names, kind))
    return std::string(layout.prefix) + std::string(expert) + "." + std::string(*from);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> hf_tensor_gguf_name(std::string_view architecture, std::string_view hf_name) {
  std::string name(hf_name);
  const bool bert = architecture == "bert";
  if (architecture == "gemma3") {
    // Gemma3ForConditionalGeneration: "language_model.model.layers..." (transformers < 4.52) or
    // "model.language_model.layers..." (later); the converter drops "language_model." in both.
    if (const auto at = name.find("language_model."); at != std::string::npos) name.erase(at, 15);
  }
  std::string_view base = name;
  if (bert) consume(base, "bert.");  // BertForMaskedLM nests the encoder under "bert."

  std::string_view suffix;
  for (const std::string_view s : {".weight", ".bias"}) {
    if (base.ends_with(s)) {
      suffix = s;
      break;
    }
  }
  // Old BERT checkpoints name LayerNorm parameters gamma/beta (transformers renames them on load).
  if (suffix.empty() && bert) {
    if (base.ends_with(".gamma")) suffix = ".weight";
    else if (base.ends_with(".beta")) suffix = ".bias";
    if (!suffix.empty()) base.remove_suffix(base.ends_with(".gamma") ? 6 : 5);
  } else {
    base.remove_suffix(suffix.size());
  }
  if (suffix.empty()) return std::nullopt;

  if (auto to = bert ? lookup(bert_globals, base) : lookup(decoder_globals, base))
    return std::string(*to) + std::string(suffix);

  std::string_view rest = base;
  if (!consume(rest, bert ? "encoder.layer." : "model.layers.")) return std::nullopt;
  const auto layer = consume_index(rest);
  if (!layer) return std::nullopt;
  std::optional<std::string> mapped;
  if (bert) {
    if (auto to = lookup(bert_block, rest)) mapped = std::string(*to);
  } else {
    mapped = decoder_block_name(architecture, rest);
  }
  if (!mapped) return std::nullopt;
  std::string out = "blk.";
  out += *layer;
  out += '.';
  out += *mapped;
  out += suffix;
  return out;
}

std::optional<std::string> hf_tensor_source_name(std::string_view architecture, std::string_view gguf_name) {
  std::string_view base = gguf_name;
  std::string_view suffix;
  for (const std::string_view s : {".weight", ".bias"}) {
    if (base.ends_with(s)) {
      suffix = s;
      base.remove_suffix(s.size());
      break;
    }
  }
  if (suffix.empty()) return std::nullopt;
  const bool bert = architecture == "bert";
  if (auto from = bert ? reverse_lookup(bert_globals, base) : reverse_lookup(decoder_globals, base))
    return std::string(*from) + std::string(suffix);
  std::string_view rest = base;
  if (!consume(rest, "blk.")) return std::nullopt;
  const auto layer = consume_index(rest);
  if (!layer) return std::nullopt;
  std::optional<std::string> from;
  if (bert) {
    if (auto f = reverse_lookup(bert_block, rest)) from = std::string(*f);
  } else {
    from = decoder_block_source(architecture, rest);
  }
  if (!from) return std::nullopt;
  return std::string(bert ? "encoder.layer." : "model.layers.") + std::string(*layer) + "." + *from + std::string(suffix);
}

}  // namespace ollm
