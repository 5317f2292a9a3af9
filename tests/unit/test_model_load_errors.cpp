// Loading a model whose files describe one that cannot work: each refused with a message in the
// file's own terms (Hugging Face tensor names and shapes for safetensors, GGUF names and ggml
// order for GGUF, the key of a bad hyper-parameter), never a NaN-producing model or a hang.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

#include "format/checksum_manifest.hpp"
#include "format/hf_config.hpp"
#include "model/families.hpp"
#include "ollm/error.hpp"
#include "ollm/gguf.hpp"
#include "ollm/model.hpp"
#include "ollm/model_spec.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path models_dir = fs::path(OLLM_TEST_DATA) / "models";

fs::path scratch(std::string_view name) {
  const auto dir = fs::path(OLLM_BUILD_DIR) / "test_models_scratch" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// The tiny llama's HF directory (hidden 256, vocab 512, lm_head stored [512, 256]) copied to scratch.
fs::path copy_llama_hf(std::string_view name) {
  const auto dir = scratch(name);
  fs::copy(models_dir / "llama" / "hf", dir, fs::copy_options::recursive);
  return dir;
}

// Replaces the one occurrence of `from` by `to` (same length, so the safetensors offsets hold).
void replace_in_file(const fs::path& path, std::string_view from, std::string_view to) {
  REQUIRE(from.size() == to.size());
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const size_t at = bytes.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, "no '" << from << "' in " << path);
  REQUIRE(bytes.find(from, at + 1) == std::string::npos);
  bytes.replace(at, from.size(), to);
  std::ofstream(path, std::ios::binary) << bytes;
}

// The tiny llama GGUF rewritten with `key` set to `value` (or with tensor `swap` stored with its
// two dimensions exchanged: same bytes, wrong shape).
fs::path edited_gguf(std::string_view name, std::string_view key, const ollm::GgufValue* value, std::string_view swap = "") {
  const auto file = ollm::GgufFile::open(models_dir / "llama" / "model.gguf");
  ollm::GgufWriter w;
  for (const auto& entry : file.metadata().entries()) w.set(entry.first, entry.first == key ? *value : entry.second);
  for (const auto& t : file.tensors()) {
    auto dims = t.dims;
    if (t.name == swap) std::swap(dims[0], dims[1]);
    w.add_tensor(t.name, t.type, dims, t.data);
  }
  const auto path = scratch(name) / "model.gguf";
  w.write(path);
  return path;
}

std::string load_error(const fs::path& path, ollm::ErrorCode want_code) {
  try {
    (void)ollm::Model::load(path);
  } catch (const ollm::Error& e) {
    CHECK_MESSAGE(e.code() == want_code, "code " << ollm::error_code_name(e.code()) << ": " << e.what());
    return e.what();
  }
  return "loaded";
}

}  // namespace

TEST_CASE("Hugging Face tensor errors name the safetensors tensor and its stored shape") {
  auto dir = copy_llama_hf("hf_shape");
  replace_in_file(dir / "model.safetensors", R"("lm_head.weight":{"dtype":"BF16","shape":[512,256])",
                  R"("lm_head.weight":{"dtype":"BF16","shape":[256,512])");
  // Once "'output.weight' has shape [512, 256], expected [256, 512]": GGUF's name in ggml order.
  CHECK(load_error(dir, ollm::ErrorCode::invalid_model_file) ==
        fmt::format("[model] {}: tensor 'lm_head.weight' has shape [256, 512], expected [512, 256]", dir.string()));

  dir = copy_llama_hf("hf_missing");
  replace_in_file(dir / "model.safetensors", R"("model.layers.1.self_attn.q_proj.weight")",
                  R"("model.layers.1.self_attn.q_proj.unused")");
  CHECK(load_error(dir, ollm::ErrorCode::not_found) ==
        fmt::format("[model] {}: tensor 'model.layers.1.self_attn.q_proj.weight' is missing (architecture llama)",
                    dir.string()));

  dir = copy_llama_hf("hf_missing_norm");
  replace_in_file(dir / "model.safetensors", R"("model.norm.weight")", R"("model.norm.unused")");
  CHECK(load_error(dir, ollm::ErrorCode::not_found) ==
        fmt::format("[model] {}: tensor 'model.norm.weight' is missing (architecture llama)", dir.string()));
}

