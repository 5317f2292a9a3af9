// Hugging Face directories → ModelSpec: a single-file and a sharded fixture compared with what the
// reference library reads, tensor names compared with gguf-py's TensorNameMap, and the directory errors.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "format/hf_tensor_names.hpp"
#include "format/model_spec_internal.hpp"
#include "hf_test_support.hpp"
#include "ollm/log.hpp"
#include "ollm/model_spec.hpp"

using namespace ollm;
using hf_test::check_error;
namespace fs = std::filesystem;

namespace {

// Every tensor of the spec against the reference's reading of the files it came from.
void compare_with_reference(const ModelSpec& spec, std::initializer_list<const char*> files) {
  size_t n = 0;
  for (const char* file : files) {
    for (const auto w : hf_test::array_of(hf_test::expected()["safetensors"][file]["tensors"])) {
      const std::string_view source(w["name"].get_string().value());
      CAPTURE(source);
      const auto it = std::find_if(spec.tensors.begin(), spec.tensors.end(),
                                   [&](const TensorInfo& t) { return t.source_name == source; });
      REQUIRE(it != spec.tensors.end());
      CHECK(dtype_name(it->type) == w["dtype"].get_string().value());
      std::vector<int64_t> dims;
      for (const auto d : hf_test::array_of(w["shape"])) dims.insert(dims.begin(), d.get_int64().value());
      CHECK(it->dims == dims);  // reversed: ggml order
      CHECK(hf_test::fnv1a64(it->data) == w["fnv1a64"].get_string().value());
      ++n;
    }
  }
  CHECK(spec.tensors.size() == n);
}

std::string_view mapped(std::string_view arch, std::string_view hf) {
  static std::string keep;
  keep = hf_tensor_gguf_name(arch, hf).value_or("<unmapped>");
  return keep;
}

fs::path copy_fixture(std::string_view fixture, std::string_view scratch) {
  const auto dir = hf_test::scratch_dir(scratch);
  fs::copy(hf_test::data_dir / fixture, dir, fs::copy_options::recursive);
  return dir;
}

}  // namespace

TEST_CASE("single-file directory") {
  std::vector<std::string> debug;
  std::mutex m;
  set_log_callback(
      [&](LogLevel level, std::string_view msg) {
        std::lock_guard lock(m);
        if (level == LogLevel::debug && msg.find("no GGUF name") != std::string_view::npos) debug.emplace_back(msg);
      },
      LogLevel::debug);
  const auto dir = hf_test::data_dir / "tiny_llama";
  const ModelSpec spec = read_model_spec(dir);
  set_log_callback(nullptr);

  CHECK(spec.architecture == "llama");
  CHECK(spec.format == ModelFormat::safetensors);
  CHECK(spec.name == "tiny_llama");
  CHECK(spec.path == dir);
  CHECK(spec.hparams.vocab_size == 32);
  CHECK(spec.hparams.n_layers == 2);
  CHECK(spec.hparams.n_kv_heads == 2);
  CHECK(!spec.hparams.tied_embeddings);
  compare_with_reference(spec, {"tiny_llama/model.safetensors"});

  CHECK(spec.tensor("token_embd.weight").source_name == "model.embed_tokens.weight");
  CHECK(spec.tensor("token_embd.weight").dims == std::vector<int64_t>{16, 32});
  CHECK(spec.tensor("token_embd.weight").type == DType::bf16);
  CHECK(spec.tensor("output.weight").source_name == "lm_head.weight");
  CHECK(spec.tensor("output_norm.weight").type == DType::f32);
  CHECK(spec.tensor("blk.1.attn_k.weight").dims == std::vector<int64_t>{16, 8});
  CHECK(spec.tensor("blk.1.ffn_down.weight").dims == std::vector<int64_t>{24, 16});
  CHECK(spec.tensor("blk.0.ffn_norm.weight").source_name == "model.layers.0.post_attention_layernorm.weight");
  // No GGUF name: kept under its own, and said so at debug level.
  CHECK(spec.tensor("model.rotary_emb.inv_freq").source_name == "model.rotary_emb.inv_freq");
  REQUIRE(debug.size() == 1);
  CHECK(debug[0] == fmt::format("[hf] {}: tensor 'model.rotary_emb.inv_freq' has no GGUF name; kept as is",
                                (dir / "model.safetensors").string()));

  CHECK(spec.tokenizer.tokenizer_json == dir / "tokenizer.json");
  CHECK(spec.tokenizer.tokenizer_config_json == dir / "tokenizer_config.json");
  CHECK(spec.tokenizer.generation_config_json == dir / "generation_config.json");
  CHECK(spec.tokenizer.gguf == nullptr);
}

