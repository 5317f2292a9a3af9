// config.json reader. Real configs differ by family and by transformers version: v4 writes
// rope_theta/rope_scaling, v5 writes rope_parameters; Gemma 3 multimodal nests the text model
// under text_config and, being a nested config, omits every key equal to its class default.
#include "format/hf_config.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "format/hparam_ranges.hpp"
#include "format/json.hpp"
#include "format/mapped_file.hpp"
#include "format/model_spec_internal.hpp"
#include "util/fail.hpp"
#include "util/printable.hpp"

namespace ollm {
namespace {

// The window rule applies when config.json has no layer_types list.
enum class WindowRule {
  none,         // llama, bert: the model classes have no sliding window (a stray key is ignored)
  all_layers,   // mistral, mixtral, phi3: the sliding window, if any, applies to every layer
  alternating,  // gemma2: even layers local, odd layers global
  pattern,      // gemma3: sliding_window_pattern - 1 local layers, then a global one
  qwen,         // qwen2/3: only with use_sliding_window, and only from max_window_layers on
};

// Defaults of the transformers config class, for keys a config.json may omit.
struct Family {
  std::string_view architecture;
  double norm_eps;
  double rope_theta;
  double rope_theta_local;       // gemma3's rope_local_base_freq; 0 = same as rope_theta
  uint32_t head_dim;             // 0: hidden_size / num_attention_heads
  uint32_t context_length;
  uint32_t sliding_window;       // when the key is absent (null always means none)
  WindowRule window_rule;
  bool tie_embeddings;
  uint32_t n_experts, n_experts_used, expert_ffn_size;
  double query_pre_attn_scalar;  // gemma: 256
  double attn_softcap, final_softcap;
};

constexpr std::array<Family, 10> families{{
    {"llama", 1e-6, 10000.0, 0, 0, 2048, 0, WindowRule::none, false, 0, 0, 0, 0, 0, 0},
    {"mistral", 1e-6, 10000.0, 0, 0, 131072, 4096, WindowRule::all_layers, false, 0, 0, 0, 0, 0, 0},
    {"mixtral", 1e-5, 1e6, 0, 0, 131072, 0, WindowRule::all_layers, false, 8, 2, 0, 0, 0, 0},
    {"qwen2", 1e-6, 10000.0, 0, 0, 32768, 4096, WindowRule::qwen, false, 0, 0, 0, 0, 0, 0},
    {"qwen3", 1e-6, 10000.0, 0, 128, 32768, 4096, WindowRule::qwen, false, 0, 0, 0, 0, 0, 0},
    {"qwen3moe", 1e-6, 10000.0, 0, 0, 32768, 4096, WindowRule::qwen, false, 128, 8, 768, 0, 0, 0},
    {"gemma2", 1e-6, 10000.0, 0, 256, 8192, 4096, WindowRule::alternating, true, 0, 0, 0, 256, 50.0, 30.0},
    {"gemma3", 1e-6, 1e6, 10000.0, 256, 131072, 4096, WindowRule::pattern, true, 0, 0, 0, 256, 0, 0},
    {"phi3", 1e-5, 10000.0, 0, 0, 4096, 0, WindowRule::all_layers, false, 0, 0, 0, 0, 0, 0},
    {"bert", 1e-12, 10000.0, 0, 0, 512, 0, WindowRule::none, true, 0, 0, 0, 0, 0, 0},
}};

struct ArchName {
  std::string_view hf;
  std::string_view ollm;
};

// architectures[0] values, then model_type values (used when architectures is absent).
constexpr std::array<ArchName, 23> arch_names{{
    {"LlamaForCausalLM", "llama"}, {"MistralForCausalLM", "mistral"}, {"MixtralForCausalLM", "mixtral"},
    {"Qwen2ForCausalLM", "qwen2"}, {"Qwen3ForCausalLM", "qwen3"}, {"Qwen3MoeForCausalLM", "qwen3moe"},
    {"Gemma2ForCausalLM", "gemma2"}, {"Gemma3ForCausalLM", "gemma3"}, {"Gemma3ForConditionalGeneration", "gemma3"},
    {"Phi3ForCausalLM", "phi3"}, {"BertModel", "bert"}, {"BertForMaskedLM", "bert"},
    {"llama", "llama"}, {"mistral", "mistral"}, {"mixtral", "mixtral"}, {"qwen2", "qwen2"}, {"qwen3", "qwen3"},
    {"qwen3_moe", "qwen3moe"}, {"gemma2", "gemma2"}, {"gemma3", "gemma3"}, {"gemma3_text", "gemma3"},
    {"phi3", "phi3"}, {"bert", "bert"},
}};

const Family& family_of(std::string_view architecture) {
  for (const auto& f : families)
    if (f.architecture == architecture) return f;
  fail(ErrorCode::internal, "[hf] no defaults for architecture '{}'", architecture);
}

}  // namespace

const std::string& known_architectures_list() {
  static const std::string list = [] {
    std::string out;
    for (const auto& f : families) out += (out.empty() ? "" : ", ") + std::string(f.architecture);
    return out;
  }();
  return list;
}

namespace {

// Typed access to one config object. `prefix` ("text_config.") makes messages name the full key.
// Null values count as absent: transformers writes null for "not set" (sliding_window, head_dim).
class Keys {
 public:
  Keys(simdjson::dom::object object, std::string prefix, const std::string& source, const SpecProblems& problems)
      : object_(object), prefix_(std::move(prefix)), source_(source), problems_(problems) {}

