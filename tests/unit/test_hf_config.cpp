// config.json reader: real configs compared field by field with what transformers' config classes
// resolve (expected.json), then defaults, nulls, and every malformed case with its exact message.
#include <doctest/doctest.h>

#include <cmath>

#include "format/hf_config.hpp"
#include "hf_test_support.hpp"

using namespace ollm;
using hf_test::check_error;

namespace {

HfConfig parse(std::string_view json) {
  return parse_hf_config(std::span(reinterpret_cast<const uint8_t*>(json.data()), json.size()), "config.json");
}

void check_config_error(std::string_view json, ErrorCode code, std::string_view message) {
  check_error([&] { (void)parse(json); }, code, message);
}

// A minimal valid llama config; keys in `extra` replace the defaults of the same name.
std::string llama(std::string_view extra = "") {
  const std::pair<const char*, const char*> base[] = {
      {"architectures", R"(["LlamaForCausalLM"])"}, {"vocab_size", "32"}, {"hidden_size", "16"},
      {"num_hidden_layers", "2"}, {"num_attention_heads", "4"}, {"intermediate_size", "24"}};
  std::string out = "{" + std::string(extra);
  for (const auto& [key, value] : base)
    if (extra.find(fmt::format("\"{}\":", key)) == std::string_view::npos)
      out += fmt::format("{}\"{}\":{}", out.size() > 1 ? "," : "", key, value);
  return out + "}";
}

double number(simdjson::dom::element e) { return e.get_double().value(); }

}  // namespace

TEST_CASE("real configs read as transformers resolves them") {
  for (const auto entry : hf_test::object_of(hf_test::expected()["configs"])) {
    const auto name = entry.key;  // not a structured binding: clang 14 cannot capture those
    const auto want_value = entry.value;
    CAPTURE(name);
    const auto cfg = read_hf_config(hf_test::data_dir / "configs" / (std::string(name) + ".json"));
    const auto want = want_value.get_object().value();
    const auto& hp = cfg.hparams;
    CHECK(cfg.architecture == want["architecture"].get_string().value());
    CHECK(hp.vocab_size == want["vocab_size"].get_uint64().value());
    CHECK(hp.hidden_size == want["hidden_size"].get_uint64().value());
    CHECK(hp.n_layers == want["n_layers"].get_uint64().value());
    CHECK(hp.n_heads == want["n_heads"].get_uint64().value());
    CHECK(hp.n_kv_heads == want["n_kv_heads"].get_uint64().value());
    CHECK(hp.head_dim == want["head_dim"].get_uint64().value());
    CHECK(hp.head_dim_v == hp.head_dim);
    CHECK(hp.ffn_size == want["ffn_size"].get_uint64().value());
    CHECK(hp.context_length == want["context_length"].get_uint64().value());
    CHECK(hp.rope_base == number(want["rope_base"]));
    CHECK(hp.rope_base_local == number(want["rope_base_local"]));
    CHECK(hp.rope_dims == want["rope_dims"].get_uint64().value());
    const auto rs = want["rope_scaling"];
    CHECK(hp.rope_scaling.type == rs["type"].get_string().value());
    CHECK(hp.rope_scaling.factor == number(rs["factor"]));
    CHECK(hp.rope_scaling.original_context == rs["original_context"].get_uint64().value());
    CHECK(hp.rope_scaling.low_freq_factor == number(rs["low_freq_factor"]));
    CHECK(hp.rope_scaling.high_freq_factor == number(rs["high_freq_factor"]));
    CHECK(hp.norm_eps == number(want["norm_eps"]));
    CHECK(hp.sliding_window == want["sliding_window"].get_uint64().value());
    std::vector<bool> layers;
    for (const auto b : hf_test::array_of(want["sliding_window_layers"])) layers.push_back(b.get_bool().value());
    CHECK(hp.sliding_window_layers == layers);
    CHECK(hp.tied_embeddings == want["tied_embeddings"].get_bool().value());
    CHECK(hp.n_experts == want["n_experts"].get_uint64().value());
    CHECK(hp.n_experts_used == want["n_experts_used"].get_uint64().value());
    CHECK(hp.expert_ffn_size == want["expert_ffn_size"].get_uint64().value());
    CHECK(hp.attn_logit_softcap == number(want["attn_logit_softcap"]));
    CHECK(hp.final_logit_softcap == number(want["final_logit_softcap"]));
    CHECK(hp.query_pre_attn_scalar == number(want["query_pre_attn_scalar"]));
  }
}