TEST_CASE("sharded directory") {
  const auto dir = hf_test::data_dir / "sharded_qwen3";
  auto spec = std::make_unique<ModelSpec>(read_model_spec(dir));
  CHECK(spec->architecture == "qwen3");
  CHECK(spec->hparams.head_dim == 8);
  CHECK(spec->hparams.tied_embeddings);
  CHECK(spec->find_tensor("output.weight") == nullptr);
  compare_with_reference(*spec, {"sharded_qwen3/model-00001-of-00002.safetensors",
                                 "sharded_qwen3/model-00002-of-00002.safetensors"});
  CHECK(spec->tensor("blk.1.attn_q_norm.weight").dims == std::vector<int64_t>{8});
  CHECK(spec->tokenizer.tokenizer_json.empty());

  // The mappings live as long as anything holds the storage.
  const TensorInfo norm = spec->tensor("output_norm.weight");
  const std::string before = hf_test::fnv1a64(norm.data);
  const auto storage = spec->storage;
  spec.reset();
  CHECK(hf_test::fnv1a64(norm.data) == before);
}

TEST_CASE("tied embeddings follow the config, or the absence of lm_head") {
  const auto dir = copy_fixture("tiny_llama", "tied");
  std::string config = R"({"architectures":["LlamaForCausalLM"],"vocab_size":32,"hidden_size":16,"num_hidden_layers":2,)"
                       R"("num_attention_heads":4,"num_key_value_heads":2,"intermediate_size":24,"tie_word_embeddings":true})";
  hf_test::write_file(dir / "config.json", config);
  CHECK(read_model_spec(dir).hparams.tied_embeddings);
}

TEST_CASE("an untied model without lm_head.weight is refused, not tied") {
  const auto dir = copy_fixture("tiny_llama", "untied_no_head");  // tie_word_embeddings: false
  CHECK_FALSE(read_model_spec(dir).hparams.tied_embeddings);
  // Renamed in place (same length): the header stays valid and no tensor is the output projection.
  hf_test::replace_in_file(dir / "model.safetensors", "\"lm_head.weight\"", "\"lm_head.unused\"");
  const std::string want = fmt::format(
      "[hf] {}: 'tie_word_embeddings' is false but no weights file holds 'lm_head.weight' (the output projection)",
      (dir / "config.json").string());
  check_error([&] { (void)read_model_spec(dir); }, ErrorCode::invalid_model_file, want);
  // ollm inspect's collecting read describes the file as untied and names the problem.
  std::vector<Error> problems;
  const auto spec = read_model_spec(dir, problems);
  CHECK_FALSE(spec.hparams.tied_embeddings);
  REQUIRE(problems.size() == 1);
  CHECK(std::string(problems[0].what()) == want);
}

TEST_CASE("config.json values that cannot work are refused naming the file and key") {
  const auto dir = copy_fixture("tiny_llama", "bad_eps");
  std::string config = R"({"architectures":["LlamaForCausalLM"],"vocab_size":32,"hidden_size":16,"num_hidden_layers":2,)"
                       R"("num_attention_heads":4,"num_key_value_heads":2,"intermediate_size":24,"rms_norm_eps":-1,)"
                       R"("rope_theta":0})";
  hf_test::write_file(dir / "config.json", config);
  const std::string where = (dir / "config.json").string();
  check_error([&] { (void)read_model_spec(dir); }, ErrorCode::invalid_model_file,
              fmt::format("[hf] {}: 'rope_theta' is 0, expected a finite number > 0", where));
  std::vector<Error> problems;
  (void)read_model_spec(dir, problems);
  REQUIRE(problems.size() == 2);
  CHECK(std::string(problems[0].what()) == fmt::format("[hf] {}: 'rope_theta' is 0, expected a finite number > 0", where));
  CHECK(std::string(problems[1].what()) == fmt::format("[hf] {}: 'rms_norm_eps' is -1, expected a number in (0, 1)", where));
}