  // The raw value, null included.
  std::optional<simdjson::dom::element> raw(std::string_view key) const { return json_find(object_, key); }
  std::optional<simdjson::dom::element> find(std::string_view key) const {
    auto value = json_find(object_, key);
    if (!value || value->is_null()) return std::nullopt;
    return value;
  }
  std::string name(std::string_view key) const { return prefix_ + std::string(key); }

  std::optional<uint32_t> u32(std::string_view key) const {
    const auto value = find(key);
    if (!value) return std::nullopt;
    return to_u32(*value, name(key));
  }
  uint32_t u32(std::string_view key, uint32_t fallback) const { return u32(key).value_or(fallback); }
  uint32_t required_u32(std::string_view key) const {
    const auto value = json_find(object_, key);
    if (!value) fail(ErrorCode::invalid_model_file, "{}: required key '{}' is missing", source_, name(key));
    return to_u32(*value, name(key));
  }
  std::optional<double> f64(std::string_view key) const {
    const auto value = find(key);
    if (!value) return std::nullopt;
    return json_number(*value, name(key), source_);
  }
  // f64() of a value that must lie in `range`; one outside it is a problem naming the key.
  std::optional<double> real(std::string_view key, const RealRange& range) const {
    const auto value = f64(key);
    if (value && !range.contains(*value)) out_of_range(key, *value, range);
    return value;
  }
  // Absent: the family default; null: off (0); otherwise a number in `range`.
  double nullable_real(std::string_view key, double fallback, const RealRange& range) const {
    const auto value = raw(key);
    if (!value) return fallback;
    if (value->is_null()) return 0.0;
    const double v = json_number(*value, name(key), source_);
    if (!range.contains(v)) out_of_range(key, v, range);
    return v;
  }
  void out_of_range(std::string_view key, double value, const RealRange& range) const {
    problems_.add(ErrorCode::invalid_model_file, "{}: '{}' is {}, expected {}", source_, name(key), value, range.expected);
  }
  const SpecProblems& problems() const { return problems_; }
  std::optional<bool> boolean(std::string_view key) const {
    const auto value = find(key);
    if (!value) return std::nullopt;
    return json_bool(*value, name(key), source_);
  }
  std::optional<simdjson::dom::object> object(std::string_view key) const {
    const auto value = find(key);
    if (!value) return std::nullopt;
    return json_object(*value, name(key), source_);
  }
  const std::string& source() const { return source_; }

