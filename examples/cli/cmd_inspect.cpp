// `ollm inspect MODEL [--json] [--full-arrays]`: metadata, hyper-parameters and tensor table of a
// GGUF file or Hugging Face directory, read without loading weights. A file whose values cannot
// work (a NaN epsilon, a zero RoPE base) is still shown, followed by what is wrong with it, and
// the command exits 1: inspecting is how one finds out why a model does not load.
#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "json_out.hpp"
#include "ollm/model_spec.hpp"

namespace ollm_cli {
namespace {

constexpr size_t preview_elements = 8;  // array elements shown unless --full-arrays

struct InspectOptions {
  std::string model;
  bool json = false;
  bool full_arrays = false;
};

void json_array_items(JsonOut& j, const ollm::GgufArray& array, size_t limit);

void json_scalar(JsonOut& j, const ollm::GgufValue::Storage& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, ollm::GgufArray>) json_array_items(j, x, SIZE_MAX);
        else if constexpr (std::is_same_v<T, std::string>) j.value(std::string_view(x));
        else if constexpr (std::is_same_v<T, bool>) j.value(x);
        else if constexpr (std::is_floating_point_v<T>) j.value(static_cast<double>(x));
        else if constexpr (std::is_signed_v<T>) j.value(static_cast<int64_t>(x));
        else j.value(static_cast<uint64_t>(x));
      },
      v);
}

void json_array_items(JsonOut& j, const ollm::GgufArray& array, size_t limit) {
  j.begin_array();
  std::visit(
      [&](const auto& items) {
        using E = typename std::decay_t<decltype(items)>::value_type;
        for (size_t i = 0; i < items.size() && i < limit; ++i) {
          if constexpr (std::is_same_v<E, bool>) j.value(static_cast<bool>(items[i]));
          else json_scalar(j, ollm::GgufValue::Storage(items[i]));
        }
      },
      array.items);
  j.end_array();
}

std::string type_label(const ollm::GgufValue& v) {
  if (v.type() != ollm::GgufValueType::array) return std::string(ollm::gguf_value_type_name(v.type()));
  const auto& a = std::get<ollm::GgufArray>(v.storage());
  return fmt::format("array[{}]", ollm::gguf_value_type_name(a.element_type()));
}

std::string text_value(const ollm::GgufValue& v, bool full) {
  std::ostringstream os;
  JsonOut j(os);
  if (v.type() == ollm::GgufValueType::array) {
    const auto& a = std::get<ollm::GgufArray>(v.storage());
    json_array_items(j, a, full ? SIZE_MAX : preview_elements);
    std::string s = os.str();
    if (!full && a.size() > preview_elements) s = fmt::format("{}, ...] ({} elements)", s.substr(0, s.size() - 1), a.size());
    return s;
  }
  json_scalar(j, v.storage());
  return os.str();
}

void json_hparams(JsonOut& j, const ollm::HyperParams& hp) {
  j.begin_object();
  j.key("vocab_size").value(hp.vocab_size).key("hidden_size").value(hp.hidden_size);
  j.key("n_layers").value(hp.n_layers).key("n_heads").value(hp.n_heads).key("n_kv_heads").value(hp.n_kv_heads);
  j.key("head_dim").value(hp.head_dim).key("head_dim_v").value(hp.head_dim_v).key("ffn_size").value(hp.ffn_size);
  j.key("context_length").value(hp.context_length).key("rope_base").value(hp.rope_base);
  j.key("rope_base_local").value(hp.rope_base_local).key("rope_dims").value(hp.rope_dims);
  j.key("rope_scaling").begin_object().key("type").value(hp.rope_scaling.type).key("factor").value(hp.rope_scaling.factor);
  j.key("original_context").value(hp.rope_scaling.original_context).end_object();
  j.key("norm_eps").value(hp.norm_eps).key("sliding_window").value(hp.sliding_window);
  j.key("tied_embeddings").value(hp.tied_embeddings).key("n_experts").value(hp.n_experts);
  j.key("n_experts_used").value(hp.n_experts_used).key("expert_ffn_size").value(hp.expert_ffn_size);
  j.key("attn_logit_softcap").value(hp.attn_logit_softcap).key("final_logit_softcap").value(hp.final_logit_softcap);
  j.end_object();
}

