// GGUF metadata → ModelSpec. Keys follow llama.cpp's conventions: "{arch}.embedding_length",
// "{arch}.attention.head_count", ... Tensor names are already in the normalised scheme.
#include <algorithm>
#include <cmath>

#include "format/hf_config.hpp"
#include "format/hparam_ranges.hpp"
#include "format/model_spec_internal.hpp"
#include "ollm/model_spec.hpp"
#include "util/fail.hpp"
#include "util/printable.hpp"

namespace ollm {
namespace {

// Reads "{arch}.{suffix}"; a per-layer array (some files store head counts per layer)
// yields its first element when all layers agree, otherwise an unsupported error.
class ArchKeys {
 public:
  ArchKeys(const GgufMetadata& md, std::string arch, std::string source, const SpecProblems& problems)
      : md_(md), arch_(std::move(arch)), source_(std::move(source)), problems_(problems) {}

  const GgufValue* find(std::string_view suffix) const { return md_.find(key(suffix)); }

  uint32_t u32(std::string_view suffix, uint32_t fallback) const {
    const auto* v = find(suffix);
    if (!v) return fallback;
    const auto k = key(suffix);
    uint64_t value = 0;
    if (v->type() == GgufValueType::array) value = uniform_array_value(*v, k);
    else value = v->to_uint64(k);
    if (value > UINT32_MAX) fail(ErrorCode::invalid_model_file, "[gguf] {}: '{}' = {} is out of range", source_, printable(k), value);
    return static_cast<uint32_t>(value);
  }

  uint32_t required_u32(std::string_view suffix) const {
    if (!find(suffix)) {
      // A file of an architecture llama.cpp's converter does not write (or a misspelt one) has
      // none of its keys: that is the problem to report, not the first key looked up.
      const std::string prefix = arch_ + ".";
      const bool any = std::any_of(md_.entries().begin(), md_.entries().end(),
                                   [&](const auto& entry) { return entry.first.starts_with(prefix); });
      if (!any)
        fail(ErrorCode::unsupported, "[gguf] {}: unsupported architecture '{}' (general.architecture): the file has no "
             "'{}.*' hyper-parameters, and ollm reads those of {}", source_, printable(arch_), printable(arch_),
             known_architectures_list());
      fail(ErrorCode::invalid_model_file, "[gguf] {}: required key '{}' is missing", source_, printable(key(suffix)));
    }
    return u32(suffix, 0);
  }

  // A real value, or `fallback` when the key is absent; a value outside `range` is a problem
  // naming the key (kept as read, so that a collecting reader shows what the file says).
  double real(std::string_view suffix, double fallback, const RealRange& range) const {
    const auto* v = find(suffix);
    if (!v) return fallback;
    const auto k = key(suffix);
    const double value = v->to_double(k);
    if (!range.contains(value))
      problems_.add(ErrorCode::invalid_model_file, "[gguf] {}: '{}' is {}, expected {}", source_, printable(k), value,
                    range.expected);
    return value;
  }

  void problem(std::string message) const { problems_.add(ErrorCode::invalid_model_file, "[gguf] {}: {}", source_, message); }

  std::string key(std::string_view suffix) const { return arch_ + "." + std::string(suffix); }
  // For messages: the key with any unprintable byte of the architecture escaped.
  std::string name(std::string_view suffix) const { return printable(key(suffix)); }

 private:
  uint64_t uniform_array_value(const GgufValue& v, const std::string& k) const {
    const auto& arr = v.to_array(k);
    uint64_t first = 0;
    bool have = false;
    std::visit(
        [&](const auto& items) {
          using E = typename std::decay_t<decltype(items)>::value_type;
          if constexpr (std::is_integral_v<E> && !std::is_same_v<E, bool>) {
            for (const auto& x : items) {
              if (x < 0) fail(ErrorCode::invalid_model_file, "[gguf] {}: '{}' holds a negative value", source_, printable(k));
              if (have && static_cast<uint64_t>(x) != first)
                fail(ErrorCode::unsupported, "[gguf] {}: '{}' differs between layers, which ollm does not support", source_, printable(k));
              first = static_cast<uint64_t>(x);
              have = true;
            }
          } else {
            fail(ErrorCode::invalid_model_file, "[gguf] {}: '{}' is an array of {}, expected integers", source_, printable(k),
                 gguf_value_type_name(static_cast<GgufValueType>(arr.items.index())));
          }
        },
        arr.items);
    if (!have) fail(ErrorCode::invalid_model_file, "[gguf] {}: '{}' is an empty array", source_, printable(k));
    return first;
  }