  // Integers, or numbers like 4096.0 that some tools write for integer fields.
  uint32_t to_u32(simdjson::dom::element value, const std::string& what) const {
    uint64_t v = 0;
    if (value.type() == simdjson::dom::element_type::DOUBLE) {
      const double d = value.get_double().value_unsafe();
      if (!(d >= 0 && d <= 4294967295.0 && d == std::floor(d)))
        fail(ErrorCode::invalid_model_file, "{}: '{}' is {}, expected a non-negative integer", source_, what, d);
      v = static_cast<uint64_t>(d);
    } else {
      v = json_uint64(value, what, source_);
    }
    if (v > UINT32_MAX) fail(ErrorCode::invalid_model_file, "{}: '{}' = {} is out of range", source_, what, v);
    return static_cast<uint32_t>(v);
  }

 private:
  simdjson::dom::object object_;
  std::string prefix_;
  const std::string& source_;
  const SpecProblems& problems_;
};

std::string_view architecture_of(simdjson::dom::object root, const std::string& source, std::string& hf_name) {
  const SpecProblems throwing(nullptr);
  const Keys keys(root, "", source, throwing);
  if (const auto archs = keys.find("architectures")) {
    const auto list = json_array(*archs, "architectures", source);
    if (list.size() > 0) {
      hf_name = std::string(json_string(list.at(0).value_unsafe(), "architectures[0]", source));
    }
  }
  std::string model_type;
  if (const auto mt = keys.find("model_type")) model_type = std::string(json_string(*mt, "model_type", source));
  if (hf_name.empty()) hf_name = model_type;
  if (hf_name.empty())
    fail(ErrorCode::invalid_model_file, "{}: neither 'architectures' nor 'model_type' names the architecture", source);
  if (const auto arch = normalised_hf_architecture(hf_name)) return *arch;
  fail(ErrorCode::unsupported, "{}: architecture '{}'{} is not supported (ollm reads {})", source, printable(hf_name),
       model_type.empty() || model_type == hf_name ? std::string() : fmt::format(" (model_type '{}')", printable(model_type)),
       known_architectures_list());
}

std::string normalised_rope_type(std::string_view type, const std::string& key, const std::string& source) {
  if (type == "default") return "none";
  if (type == "su") return "longrope";  // early Phi-3 configs
  for (const std::string_view known : {"linear", "dynamic", "yarn", "longrope", "llama3"})
    if (type == known) return std::string(type);
  fail(ErrorCode::unsupported, "{}: '{}' is '{}', a RoPE scaling ollm does not support", source, key, printable(type));
}

// rope_scaling (v4) or one rope_parameters entry (v5): same fields, "type" or "rope_type".
void read_rope_scaling(const Keys& rs, RopeScaling& out) {
  for (const std::string_view key : {"rope_type", "type"}) {
    if (const auto t = rs.find(key)) {
      out.type = normalised_rope_type(json_string(*t, rs.name(key), rs.source()), rs.name(key), rs.source());
      break;
    }
  }
  out.factor = rs.real("factor", positive_range).value_or(1.0);
  out.original_context = rs.u32("original_max_position_embeddings", 0);
  out.low_freq_factor = rs.real("low_freq_factor", positive_range).value_or(0.0);
  out.high_freq_factor = rs.real("high_freq_factor", positive_range).value_or(0.0);
  // llama3 scaling interpolates between the two wavelengths: (x - low) / (high - low).
  if (out.low_freq_factor > 0 && out.high_freq_factor > 0 && !(out.high_freq_factor > out.low_freq_factor))
    rs.problems().add(ErrorCode::invalid_model_file, "{}: '{}' {} must be greater than '{}' {}", rs.source(),
                      rs.name("high_freq_factor"), out.high_freq_factor, rs.name("low_freq_factor"), out.low_freq_factor);
  out.attention_factor = rs.real("attention_factor", off_or_positive_range).value_or(0.0);
  out.beta_fast = rs.real("beta_fast", off_or_positive_range).value_or(0.0);
  out.beta_slow = rs.real("beta_slow", off_or_positive_range).value_or(0.0);
}

void read_rope(const Keys& keys, const Family& family, HyperParams& hp) {
  hp.rope_base = family.rope_theta;
  hp.rope_base_local = family.rope_theta_local;
  double partial = keys.f64("partial_rotary_factor").value_or(1.0);
  if (const auto params = keys.object("rope_parameters")) {
    // transformers v5. Gemma 3 keys it by layer type; the others hold one set.
    const Keys p(*params, keys.name("rope_parameters."), keys.source(), keys.problems());
    const auto full = p.object("full_attention");
    const auto local = p.object("sliding_attention");
    if (full || local) {
      if (full) {
        const Keys f(*full, p.name("full_attention."), keys.source(), keys.problems());
        hp.rope_base = f.real("rope_theta", positive_range).value_or(hp.rope_base);
        read_rope_scaling(f, hp.rope_scaling);
      }
      if (local) {
        const Keys l(*local, p.name("sliding_attention."), keys.source(), keys.problems());
        hp.rope_base_local = l.real("rope_theta", positive_range).value_or(hp.rope_base_local);
      }
    } else {
      hp.rope_base = p.real("rope_theta", positive_range).value_or(hp.rope_base);
      partial = p.f64("partial_rotary_factor").value_or(partial);
      read_rope_scaling(p, hp.rope_scaling);
    }
  } else {
    hp.rope_base = keys.real("rope_theta", positive_range).value_or(hp.rope_base);
    hp.rope_base_local = keys.real("rope_local_base_freq", positive_range).value_or(hp.rope_base_local);
    if (const auto scaling = keys.object("rope_scaling"))
      read_rope_scaling(Keys(*scaling, keys.name("rope_scaling."), keys.source(), keys.problems()), hp.rope_scaling);
  }
  // Phi-3 longrope keeps the pre-extension context at the top level.
  if (hp.rope_scaling.original_context == 0) hp.rope_scaling.original_context = keys.u32("original_max_position_embeddings", 0);
  if (!(partial > 0.0 && partial <= 1.0))
    fail(ErrorCode::invalid_model_file, "{}: '{}' is {}, expected a value in (0, 1]", keys.source(),
         keys.name("partial_rotary_factor"), partial);
  hp.rope_dims = static_cast<uint32_t>(std::lround(hp.head_dim * partial));
  if (hp.rope_base_local == hp.rope_base) hp.rope_base_local = 0.0;  // "same as global" is spelled 0
}

// Fills sliding_window and sliding_window_layers (empty when no layer or every layer is local).
void read_sliding_window(const Keys& keys, const Family& family, HyperParams& hp) {
  uint32_t window = family.sliding_window;
  if (const auto value = keys.raw("sliding_window"))
    window = value->is_null() ? 0 : keys.to_u32(*value, keys.name("sliding_window"));
  if (family.window_rule == WindowRule::none) window = 0;
  if (family.window_rule == WindowRule::qwen && !keys.boolean("use_sliding_window").value_or(false)) window = 0;

  std::vector<bool> local(hp.n_layers, window > 0);
  if (const auto types = keys.find("layer_types")) {
    const auto list = json_array(*types, keys.name("layer_types"), keys.source());
    if (list.size() != hp.n_layers)
      fail(ErrorCode::invalid_model_file, "{}: '{}' has {} entries but '{}' is {}", keys.source(), keys.name("layer_types"),
           list.size(), keys.name("num_hidden_layers"), hp.n_layers);
    size_t i = 0;
    for (const auto item : list) {
      const auto what = fmt::format("{}[{}]", keys.name("layer_types"), i);
      const auto type = json_string(item, what, keys.source());
      if (type != "sliding_attention" && type != "full_attention")
        fail(ErrorCode::unsupported, "{}: '{}' is '{}', an attention type ollm does not support", keys.source(), what, type);
      local[i++] = window > 0 && type == "sliding_attention";
    }
  } else if (window > 0) {
    if (family.window_rule == WindowRule::alternating) {
      for (uint32_t i = 0; i < hp.n_layers; ++i) local[i] = i % 2 == 0;
    } else if (family.window_rule == WindowRule::pattern) {
      const uint32_t pattern = keys.u32("sliding_window_pattern", 6);
      if (pattern == 0) fail(ErrorCode::invalid_model_file, "{}: '{}' is 0", keys.source(), keys.name("sliding_window_pattern"));
      for (uint32_t i = 0; i < hp.n_layers; ++i) local[i] = (i + 1) % pattern != 0;
    } else if (family.window_rule == WindowRule::qwen) {
      const uint32_t first = keys.u32("max_window_layers", 28);
      for (uint32_t i = 0; i < hp.n_layers; ++i) local[i] = i >= first;
    }
  }
  const auto n_local = static_cast<uint32_t>(std::count(local.begin(), local.end(), true));
  hp.sliding_window = n_local == 0 ? 0 : window;
  if (n_local > 0 && n_local < hp.n_layers) hp.sliding_window_layers = std::move(local);
}

}  // namespace

std::optional<std::string_view> normalised_hf_architecture(std::string_view hf_name) noexcept {
  for (const auto& a : arch_names)
    if (a.hf == hf_name) return a.ollm;
  return std::nullopt;
}

HfConfig parse_hf_config(std::span<const uint8_t> bytes, std::string_view name, const SpecProblems& problems) {
  const std::string source = fmt::format("[hf] {}", name);
  const auto doc = JsonDocument::parse(bytes, source);
  const auto root = json_object(doc.root(), "config", source);
  // Python's json keeps the last of repeated keys, simdjson the first: refuse to guess.
  json_require_unique_keys(root, "the config", source);

  HfConfig out;
  out.architecture = std::string(architecture_of(root, source, out.hf_architecture));
  const Family& family = family_of(out.architecture);
  const Keys top(root, "", source, problems);

  // Gemma 3 multimodal: the language model's hyper-parameters live in text_config.
  std::optional<Keys> nested;
  if (const auto text = out.architecture == "gemma3" ? top.object("text_config") : std::nullopt) {
    json_require_unique_keys(*text, "'text_config'", source);
    nested.emplace(*text, "text_config.", source, problems);
  } else if (out.hf_architecture == "Gemma3ForConditionalGeneration") {
    fail(ErrorCode::invalid_model_file, "{}: required key 'text_config' is missing", source);
  }
  const Keys& keys = nested ? *nested : top;
  // A nested config omits keys equal to Gemma3TextConfig's defaults (2304 hidden, 26 layers, ...).
  const auto size = [&](std::string_view key, uint32_t nested_default) {
    return nested ? keys.u32(key, nested_default) : keys.required_u32(key);
  };

  auto& hp = out.hparams;
  hp.vocab_size = size("vocab_size", 262208);
  hp.hidden_size = size("hidden_size", 2304);
  hp.n_layers = size("num_hidden_layers", 26);
  hp.n_heads = size("num_attention_heads", 8);
  hp.ffn_size = size("intermediate_size", 9216);
  hp.n_kv_heads = keys.u32("num_key_value_heads", nested ? 4 : hp.n_heads);
  for (const auto& [key, value] : {std::pair{"vocab_size", hp.vocab_size}, std::pair{"hidden_size", hp.hidden_size},
                                   std::pair{"num_hidden_layers", hp.n_layers}})
    if (value == 0) fail(ErrorCode::invalid_model_file, "{}: '{}' is 0", source, keys.name(key));
  // The layer count sizes per-layer tables; real models stay far below this.
  constexpr uint32_t max_layers = 65536;
  if (hp.n_layers > max_layers)
    fail(ErrorCode::invalid_model_file, "{}: '{}' is {}, more than the {} layers ollm accepts", source,
         keys.name("num_hidden_layers"), hp.n_layers, max_layers);
  if (hp.n_heads == 0 || hp.n_kv_heads == 0 || hp.n_heads % hp.n_kv_heads != 0)
    fail(ErrorCode::invalid_model_file, "{}: {} attention heads cannot be grouped over {} KV heads", source, hp.n_heads,
         hp.n_kv_heads);
  if (const auto head_dim = keys.u32("head_dim")) {
    hp.head_dim = *head_dim;
  } else if (family.head_dim != 0) {
    hp.head_dim = family.head_dim;
  } else {
    // transformers derives it as hidden_size // num_attention_heads; a remainder means the
    // projections cannot have the shapes the config implies.
    hp.head_dim = hp.hidden_size / hp.n_heads;
    if (hp.hidden_size % hp.n_heads != 0)
      problems.add(ErrorCode::invalid_model_file,
                   "{}: hidden size {} is not divisible by {} heads ('{}', '{}'; there is no '{}' to give the head size)",
                   source, hp.hidden_size, hp.n_heads, keys.name("hidden_size"), keys.name("num_attention_heads"),
                   keys.name("head_dim"));
  }
  if (hp.head_dim == 0) fail(ErrorCode::invalid_model_file, "{}: '{}' is 0", source, keys.name("head_dim"));
  hp.head_dim_v = hp.head_dim;
  hp.context_length = keys.u32("max_position_embeddings", family.context_length);
  read_rope(keys, family, hp);
  hp.norm_eps = keys.find("rms_norm_eps") ? *keys.real("rms_norm_eps", norm_eps_range)
                                          : keys.real("layer_norm_eps", norm_eps_range).value_or(family.norm_eps);
  read_sliding_window(keys, family, hp);

  // Gemma 3 multimodal configs may keep tie_word_embeddings at the top level only.
  hp.tied_embeddings = keys.boolean("tie_word_embeddings").value_or(top.boolean("tie_word_embeddings").value_or(family.tie_embeddings));
  hp.n_experts = keys.u32("num_local_experts").value_or(keys.u32("num_experts", family.n_experts));
  hp.n_experts_used = keys.u32("num_experts_per_tok", family.n_experts_used);
  hp.expert_ffn_size = keys.u32("moe_intermediate_size", family.expert_ffn_size != 0 ? family.expert_ffn_size : hp.ffn_size);
  if (hp.n_experts == 0) hp.n_experts_used = hp.expert_ffn_size = 0;
  if (hp.n_experts_used > hp.n_experts)
    fail(ErrorCode::invalid_model_file, "{}: '{}' is {} but the model has {} experts", source,
         keys.name("num_experts_per_tok"), hp.n_experts_used, hp.n_experts);
  if (out.architecture == "qwen3moe") {
    // HyperParams cannot express dense layers between MoE layers.
    if (keys.u32("decoder_sparse_step", 1) != 1)
      fail(ErrorCode::unsupported, "{}: 'decoder_sparse_step' other than 1 (dense layers between MoE layers) is not supported", source);
    if (const auto dense = keys.find("mlp_only_layers"); dense && json_array(*dense, "mlp_only_layers", source).size() > 0)
      fail(ErrorCode::unsupported, "{}: 'mlp_only_layers' (dense layers in a MoE model) is not supported", source);
  }
  // transformers divides by a soft-cap that is not null, and scales by query_pre_attn_scalar**-0.5.
  hp.attn_logit_softcap = keys.nullable_real("attn_logit_softcapping", family.attn_softcap, positive_range);
  hp.final_logit_softcap = keys.nullable_real("final_logit_softcapping", family.final_softcap, positive_range);
  hp.query_pre_attn_scalar = keys.real("query_pre_attn_scalar", positive_range).value_or(family.query_pre_attn_scalar);
  return out;
}

HfConfig parse_hf_config(std::span<const uint8_t> bytes, std::string_view name) {
  return parse_hf_config(bytes, name, SpecProblems(nullptr));
}

HfConfig read_hf_config(const std::filesystem::path& path, const SpecProblems& problems) {
  const MappedFile file(path);
  return parse_hf_config(file.bytes(), path.string(), problems);
}

HfConfig read_hf_config(const std::filesystem::path& path) { return read_hf_config(path, SpecProblems(nullptr)); }

}  // namespace ollm