TEST_CASE("GGUF tensor errors keep GGUF names and ggml dimension order") {
  const auto path = edited_gguf("gguf_shape", "", nullptr, "output.weight");
  CHECK(load_error(path, ollm::ErrorCode::invalid_model_file) ==
        fmt::format("[model] {}: tensor 'output.weight' has shape [512, 256], expected [256, 512]", path.string()));
}

TEST_CASE("an untied Hugging Face model without lm_head.weight is refused, not tied to the embedding") {
  const auto dir = copy_llama_hf("hf_untied");  // tie_word_embeddings: false
  REQUIRE_NOTHROW(ollm::Model::load(dir));
  replace_in_file(dir / "model.safetensors", R"("lm_head.weight")", R"("lm_head.unused")");
  CHECK(load_error(dir, ollm::ErrorCode::invalid_model_file) ==
        fmt::format("[hf] {}: 'tie_word_embeddings' is false but no weights file holds 'lm_head.weight' (the output "
                    "projection)",
                    (dir / "config.json").string()));
}

TEST_CASE("bad hyper-parameters are refused before they produce NaN logits") {
  const ollm::GgufValue nan = std::numeric_limits<float>::quiet_NaN();
  const ollm::GgufValue minus_one = -1.0f;
  auto path = edited_gguf("gguf_eps", "llama.attention.layer_norm_rms_epsilon", &nan);
  CHECK(load_error(path, ollm::ErrorCode::invalid_model_file) ==
        fmt::format("[gguf] {}: 'llama.attention.layer_norm_rms_epsilon' is nan, expected a number in (0, 1)",
                    path.string()));
  path = edited_gguf("gguf_rope", "llama.rope.freq_base", &minus_one);
  // Once "[rope] theta_base -1 must be positive" (invalid_argument: the CLI's usage exit).
  CHECK(load_error(path, ollm::ErrorCode::invalid_model_file) ==
        fmt::format("[gguf] {}: 'llama.rope.freq_base' is -1, expected a finite number > 0", path.string()));

  const auto dir = copy_llama_hf("hf_eps");
  replace_in_file(dir / "config.json", R"("rms_norm_eps": 1e-05)", R"("rms_norm_eps": -1e00)");
  CHECK(load_error(dir, ollm::ErrorCode::invalid_model_file) ==
        fmt::format("[hf] {}: 'rms_norm_eps' is -1, expected a number in (0, 1)", (dir / "config.json").string()));

  // Specs built or edited in code are checked too, naming the field.
  auto spec = ollm::read_model_spec(models_dir / "llama" / "model.gguf");
  spec.hparams.norm_eps = std::nan("");
  CHECK_THROWS_WITH_AS(ollm::model::make_decoder_config(spec),
                       fmt::format("[model] {}: hyper-parameter norm_eps is nan, expected a number in (0, 1)",
                                   (models_dir / "llama" / "model.gguf").string())
                           .c_str(),
                       ollm::Error);
  spec.hparams.norm_eps = 1e-5;
  spec.hparams.rope_base = 0;
  CHECK_THROWS_WITH_AS(ollm::model::make_decoder_config(spec),
                       fmt::format("[model] {}: hyper-parameter rope_base is 0, expected a finite number > 0",
                                   (models_dir / "llama" / "model.gguf").string())
                           .c_str(),
                       ollm::Error);
}

TEST_CASE("the architectures the readers name are those the decoder runs (and bert)") {
  std::string want;
  for (const auto& a : ollm::model::supported_architectures()) want += (want.empty() ? "" : ", ") + a;
  CHECK(ollm::known_architectures_list() == want + ", bert");
}

TEST_CASE("a FIFO in a checksum manifest's place is refused, not waited on") {
  const auto dir = scratch("fifo_manifest");
  fs::copy_file(models_dir / "llama" / "model.gguf", dir / "model.gguf");
  REQUIRE(::mkfifo((dir / "model.gguf.sha256").c_str(), 0600) == 0);
  CHECK(load_error(dir / "model.gguf", ollm::ErrorCode::io) ==
        fmt::format("[model] '{}' is a FIFO, not a regular file", (dir / "model.gguf.sha256").string()));
  REQUIRE(::mkfifo((dir / "data.bin").c_str(), 0600) == 0);
  CHECK_THROWS_WITH_AS(ollm::format::sha256_file(dir / "data.bin"),
                       fmt::format("[model] '{}' is a FIFO, not a regular file", (dir / "data.bin").string()).c_str(),
                       ollm::Error);
}