  const GgufMetadata& md_;
  std::string arch_;
  std::string source_;
  const SpecProblems& problems_;
};

void read_rope_scaling(const ArchKeys& keys, RopeScaling& rs) {
  if (const auto* t = keys.find("rope.scaling.type")) rs.type = t->to_string(keys.key("rope.scaling.type"));
  rs.factor = keys.real("rope.scaling.factor", 1.0, positive_range);
  rs.original_context = keys.u32("rope.scaling.original_context_length", 0);
  rs.attention_factor = keys.real("rope.scaling.attn_factor", 0.0, off_or_positive_range);
  rs.beta_fast = keys.real("rope.scaling.yarn_beta_fast", 0.0, off_or_positive_range);
  rs.beta_slow = keys.real("rope.scaling.yarn_beta_slow", 0.0, off_or_positive_range);
}

}  // namespace

ModelSpec model_spec_from_gguf(std::shared_ptr<const GgufFile> file, const std::filesystem::path& path,
                               const SpecProblems& problems) {
  ModelSpec spec;
  spec.format = ModelFormat::gguf;
  spec.path = path;
  const auto& md = file->metadata();
  const std::string source = path.string();
  const auto* arch_value = md.find("general.architecture");
  if (!arch_value) fail(ErrorCode::invalid_model_file, "[gguf] {}: 'general.architecture' is missing", source);
  spec.architecture = arch_value->to_string("general.architecture");
  if (spec.architecture.empty()) fail(ErrorCode::invalid_model_file, "[gguf] {}: 'general.architecture' is empty", source);
  spec.name = md.get_string("general.name", "");
  const ArchKeys keys(md, spec.architecture, source, problems);

  auto& hp = spec.hparams;
  hp.hidden_size = keys.required_u32("embedding_length");
  hp.n_layers = keys.required_u32("block_count");
  // Per-layer tables are sized by this; no real model comes near the cap (the HF reader uses the same).
  constexpr uint32_t max_layers = 65536;
  if (hp.n_layers == 0 || hp.n_layers > max_layers)
    fail(ErrorCode::invalid_model_file, "[gguf] {}: block_count {} is outside 1..{}", source, hp.n_layers, max_layers);
  hp.n_heads = keys.required_u32("attention.head_count");
  hp.n_kv_heads = keys.u32("attention.head_count_kv", hp.n_heads);
  if (hp.n_heads == 0 || hp.n_kv_heads == 0 || hp.n_heads % hp.n_kv_heads != 0)
    fail(ErrorCode::invalid_model_file, "[gguf] {}: {} attention heads cannot be grouped over {} KV heads", source,
         hp.n_heads, hp.n_kv_heads);
  if (hp.hidden_size == 0) keys.problem(fmt::format("'{}' is 0", keys.name("embedding_length")));
  if (keys.find("attention.key_length")) {
    hp.head_dim = keys.u32("attention.key_length", 0);
    if (hp.head_dim == 0) keys.problem(fmt::format("'{}' is 0", keys.name("attention.key_length")));
  } else {
    // llama.cpp derives the head size when the converter wrote none; it must come out whole.
    hp.head_dim = hp.hidden_size / hp.n_heads;
    if (hp.hidden_size % hp.n_heads != 0)
      keys.problem(fmt::format("hidden size {} is not divisible by {} heads ('{}', '{}'; there is no '{}' to give the "
                               "head size)", hp.hidden_size, hp.n_heads, keys.name("embedding_length"),
                               keys.name("attention.head_count"), keys.name("attention.key_length")));
  }
  hp.head_dim_v = keys.u32("attention.value_length", hp.head_dim);
  if (hp.head_dim_v == 0 && hp.head_dim != 0) keys.problem(fmt::format("'{}' is 0", keys.name("attention.value_length")));
  hp.ffn_size = keys.u32("feed_forward_length", 0);
  hp.context_length = keys.u32("context_length", 0);
  hp.rope_base = keys.real("rope.freq_base", 10000.0, positive_range);
  hp.rope_base_local = keys.real("rope.freq_base_swa", 0.0, positive_range);
  hp.rope_dims = keys.u32("rope.dimension_count", hp.head_dim);
  if (keys.find("rope.dimension_count") && hp.head_dim != 0 &&
      (hp.rope_dims == 0 || hp.rope_dims > hp.head_dim || hp.rope_dims % 2 != 0))
    keys.problem(fmt::format("'{}' is {}, expected an even number in 2..{} (the head size)",
                             keys.name("rope.dimension_count"), hp.rope_dims, hp.head_dim));
  read_rope_scaling(keys, hp.rope_scaling);
  hp.norm_eps = keys.find("attention.layer_norm_rms_epsilon")
                    ? keys.real("attention.layer_norm_rms_epsilon", 0.0, norm_eps_range)
                    : keys.real("attention.layer_norm_epsilon", 1e-5, norm_eps_range);
  hp.sliding_window = keys.u32("attention.sliding_window", 0);
  if (const uint32_t pattern = keys.u32("attention.sliding_window_pattern", 0); pattern > 0 && hp.sliding_window > 0) {
    // Every pattern-th layer is global, the others local (Gemma 3: 5 local, 1 global).
    hp.sliding_window_layers.resize(hp.n_layers);
    for (uint32_t i = 0; i < hp.n_layers; ++i) hp.sliding_window_layers[i] = (i + 1) % pattern != 0;
  }
  hp.n_experts = keys.u32("expert_count", 0);
  hp.n_experts_used = keys.u32("expert_used_count", 0);
  if (hp.n_experts > 0 && (hp.n_experts_used == 0 || hp.n_experts_used > hp.n_experts))
    keys.problem(fmt::format("'{}' is {}, expected 1..{} ('{}')", keys.name("expert_used_count"), hp.n_experts_used,
                             hp.n_experts, keys.name("expert_count")));
  hp.expert_ffn_size = keys.u32("expert_feed_forward_length", 0);
  hp.n_shared_experts = keys.u32("expert_shared_count", 0);
  // 0 is how llama.cpp's files say "no soft-capping".
  hp.attn_logit_softcap = keys.real("attn_logit_softcapping", 0.0, off_or_positive_range);
  hp.final_logit_softcap = keys.real("final_logit_softcapping", 0.0, off_or_positive_range);

  spec.tensors.reserve(file->tensors().size());
  for (const auto& t : file->tensors()) spec.tensors.push_back({t.name, t.name, t.type, t.dims, t.data});

  if (keys.find("vocab_size")) {
    hp.vocab_size = keys.u32("vocab_size", 0);
  } else if (const auto* tokens = md.find("tokenizer.ggml.tokens")) {
    const size_t n = tokens->to_array("tokenizer.ggml.tokens").size();
    if (n > UINT32_MAX)
      fail(ErrorCode::invalid_model_file, "[gguf] {}: 'tokenizer.ggml.tokens' holds {} tokens, more than 2^32 - 1", source, n);
    hp.vocab_size = static_cast<uint32_t>(n);
  } else if (const auto* embd = spec.find_tensor("token_embd.weight"); embd && embd->dims.size() == 2) {
    hp.vocab_size = embd->dims[1] > UINT32_MAX ? 0 : static_cast<uint32_t>(embd->dims[1]);
  }
  hp.tied_embeddings = spec.find_tensor("output.weight") == nullptr;

  spec.tokenizer.gguf = file;
  spec.storage = file->storage();
  return spec;
}

ModelSpec model_spec_from_gguf(std::shared_ptr<const GgufFile> file, const std::filesystem::path& path) {
  return model_spec_from_gguf(std::move(file), path, SpecProblems(nullptr));
}

}  // namespace ollm