TEST_CASE("architecture names") {
  CHECK(normalised_hf_architecture("Gemma3ForConditionalGeneration") == "gemma3");
  CHECK(normalised_hf_architecture("gemma3_text") == "gemma3");
  CHECK(normalised_hf_architecture("Qwen3MoeForCausalLM") == "qwen3moe");
  CHECK(normalised_hf_architecture("BertModel") == "bert");
  CHECK(!normalised_hf_architecture("GPT2LMHeadModel"));
  CHECK(parse(R"({"model_type":"mistral","vocab_size":32,"hidden_size":16,"num_hidden_layers":2,)"
              R"("num_attention_heads":4,"intermediate_size":24})")
            .architecture == "mistral");
  const auto cfg = parse(llama());
  CHECK(cfg.hf_architecture == "LlamaForCausalLM");
  check_config_error(R"({"architectures":["GPT2LMHeadModel"],"model_type":"gpt2"})", ErrorCode::unsupported,
                     "[hf] config.json: architecture 'GPT2LMHeadModel' (model_type 'gpt2') is not supported (ollm reads "
                     "llama, mistral, mixtral, qwen2, qwen3, qwen3moe, gemma2, gemma3, phi3, bert)");
  check_config_error(R"({"model_type":"rwkv"})", ErrorCode::unsupported,
                     "[hf] config.json: architecture 'rwkv' is not supported (ollm reads llama, mistral, mixtral, qwen2, "
                     "qwen3, qwen3moe, gemma2, gemma3, phi3, bert)");
  check_config_error(R"({"architectures":[]})", ErrorCode::invalid_model_file,
                     "[hf] config.json: neither 'architectures' nor 'model_type' names the architecture");
  check_config_error(R"({"architectures":"LlamaForCausalLM"})", ErrorCode::invalid_model_file,
                     "[hf] config.json: 'architectures' is string, expected an array");
  check_config_error(R"({"architectures":[7]})", ErrorCode::invalid_model_file,
                     "[hf] config.json: 'architectures[0]' is integer, expected a string");
}

TEST_CASE("defaults of absent keys") {
  const auto hp = parse(llama()).hparams;
  CHECK(hp.n_kv_heads == 4);
  CHECK(hp.head_dim == 4);
  CHECK(hp.context_length == 2048);
  CHECK(hp.rope_base == 10000.0);
  CHECK(hp.rope_dims == 4);
  CHECK(hp.rope_scaling.type == "none");
  CHECK(hp.norm_eps == 1e-6);
  CHECK(!hp.tied_embeddings);
  CHECK(hp.sliding_window == 0);
  // Qwen3's class default head_dim is 128, not hidden/heads; Gemma ties embeddings by default.
  CHECK(parse(R"({"architectures":["Qwen3ForCausalLM"],"vocab_size":32,"hidden_size":16,"num_hidden_layers":2,)"
              R"("num_attention_heads":4,"intermediate_size":24})")
            .hparams.head_dim == 128);
  const auto g2 = parse(R"({"architectures":["Gemma2ForCausalLM"],"vocab_size":32,"hidden_size":16,)"
                        R"("num_hidden_layers":4,"num_attention_heads":4,"intermediate_size":24})")
                      .hparams;
  CHECK(g2.tied_embeddings);
  CHECK(g2.attn_logit_softcap == 50.0);
  CHECK(g2.sliding_window == 4096);
  CHECK(g2.sliding_window_layers == std::vector<bool>{true, false, true, false});
}

TEST_CASE("nulls mean 'not set'") {
  const auto hp = parse(llama(R"("num_key_value_heads":null,"head_dim":null,"rope_scaling":null,"sliding_window":null)")).hparams;
  CHECK(hp.n_kv_heads == 4);
  CHECK(hp.head_dim == 4);
  CHECK(hp.sliding_window == 0);
  // Gemma 2 with null softcaps: off, not the family default.
  const auto g2 = parse(R"({"architectures":["Gemma2ForCausalLM"],"attn_logit_softcapping":null,"vocab_size":32,)"
                        R"("hidden_size":16,"num_hidden_layers":2,"num_attention_heads":4,"intermediate_size":24})")
                      .hparams;
  CHECK(g2.attn_logit_softcap == 0.0);
  CHECK(g2.final_logit_softcap == 30.0);
}