TEST_CASE("paths of the wrong type are named as what they are, and never block") {
  // A config.json that is a directory is not "missing".
  auto dir = copy_fixture("tiny_llama", "config_dir");
  fs::remove(dir / "config.json");
  fs::create_directory(dir / "config.json");
  check_error([&] { (void)read_model_spec(dir); }, ErrorCode::io,
              fmt::format("[file] '{}' is a directory, not a regular file", (dir / "config.json").string()));

  // A FIFO would block the open for reading until a writer came.
  dir = copy_fixture("tiny_llama", "config_fifo");
  fs::remove(dir / "config.json");
  REQUIRE(::mkfifo((dir / "config.json").c_str(), 0600) == 0);
  check_error([&] { (void)read_model_spec(dir); }, ErrorCode::io,
              fmt::format("[file] '{}' is a FIFO, not a regular file", (dir / "config.json").string()));
  fs::remove(dir / "config.json");
  fs::remove(dir / "model.safetensors");
  REQUIRE(::mkfifo((dir / "model.safetensors").c_str(), 0600) == 0);
  fs::copy_file(hf_test::data_dir / "tiny_llama" / "config.json", dir / "config.json");
  check_error([&] { (void)read_model_spec(dir); }, ErrorCode::io,
              fmt::format("[file] '{}' is a FIFO, not a regular file", (dir / "model.safetensors").string()));

  // A GGUF path that is a FIFO.
  const auto scratch = hf_test::scratch_dir("fifo_gguf");
  REQUIRE(::mkfifo((scratch / "m.gguf").c_str(), 0600) == 0);
  check_error([&] { (void)read_model_spec(scratch / "m.gguf"); }, ErrorCode::io,
              fmt::format("[file] '{}' is a FIFO, not a regular file", (scratch / "m.gguf").string()));

  // A symbolic link loop exists: it is not "does not exist".
  fs::create_symlink(scratch / "loop", scratch / "loop");
  check_error([&] { (void)read_model_spec(scratch / "loop"); }, ErrorCode::io,
              fmt::format("[model] cannot open '{}': Too many levels of symbolic links", (scratch / "loop").string()));
  dir = copy_fixture("tiny_llama", "config_loop");
  fs::remove(dir / "config.json");
  fs::create_symlink(dir / "config.json", dir / "config.json");
  check_error([&] { (void)read_model_spec(dir); }, ErrorCode::io,
              fmt::format("[file] cannot open '{}': Too many levels of symbolic links", (dir / "config.json").string()));
  // Nothing at all is still "does not exist".
  check_error([&] { (void)read_model_spec(scratch / "absent.gguf"); }, ErrorCode::io,
              fmt::format("[model] '{}' does not exist", (scratch / "absent.gguf").string()));
}

TEST_CASE("tensor names agree with gguf-py's TensorNameMap") {
  size_t n = 0;
  for (const auto row : hf_test::array_of(hf_test::expected()["tensor_names"])) {
    const std::string_view arch(row.at(0).get_string().value());
    const std::string_view hf(row.at(1).get_string().value());
    const std::string_view gguf(row.at(2).get_string().value());
    CAPTURE(arch);
    CAPTURE(hf);
    CHECK(mapped(arch, hf) == gguf);
    ++n;
  }
  CHECK(n > 400);
}

