// GGUF metadata → ModelSpec: normalised hyper-parameters, defaults and the errors for missing keys.
#include <doctest/doctest.h>

#include "ollm/error.hpp"
#include "ollm/model_spec.hpp"

using namespace ollm;

namespace {

GgufWriter llama_like() {
  GgufWriter w;
  w.set("general.architecture", "llama");
  w.set("general.name", "tiny");
  w.set("llama.embedding_length", uint32_t{64});
  w.set("llama.block_count", uint32_t{2});
  w.set("llama.attention.head_count", uint32_t{4});
  w.set("llama.attention.head_count_kv", uint32_t{2});
  w.set("llama.feed_forward_length", uint32_t{96});
  w.set("llama.context_length", uint32_t{2048});
  w.set("llama.rope.freq_base", 500000.0f);
  w.set("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.set("llama.rope.scaling.type", "linear");
  w.set("llama.rope.scaling.factor", 4.0f);
  w.set("tokenizer.ggml.tokens", GgufArray{std::vector<std::string>{"a", "b", "c"}});
  std::vector<uint8_t> embd(64 * 3 * 4);
  w.add_tensor("token_embd.weight", DType::f32, {64, 3}, embd);
  return w;
}

ModelSpec spec_of(const GgufWriter& w, std::vector<uint8_t>& bytes) {
  bytes = w.to_bytes();
  auto file = std::make_shared<const GgufFile>(GgufFile::parse(bytes, "test.gguf"));
  return model_spec_from_gguf(file, "test.gguf");
}

std::string message_of(const GgufWriter& w) {
  std::vector<uint8_t> bytes;
  try {
    (void)spec_of(w, bytes);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("llama-like hyper-parameters") {
  std::vector<uint8_t> bytes;
  const auto spec = spec_of(llama_like(), bytes);
  CHECK(spec.architecture == "llama");
  CHECK(spec.name == "tiny");
  const auto& hp = spec.hparams;
  CHECK(hp.hidden_size == 64);
  CHECK(hp.n_layers == 2);
  CHECK(hp.n_heads == 4);
  CHECK(hp.n_kv_heads == 2);
  CHECK(hp.head_dim == 16);     // derived: hidden / heads
  CHECK(hp.rope_dims == 16);    // full rotary by default
  CHECK(hp.ffn_size == 96);
  CHECK(hp.vocab_size == 3);    // from the token list
  CHECK(hp.rope_base == 500000.0);
  CHECK(hp.rope_scaling.type == "linear");
  CHECK(hp.rope_scaling.factor == 4.0);
  CHECK(hp.tied_embeddings);    // no output.weight
  REQUIRE(spec.tensors.size() == 1);
  CHECK(spec.tensor("token_embd.weight").dims == std::vector<int64_t>{64, 3});
  CHECK_THROWS_WITH_AS(spec.tensor("output.weight"), "[model] 'test.gguf' (llama) has no tensor 'output.weight'", Error);
}

TEST_CASE("per-layer head counts are accepted when uniform and refused otherwise") {
  auto w = llama_like();
  w.set("llama.attention.head_count_kv", GgufArray{std::vector<int32_t>{2, 2}});
  std::vector<uint8_t> bytes;
  CHECK(spec_of(w, bytes).hparams.n_kv_heads == 2);
  w.set("llama.attention.head_count_kv", GgufArray{std::vector<int32_t>{2, 1}});
  CHECK(message_of(w) == "[gguf] test.gguf: 'llama.attention.head_count_kv' differs between layers, which ollm does not support");
}

TEST_CASE("missing and inconsistent keys name the key") {
  GgufWriter no_arch;
  no_arch.set("general.name", "x");
  CHECK(message_of(no_arch) == "[gguf] test.gguf: 'general.architecture' is missing");

  GgufWriter no_layers;
  no_layers.set("general.architecture", "qwen3");
  no_layers.set("qwen3.embedding_length", uint32_t{64});
  CHECK(message_of(no_layers) == "[gguf] test.gguf: required key 'qwen3.block_count' is missing");

  auto bad_heads = llama_like();
  bad_heads.set("llama.attention.head_count_kv", uint32_t{3});
  CHECK(message_of(bad_heads) == "[gguf] test.gguf: 4 attention heads cannot be grouped over 3 KV heads");

  auto wrong_type = llama_like();
  wrong_type.set("llama.block_count", "two");
  CHECK(message_of(wrong_type) == "[gguf] 'llama.block_count' is string, expected an integer");
}

TEST_CASE("unsupported tensor types are refused by name") {
  auto w = llama_like();
  std::vector<uint8_t> iq2(66);
  w.add_tensor("blk.0.ffn_up.weight", DType::iq2_xxs, {256}, iq2);
  std::vector<uint8_t> bytes;
  const auto spec = spec_of(w, bytes);  // reading works: the type is recognised
  CHECK(spec.tensor("blk.0.ffn_up.weight").type == DType::iq2_xxs);
  CHECK_THROWS_WITH_AS(require_computable_types(spec),
                       "[model] 'test.gguf': tensor 'blk.0.ffn_up.weight' has type IQ2_XXS, which ollm does not support",
                       Error);
}