TEST_CASE("sliding windows") {
  // Mistral v0.1: every layer.
  auto hp = parse(llama(R"("architectures":["MistralForCausalLM"],"sliding_window":8)")).hparams;
  CHECK(hp.sliding_window == 8);
  CHECK(hp.sliding_window_layers.empty());
  // Qwen2 with use_sliding_window: layers from max_window_layers on.
  hp = parse(llama(R"("architectures":["Qwen2ForCausalLM"],"use_sliding_window":true,"sliding_window":8,"max_window_layers":1)")).hparams;
  CHECK(hp.sliding_window == 8);
  CHECK(hp.sliding_window_layers == std::vector<bool>{false, true});
  hp = parse(llama(R"("architectures":["Qwen2ForCausalLM"],"use_sliding_window":false,"sliding_window":8)")).hparams;
  CHECK(hp.sliding_window == 0);
  // Llama has no sliding window: a stray key is ignored.
  hp = parse(llama(R"("sliding_window":8)")).hparams;
  CHECK(hp.sliding_window == 0);
  // layer_types wins over the family rule; all-full means no window.
  const std::string mistral = R"("architectures":["MistralForCausalLM"],"sliding_window":8,)";
  hp = parse(llama(mistral + R"("layer_types":["full_attention","sliding_attention"])")).hparams;
  CHECK(hp.sliding_window_layers == std::vector<bool>{false, true});
  hp = parse(llama(mistral + R"("layer_types":["full_attention","full_attention"])")).hparams;
  CHECK(hp.sliding_window == 0);
  CHECK(hp.sliding_window_layers.empty());
  // Gemma 3 with an explicit older-style pattern.
  hp = parse(R"({"architectures":["Gemma3ForCausalLM"],"sliding_window":4,"sliding_window_pattern":2,"vocab_size":32,)"
             R"("hidden_size":16,"num_hidden_layers":4,"num_attention_heads":4,"intermediate_size":24})")
           .hparams;
  CHECK(hp.sliding_window_layers == std::vector<bool>{true, false, true, false});
  check_config_error(llama(mistral + R"("layer_types":["full_attention"])"), ErrorCode::invalid_model_file,
                     "[hf] config.json: 'layer_types' has 1 entries but 'num_hidden_layers' is 2");
  check_config_error(llama(mistral + R"("layer_types":["full_attention","chunked_attention"])"),
                     ErrorCode::unsupported,
                     "[hf] config.json: 'layer_types[1]' is 'chunked_attention', an attention type ollm does not support");
  check_config_error(llama(R"("layer_types":["full_attention",3])"), ErrorCode::invalid_model_file,
                     "[hf] config.json: 'layer_types[1]' is integer, expected a string");
  check_config_error(llama(R"("sliding_window":"4096")"), ErrorCode::invalid_model_file,
                     "[hf] config.json: 'sliding_window' is string, expected a non-negative integer");
}

TEST_CASE("rope settings") {
  auto hp = parse(llama(R"("rope_scaling":{"type":"yarn","factor":4,"original_max_position_embeddings":32768,)"
                        R"("attention_factor":0.5,"beta_fast":32,"beta_slow":1})"))
                .hparams;
  CHECK(hp.rope_scaling.type == "yarn");
  CHECK(hp.rope_scaling.factor == 4.0);
  CHECK(hp.rope_scaling.original_context == 32768);
  CHECK(hp.rope_scaling.attention_factor == 0.5);
  CHECK(hp.rope_scaling.beta_fast == 32.0);
  CHECK(hp.rope_scaling.beta_slow == 1.0);
  hp = parse(llama(R"("rope_scaling":{"type":"su"},"partial_rotary_factor":0.5)")).hparams;
  CHECK(hp.rope_scaling.type == "longrope");
  CHECK(hp.rope_dims == 2);
  check_config_error(llama(R"("rope_scaling":{"rope_type":"mrope"})"), ErrorCode::unsupported,
                     "[hf] config.json: 'rope_scaling.rope_type' is 'mrope', a RoPE scaling ollm does not support");
  check_config_error(llama(R"("rope_scaling":{"type":"linear","factor":"8"})"), ErrorCode::invalid_model_file,
                     "[hf] config.json: 'rope_scaling.factor' is string, expected a number");
  check_config_error(llama(R"("rope_scaling":[1])"), ErrorCode::invalid_model_file,
                     "[hf] config.json: 'rope_scaling' is array, expected an object");
  check_config_error(llama(R"("partial_rotary_factor":1.5)"), ErrorCode::invalid_model_file,
                     "[hf] config.json: 'partial_rotary_factor' is 1.5, expected a value in (0, 1]");
  check_config_error(llama(R"("rope_theta":"10000")"), ErrorCode::invalid_model_file,
                     "[hf] config.json: 'rope_theta' is string, expected a number");
  check_config_error(llama(R"("rope_parameters":{"full_attention":{"rope_theta":true}})"), ErrorCode::invalid_model_file,
                     "[hf] config.json: 'rope_parameters.full_attention.rope_theta' is boolean, expected a number");
}