TEST_CASE("tensor names the converter handles beyond TensorNameMap") {
  // Per-expert weights keep their expert index; the model layer stacks them.
  CHECK(mapped("mixtral", "model.layers.3.block_sparse_moe.experts.7.w1.weight") == "blk.3.ffn_gate.7.weight");
  CHECK(mapped("mixtral", "model.layers.3.block_sparse_moe.experts.7.w2.weight") == "blk.3.ffn_down.7.weight");
  CHECK(mapped("mixtral", "model.layers.3.block_sparse_moe.experts.7.w3.weight") == "blk.3.ffn_up.7.weight");
  CHECK(mapped("mixtral", "model.layers.3.block_sparse_moe.gate.weight") == "blk.3.ffn_gate_inp.weight");
  CHECK(mapped("qwen3moe", "model.layers.0.mlp.experts.127.gate_proj.weight") == "blk.0.ffn_gate.127.weight");
  CHECK(mapped("qwen3moe", "model.layers.0.mlp.experts.127.up_proj.weight") == "blk.0.ffn_up.127.weight");
  CHECK(mapped("qwen3moe", "model.layers.0.mlp.experts.127.down_proj.weight") == "blk.0.ffn_down.127.weight");
  CHECK(mapped("qwen3moe", "model.layers.0.mlp.gate.weight") == "blk.0.ffn_gate_inp.weight");
  // Gemma 3 multimodal, both transformers layouts; the vision tower stays unmapped.
  CHECK(mapped("gemma3", "language_model.model.layers.2.pre_feedforward_layernorm.weight") == "blk.2.ffn_norm.weight");
  CHECK(mapped("gemma3", "model.language_model.layers.2.post_feedforward_layernorm.weight") == "blk.2.post_ffw_norm.weight");
  CHECK(mapped("gemma3", "model.language_model.embed_tokens.weight") == "token_embd.weight");
  CHECK(mapped("gemma3", "language_model.lm_head.weight") == "output.weight");
  CHECK(mapped("gemma3", "vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight") == "<unmapped>");
  CHECK(mapped("gemma3", "multi_modal_projector.mm_input_projection_weight") == "<unmapped>");
  // Gemma's norm names differ from llama's.
  CHECK(mapped("gemma2", "model.layers.0.post_attention_layernorm.weight") == "blk.0.post_attention_norm.weight");
  CHECK(mapped("llama", "model.layers.0.post_attention_layernorm.weight") == "blk.0.ffn_norm.weight");
  CHECK(mapped("llama", "model.layers.0.pre_feedforward_layernorm.weight") == "<unmapped>");
  // Phi-3's fused projections.
  CHECK(mapped("phi3", "model.layers.31.self_attn.qkv_proj.weight") == "blk.31.attn_qkv.weight");
  CHECK(mapped("phi3", "model.layers.31.mlp.gate_up_proj.weight") == "blk.31.ffn_up.weight");
  // BertForMaskedLM's "bert." prefix and old gamma/beta LayerNorm names.
  CHECK(mapped("bert", "bert.encoder.layer.1.attention.output.LayerNorm.gamma") == "blk.1.attn_output_norm.weight");
  CHECK(mapped("bert", "bert.embeddings.LayerNorm.beta") == "token_embd_norm.bias");
  CHECK(mapped("bert", "cls.predictions.transform.dense.weight") == "<unmapped>");
  // Not names of anything.
  CHECK(mapped("llama", "model.layers.x.self_attn.q_proj.weight") == "<unmapped>");
  CHECK(mapped("llama", "model.layers.0.self_attn.q_proj") == "<unmapped>");
  CHECK(mapped("llama", "model.layers.0.self_attn.q_proj.scale") == "<unmapped>");
  CHECK(mapped("llama", "model.layers.12345678901.input_layernorm.weight") == "<unmapped>");
  CHECK(mapped("llama", "") == "<unmapped>");
}