int print_json(const ollm::ModelSpec& spec, const std::vector<ollm::Error>& problems, const InspectOptions& opt) {
  JsonOut j(std::cout);
  j.begin_object();
  j.key("path").value(spec.path.string());
  j.key("format").value(spec.format == ollm::ModelFormat::gguf ? "gguf" : "safetensors");
  j.key("architecture").value(spec.architecture);
  j.key("name").value(spec.name);
  if (const auto& gguf = spec.tokenizer.gguf) {
    j.key("version").value(gguf->version()).key("alignment").value(gguf->alignment());
    j.key("splits").value(static_cast<uint64_t>(gguf->split_count())).key("file_bytes").value(gguf->total_file_bytes());
    j.key("metadata").begin_array();
    for (const auto& [key, value] : gguf->metadata().entries()) {
      j.begin_object().key("key").value(key).key("type").value(ollm::gguf_value_type_name(value.type()));
      if (value.type() == ollm::GgufValueType::array) {
        const auto& a = std::get<ollm::GgufArray>(value.storage());
        j.key("element_type").value(ollm::gguf_value_type_name(a.element_type()));
        j.key("length").value(static_cast<uint64_t>(a.size()));
        j.key("value");
        json_array_items(j, a, opt.full_arrays ? SIZE_MAX : preview_elements);
        j.key("truncated").value(!opt.full_arrays && a.size() > preview_elements);
      } else {
        j.key("value");
        json_scalar(j, value.storage());
      }
      j.end_object();
    }
    j.end_array();
  }
  j.key("hparams");
  json_hparams(j, spec.hparams);
  j.key("tensors").begin_array();
  const auto* gguf = spec.tokenizer.gguf.get();
  for (const auto& t : spec.tensors) {
    j.begin_object().key("name").value(t.name).key("type").value(ollm::dtype_name(t.type));
    j.key("dims").begin_array();
    for (int64_t d : t.dims) j.value(d);
    j.end_array();
    if (const auto* info = gguf ? gguf->find_tensor(t.source_name) : nullptr) j.key("offset").value(info->offset);
    j.key("n_bytes").value(static_cast<uint64_t>(t.data.size()));
    if (t.source_name != t.name) j.key("source_name").value(t.source_name);
    j.end_object();
  }
  j.end_array();
  j.key("problems").begin_array();
  for (const auto& p : problems) j.begin_object().key("code").value(ollm::error_code_name(p.code())).key("message").value(p.what()).end_object();
  j.end_array();
  j.end_object();
  std::cout << '\n';
  return 0;
}

int print_text(const ollm::ModelSpec& spec, const InspectOptions& opt) {
  const auto& hp = spec.hparams;
  fmt::print("model: {}\n", spec.path.string());
  fmt::print("architecture: {}{}\n", spec.architecture, spec.name.empty() ? "" : fmt::format("  ({})", spec.name));
  if (const auto& gguf = spec.tokenizer.gguf)
    fmt::print("format: GGUF v{}, {} file(s), {} bytes, alignment {}\n", gguf->version(), gguf->split_count(),
               gguf->total_file_bytes(), gguf->alignment());
  else
    fmt::print("format: Hugging Face safetensors\n");
  fmt::print("layers {} · hidden {} · heads {} (kv {}) · head dim {} · ffn {} · vocab {} · context {}\n", hp.n_layers,
             hp.hidden_size, hp.n_heads, hp.n_kv_heads, hp.head_dim, hp.ffn_size, hp.vocab_size, hp.context_length);
  fmt::print("rope base {} · rope dims {} · norm eps {} · sliding window {} · tied embeddings {}\n", hp.rope_base,
             hp.rope_dims, hp.norm_eps, hp.sliding_window, hp.tied_embeddings ? "yes" : "no");
  if (hp.n_experts) fmt::print("experts {} (used {}) · expert ffn {}\n", hp.n_experts, hp.n_experts_used, hp.expert_ffn_size);
  if (const auto& gguf = spec.tokenizer.gguf) {
    fmt::print("\nmetadata ({} keys):\n", gguf->metadata().entries().size());
    for (const auto& [key, value] : gguf->metadata().entries())
      fmt::print("  {:<45} {:<14} {}\n", key, type_label(value), text_value(value, opt.full_arrays));
  }
  fmt::print("\ntensors ({}, {} bytes):\n", spec.tensors.size(), spec.total_tensor_bytes());
  for (const auto& t : spec.tensors)
    fmt::print("  {:<40} {:<8} [{}]\n", t.name, ollm::dtype_name(t.type), fmt::join(t.dims, ", "));
  return 0;
}

}  // namespace

Command add_inspect_command(CLI::App& app) {
  auto opt = std::make_shared<InspectOptions>();
  auto* cmd = app.add_subcommand("inspect", "Show a model file's metadata, hyper-parameters and tensors");
  cmd->add_option("model", opt->model, "GGUF file (first split of a split model) or Hugging Face directory")->required();
  cmd->add_flag("--json", opt->json, "Machine-readable output");
  cmd->add_flag("--full-arrays", opt->full_arrays, "Print every element of array values (token lists can be long)");
  return {cmd, [opt] {
            std::vector<ollm::Error> problems;
            const auto spec = ollm::read_model_spec(opt->model, problems);
            if (opt->json) print_json(spec, problems, *opt);
            else print_text(spec, *opt);
            std::cout.flush();
            std::fflush(stdout);
            for (const auto& p : problems)
              fmt::print(stderr, "ollm inspect: invalid ({}): {}\n", ollm::error_code_name(p.code()), p.what());
            return problems.empty() ? 0 : exit_failure;
          }};
}

}  // namespace ollm_cli