TEST_CASE("Gemma 3 multimodal: nested text_config with class defaults") {
  const auto cfg = parse(R"({"architectures":["Gemma3ForConditionalGeneration"],"model_type":"gemma3",)"
                         R"("text_config":{"hidden_size":2560,"num_hidden_layers":6}})");
  CHECK(cfg.architecture == "gemma3");
  CHECK(cfg.hparams.hidden_size == 2560);
  CHECK(cfg.hparams.vocab_size == 262208);
  CHECK(cfg.hparams.n_heads == 8);
  CHECK(cfg.hparams.n_kv_heads == 4);
  CHECK(cfg.hparams.ffn_size == 9216);
  CHECK(cfg.hparams.sliding_window_layers == std::vector<bool>{true, true, true, true, true, false});
  check_config_error(R"({"architectures":["Gemma3ForConditionalGeneration"]})", ErrorCode::invalid_model_file,
                     "[hf] config.json: required key 'text_config' is missing");
  check_config_error(R"({"architectures":["Gemma3ForConditionalGeneration"],"text_config":{"hidden_size":-1}})",
                     ErrorCode::invalid_model_file,
                     "[hf] config.json: 'text_config.hidden_size' is -1, expected a non-negative integer");
}

TEST_CASE("mixture of experts") {
  const auto hp = parse(llama(R"("architectures":["Qwen3MoeForCausalLM"],"num_experts":4,"num_experts_per_tok":2,)"
                              R"("moe_intermediate_size":8,"mlp_only_layers":[])"))
                      .hparams;
  CHECK(hp.n_experts == 4);
  CHECK(hp.n_experts_used == 2);
  CHECK(hp.expert_ffn_size == 8);
  check_config_error(llama(R"("architectures":["Qwen3MoeForCausalLM"],"mlp_only_layers":[0])"), ErrorCode::unsupported,
                     "[hf] config.json: 'mlp_only_layers' (dense layers in a MoE model) is not supported");
  check_config_error(llama(R"("architectures":["Qwen3MoeForCausalLM"],"decoder_sparse_step":2)"), ErrorCode::unsupported,
                     "[hf] config.json: 'decoder_sparse_step' other than 1 (dense layers between MoE layers) is not supported");
  check_config_error(llama(R"("architectures":["MixtralForCausalLM"],"num_local_experts":2,"num_experts_per_tok":3)"),
                     ErrorCode::invalid_model_file, "[hf] config.json: 'num_experts_per_tok' is 3 but the model has 2 experts");
}

TEST_CASE("malformed configs") {
  hf_test::check_error_prefix([] { (void)parse("{\"a\":"); }, ErrorCode::invalid_model_file,
                              "[hf] config.json: invalid JSON: ");
  check_config_error("[]", ErrorCode::invalid_model_file, "[hf] config.json: 'config' is array, expected an object");
  check_config_error(R"({"architectures":["LlamaForCausalLM"],"vocab_size":32,"hidden_size":16,"num_hidden_layers":2,)"
                     R"("intermediate_size":24})",
                     ErrorCode::invalid_model_file, "[hf] config.json: required key 'num_attention_heads' is missing");
  check_config_error(R"({"architectures":["LlamaForCausalLM"],"vocab_size":32,"hidden_size":null,"num_hidden_layers":2,)"
                     R"("num_attention_heads":4,"intermediate_size":24})",
                     ErrorCode::invalid_model_file, "[hf] config.json: 'hidden_size' is null, expected a non-negative integer");
  check_config_error(llama(R"("vocab_size":"32")"), ErrorCode::invalid_model_file,
                     "[hf] config.json: 'vocab_size' is string, expected a non-negative integer");
  check_config_error(llama(R"("vocab_size":4294967296)"), ErrorCode::invalid_model_file,
                     "[hf] config.json: 'vocab_size' = 4294967296 is out of range");
  check_config_error(llama(R"("vocab_size":32.5)"), ErrorCode::invalid_model_file,
                     "[hf] config.json: 'vocab_size' is 32.5, expected a non-negative integer");
  check_config_error(llama(R"("vocab_size":0)"), ErrorCode::invalid_model_file, "[hf] config.json: 'vocab_size' is 0");
  check_config_error(llama(R"("num_hidden_layers":680256000)"), ErrorCode::invalid_model_file,
                     "[hf] config.json: 'num_hidden_layers' is 680256000, more than the 65536 layers ollm accepts");
  check_config_error(llama(R"("num_key_value_heads":3)"), ErrorCode::invalid_model_file,
                     "[hf] config.json: 4 attention heads cannot be grouped over 3 KV heads");
  check_config_error(llama(R"("head_dim":0)"), ErrorCode::invalid_model_file, "[hf] config.json: 'head_dim' is 0");
  check_config_error(llama(R"("tie_word_embeddings":"yes")"), ErrorCode::invalid_model_file,
                     "[hf] config.json: 'tie_word_embeddings' is string, expected a boolean");
  check_config_error(llama(R"("rms_norm_eps":[1e-5])"), ErrorCode::invalid_model_file,
                     "[hf] config.json: 'rms_norm_eps' is array, expected a number");
  check_config_error(llama(R"("vocab_size":32,"vocab_size":64)"), ErrorCode::invalid_model_file,
                     "[hf] config.json: duplicate key 'vocab_size' in the config");
  check_config_error(llama(R"("model_type":5)"), ErrorCode::invalid_model_file,
                     "[hf] config.json: 'model_type' is integer, expected a string");
  // Integral numbers written as floats are accepted.
  CHECK(parse(llama(R"("max_position_embeddings":4096.0)")).hparams.context_length == 4096);
}

