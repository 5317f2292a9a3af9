// GGUF metadata → ModelSpec: normalised hyper-parameters, defaults and the errors for missing keys.
#include <doctest/doctest.h>

#include <limits>

#include "format/model_spec_internal.hpp"
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

namespace {

// The problems a collecting read reports (read_model_spec(path, problems), as `ollm inspect` uses).
std::vector<std::string> problems_of(const GgufWriter& w) {
  const auto bytes = w.to_bytes();
  auto file = std::make_shared<const GgufFile>(GgufFile::parse(bytes, "test.gguf"));
  std::vector<Error> problems;
  (void)model_spec_from_gguf(file, "test.gguf", SpecProblems(&problems));
  std::vector<std::string> out;
  for (const auto& p : problems) out.emplace_back(p.what());
  return out;
}

}  // namespace

TEST_CASE("real hyper-parameters that cannot work are refused naming the file and the key") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  struct Case {
    const char* key;
    float value;
    const char* message;
  };
  const Case cases[] = {
      {"llama.attention.layer_norm_rms_epsilon", nan, "'llama.attention.layer_norm_rms_epsilon' is nan, expected a number in (0, 1)"},
      {"llama.attention.layer_norm_rms_epsilon", -1.0f, "'llama.attention.layer_norm_rms_epsilon' is -1, expected a number in (0, 1)"},
      {"llama.attention.layer_norm_rms_epsilon", 0.0f, "'llama.attention.layer_norm_rms_epsilon' is 0, expected a number in (0, 1)"},
      {"llama.attention.layer_norm_epsilon", -1.0f, "'llama.attention.layer_norm_epsilon' is -1, expected a number in (0, 1)"},
      {"llama.rope.freq_base", nan, "'llama.rope.freq_base' is nan, expected a finite number > 0"},
      {"llama.rope.freq_base", 0.0f, "'llama.rope.freq_base' is 0, expected a finite number > 0"},
      {"llama.rope.freq_base", -10000.0f, "'llama.rope.freq_base' is -10000, expected a finite number > 0"},
      {"llama.rope.freq_base", std::numeric_limits<float>::infinity(), "'llama.rope.freq_base' is inf, expected a finite number > 0"},
      {"llama.rope.freq_base_swa", 0.0f, "'llama.rope.freq_base_swa' is 0, expected a finite number > 0"},
      {"llama.rope.scaling.factor", 0.0f, "'llama.rope.scaling.factor' is 0, expected a finite number > 0"},
      {"llama.rope.scaling.attn_factor", nan, "'llama.rope.scaling.attn_factor' is nan, expected a finite number >= 0"},
      {"llama.rope.scaling.yarn_beta_fast", -1.0f, "'llama.rope.scaling.yarn_beta_fast' is -1, expected a finite number >= 0"},
      {"llama.attn_logit_softcapping", nan, "'llama.attn_logit_softcapping' is nan, expected a finite number >= 0"},
      {"llama.final_logit_softcapping", -30.0f, "'llama.final_logit_softcapping' is -30, expected a finite number >= 0"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.key);
    auto w = llama_like();
    w.set(c.key, c.value);
    if (std::string_view(c.key) == "llama.attention.layer_norm_epsilon") {
      // Read only when the RMS key is absent: copy the file without it.
      GgufWriter v;
      const auto bytes = w.to_bytes();
      const auto file = GgufFile::parse(bytes, "x");
      for (const auto& entry : file.metadata().entries())
        if (entry.first != "llama.attention.layer_norm_rms_epsilon") v.set(entry.first, entry.second);
      for (const auto& t : file.tensors()) v.add_tensor(t.name, t.type, t.dims, t.data);
      w = v;
    }
    const std::string want = std::string("[gguf] test.gguf: ") + c.message;
    CHECK(message_of(w) == want);
    // A collecting read (ollm inspect) reports the same problem and still describes the file.
    CHECK(problems_of(w) == std::vector<std::string>{want});
  }
  // 0 soft-caps mean "off" in llama.cpp's files, and are accepted.
  auto off = llama_like();
  off.set("llama.attn_logit_softcapping", 0.0f);
  off.set("llama.final_logit_softcapping", 0.0f);
  CHECK(message_of(off) == "no error");
}

TEST_CASE("a hidden size the heads do not divide is named as such") {
  auto w = llama_like();
  w.set("llama.embedding_length", uint32_t{16});
  w.set("llama.attention.head_count", uint32_t{3});
  w.set("llama.attention.head_count_kv", uint32_t{3});
  CHECK(message_of(w) == "[gguf] test.gguf: hidden size 16 is not divisible by 3 heads ('llama.embedding_length', "
                         "'llama.attention.head_count'; there is no 'llama.attention.key_length' to give the head size)");
  // An explicit head size needs no division (Gemma: 640 wide, 4 heads of 256).
  w.set("llama.attention.key_length", uint32_t{8});
  std::vector<uint8_t> bytes;
  CHECK(spec_of(w, bytes).hparams.head_dim == 8);
}

TEST_CASE("an architecture without hyper-parameters is unsupported, not a missing key") {
  GgufWriter w;
  w.set("general.architecture", "x");
  w.set("tokenizer.ggml.tokens", GgufArray{std::vector<std::string>{"a"}});
  std::vector<uint8_t> bytes;
  try {
    (void)spec_of(w, bytes);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::unsupported);
    CHECK(std::string(e.what()) ==
          "[gguf] test.gguf: unsupported architecture 'x' (general.architecture): the file has no 'x.*' hyper-parameters, "
          "and ollm reads those of llama, mistral, mixtral, qwen2, qwen3, qwen3moe, gemma2, gemma3, phi3, bert");
  }
  // Control characters and a NUL are escaped: the message stays whole.
  w.set("general.architecture", std::string("x\0y\n", 4));
  CHECK(message_of(w) ==
        "[gguf] test.gguf: unsupported architecture 'x\\x00y\\n' (general.architecture): the file has no 'x\\x00y\\n.*' "
        "hyper-parameters, and ollm reads those of llama, mistral, mixtral, qwen2, qwen3, qwen3moe, gemma2, gemma3, phi3, bert");
  // A known architecture missing one key is still reported as that key.
  GgufWriter partial;
  partial.set("general.architecture", "llama");
  partial.set("llama.embedding_length", uint32_t{64});
  CHECK(message_of(partial) == "[gguf] test.gguf: required key 'llama.block_count' is missing");
}