TEST_CASE("directory errors") {
  auto dir = hf_test::scratch_dir("empty");
  check_error([&] { (void)read_model_spec(dir); }, ErrorCode::io,
              fmt::format("[hf] '{}' has no config.json", dir.string()));

  dir = copy_fixture("tiny_llama", "no_weights");
  fs::remove(dir / "model.safetensors");
  check_error([&] { (void)read_model_spec(dir); }, ErrorCode::io,
              fmt::format("[hf] '{}' has neither model.safetensors nor model.safetensors.index.json", dir.string()));
  hf_test::write_file(dir / "pytorch_model.bin", "x");
  check_error([&] { (void)read_model_spec(dir); }, ErrorCode::unsupported,
              fmt::format("[hf] '{}' holds PyTorch pickle weights; ollm reads only safetensors (convert them first)",
                          dir.string()));

  dir = copy_fixture("tiny_llama", "bad_config");
  hf_test::write_file(dir / "config.json", R"({"architectures":["LlamaForCausalLM"]})");
  check_error([&] { (void)read_model_spec(dir); }, ErrorCode::invalid_model_file,
              fmt::format("[hf] {}: required key 'vocab_size' is missing", (dir / "config.json").string()));

  dir = copy_fixture("tiny_llama", "collision");
  // Two source names for one GGUF name: ambiguous, refused.
  const std::string header = R"({"model.norm.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                             R"("output_norm.weight":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
  std::string file(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(file.data(), &n, 8);
  hf_test::write_file(dir / "model.safetensors", file + header + std::string(8, '\0'));
  check_error([&] { (void)read_model_spec(dir); }, ErrorCode::invalid_model_file,
              fmt::format("[hf] {}: tensors 'model.norm.weight' and 'output_norm.weight' both map to 'output_norm.weight'",
                          (dir / "model.safetensors").string()));
}

TEST_CASE("sharded directory errors") {
  auto dir = copy_fixture("sharded_qwen3", "missing_shard");
  fs::remove(dir / "model-00002-of-00002.safetensors");
  check_error([&] { (void)read_model_spec(dir); }, ErrorCode::io,
              fmt::format("[hf] shard '{}' listed in '{}' does not exist", (dir / "model-00002-of-00002.safetensors").string(),
                          (dir / "model.safetensors.index.json").string()));

  const auto index = [](const fs::path& d) { return (d / "model.safetensors.index.json").string(); };
  dir = copy_fixture("sharded_qwen3", "absent_tensor");
  hf_test::write_file(dir / "model.safetensors.index.json",
                      R"({"weight_map":{"model.norm.weight":"model-00001-of-00002.safetensors"}})");
  check_error([&] { (void)read_model_spec(dir); }, ErrorCode::invalid_model_file,
              fmt::format("[hf] {}: tensor 'model.norm.weight' is listed in shard 'model-00001-of-00002.safetensors', "
                          "which has no such tensor",
                          index(dir)));

  hf_test::write_file(dir / "model.safetensors.index.json", R"({"weight_map":{"a":"../model-00001-of-00002.safetensors"}})");
  check_error([&] { (void)read_model_spec(dir); }, ErrorCode::invalid_model_file,
              fmt::format("[hf] {}: tensor 'a' is in shard '../model-00001-of-00002.safetensors', which is not a file name "
                          "inside the model directory",
                          index(dir)));
  hf_test::write_file(dir / "model.safetensors.index.json", R"({"metadata":{}})");
  check_error([&] { (void)read_model_spec(dir); }, ErrorCode::invalid_model_file,
              fmt::format("[hf] {}: required key 'weight_map' is missing", index(dir)));
  hf_test::write_file(dir / "model.safetensors.index.json", R"({"weight_map":[]})");
  check_error([&] { (void)read_model_spec(dir); }, ErrorCode::invalid_model_file,
              fmt::format("[hf] {}: 'weight_map' is array, expected an object", index(dir)));
  hf_test::write_file(dir / "model.safetensors.index.json", R"({"weight_map":{"a":1}})");
  check_error([&] { (void)read_model_spec(dir); }, ErrorCode::invalid_model_file,
              fmt::format("[hf] {}: 'weight_map.a' is integer, expected a string", index(dir)));
  hf_test::write_file(dir / "model.safetensors.index.json", R"({"weight_map":{}})");
  check_error([&] { (void)read_model_spec(dir); }, ErrorCode::invalid_model_file,
              fmt::format("[hf] {}: 'weight_map' lists no tensors", index(dir)));
  hf_test::write_file(dir / "model.safetensors.index.json",
                      R"({"weight_map":{"a":"model-00001-of-00002.safetensors","a":"model-00001-of-00002.safetensors"}})");
  check_error([&] { (void)read_model_spec(dir); }, ErrorCode::invalid_model_file,
              fmt::format("[hf] {}: duplicate key 'a' in 'weight_map'", index(dir)));
  hf_test::write_file(dir / "model.safetensors.index.json", "{");
  hf_test::check_error_prefix([&] { (void)read_model_spec(dir); }, ErrorCode::invalid_model_file,
                              fmt::format("[hf] {}: invalid JSON: ", index(dir)));

  // A tensor in two shards (one of them not listing it) is ambiguous.
  dir = copy_fixture("sharded_qwen3", "duplicate_across_shards");
  fs::copy_file(dir / "model-00001-of-00002.safetensors", dir / "model-00003.safetensors");
  hf_test::write_file(dir / "model.safetensors.index.json",
                      R"({"weight_map":{"model.norm.weight":"model-00002-of-00002.safetensors",)"
                      R"("model.embed_tokens.weight":"model-00001-of-00002.safetensors",)"
                      R"("model.layers.0.input_layernorm.weight":"model-00003.safetensors"}})");
  check_error([&] { (void)read_model_spec(dir); }, ErrorCode::invalid_model_file,
              fmt::format("[hf] tensor 'model.embed_tokens.weight' is in both '{}' and '{}'",
                          (dir / "model-00001-of-00002.safetensors").string(), (dir / "model-00003.safetensors").string()));
}