TEST_CASE("real hyper-parameters that cannot work are refused naming the key") {
  const std::pair<const char*, const char*> cases[] = {
      {R"("rms_norm_eps":-1)", "'rms_norm_eps' is -1, expected a number in (0, 1)"},
      {R"("rms_norm_eps":0)", "'rms_norm_eps' is 0, expected a number in (0, 1)"},
      {R"("rms_norm_eps":2)", "'rms_norm_eps' is 2, expected a number in (0, 1)"},
      {R"("layer_norm_eps":-1e-5)", "'layer_norm_eps' is -1e-05, expected a number in (0, 1)"},
      {R"("rope_theta":0)", "'rope_theta' is 0, expected a finite number > 0"},
      {R"("rope_theta":-10000)", "'rope_theta' is -10000, expected a finite number > 0"},
      {R"("rope_theta":1e300)", "'rope_theta' is 1e+300, expected a finite number > 0"},
      {R"("rope_parameters":{"rope_theta":0})", "'rope_parameters.rope_theta' is 0, expected a finite number > 0"},
      {R"("rope_parameters":{"full_attention":{"rope_theta":-1}})",
       "'rope_parameters.full_attention.rope_theta' is -1, expected a finite number > 0"},
      {R"("rope_scaling":{"type":"linear","factor":0})", "'rope_scaling.factor' is 0, expected a finite number > 0"},
      {R"("rope_scaling":{"type":"yarn","factor":4,"beta_fast":-32})",
       "'rope_scaling.beta_fast' is -32, expected a finite number >= 0"},
      {R"("rope_scaling":{"rope_type":"llama3","factor":8,"low_freq_factor":4,"high_freq_factor":1,)"
       R"("original_max_position_embeddings":8192})",
       "'rope_scaling.high_freq_factor' 1 must be greater than 'rope_scaling.low_freq_factor' 4"},
      {R"("final_logit_softcapping":0)", "'final_logit_softcapping' is 0, expected a finite number > 0"},
      {R"("query_pre_attn_scalar":-256)", "'query_pre_attn_scalar' is -256, expected a finite number > 0"},
  };
  for (const auto& [extra, message] : cases) {
    const std::string json = llama(extra);
    const std::string want = std::string("[hf] config.json: ") + message;
    CAPTURE(json);
    check_config_error(json, ErrorCode::invalid_model_file, want);
  }
  // JSON has no NaN: Python's json.dump writes the literal NaN, which is refused as invalid JSON.
  hf_test::check_error_prefix([] { (void)parse(llama(R"("rms_norm_eps":NaN)")); }, ErrorCode::invalid_model_file,
                              "[hf] config.json: invalid JSON: ");
  // A null soft-cap is "off".
  CHECK(parse(llama(R"("final_logit_softcapping":null)")).hparams.final_logit_softcap == 0.0);
}

TEST_CASE("a hidden size the heads do not divide is named as such") {
  check_config_error(llama(R"("num_attention_heads":3)"), ErrorCode::invalid_model_file,
                     "[hf] config.json: hidden size 16 is not divisible by 3 heads ('hidden_size', 'num_attention_heads'; "
                     "there is no 'head_dim' to give the head size)");
  CHECK(parse(llama(R"("num_attention_heads":3,"head_dim":8)")).hparams.head_dim == 8);
}
