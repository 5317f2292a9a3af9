// ollm::Model — a loaded open-weight model: its description, tokenizer and weights (views into
// the memory-mapped file, or read into memory). Immutable after load: one Model can be shared by
// any number of engines and threads (hold it by shared_ptr).
//
//   auto model = ollm::Model::load("gemma-3-270m-q4_k_m.gguf");
//   ollm::Engine engine(model);
//   std::string text = engine.generate("The capital of France is", {.max_tokens = 16}).text;
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ollm/chat_template.hpp"
#include "ollm/export.h"
#include "ollm/model_spec.hpp"
#include "ollm/tokenizer.hpp"

namespace ollm {

// When to hash a model's files against a sha256sum-format manifest beside it (`<model>.gguf.sha256`,
// or `SHA256SUMS` in the model's directory). A mismatch throws Error(invalid_model_file) naming the
// file, the manifest and both hashes. Without a manifest there is nothing to check.
enum class ChecksumPolicy {
  automatic,  // when a manifest is present; a file the checksum cache remembers (same device,
              // inode, size, modification and change time, same hash) is not read again, so the
              // cost of one full read is paid once per file
  always,     // when a manifest is present, hash every listed file now (the cache is updated, not trusted)
  never,      // do not look for a manifest
};

struct ModelLoadOptions {
  std::string device = "cpu";   // "cpu" (a CUDA build will add "cuda")
  bool use_mmap = true;         // false: weights are read into memory (files on slow or network storage)
  ChecksumPolicy verify_checksums = ChecksumPolicy::automatic;
  // Where verified files are remembered. Empty: $XDG_CACHE_HOME/ollm/verified-sha256, else
  // ~/.cache/ollm/verified-sha256. A cache that cannot be read or written only costs a re-hash.
  std::filesystem::path checksum_cache;
  // Called as loading advances with the fraction done (0..1); return false to cancel the load
  // (it then throws Error(cancelled)). Called on the loading thread.
  std::function<bool(float fraction)> progress;
};

class OLLM_API Model {
 public:
  // A GGUF file or a Hugging Face directory (config.json + safetensors + tokenizer files).
  // Throws Error: not_found / io for the path, invalid_model_file for a corrupt file,
  // unsupported for an architecture or tensor type ollm cannot run (naming it), not_found for a
  // missing tensor (naming it), cancelled when progress returned false.
  static std::shared_ptr<const Model> load(const std::filesystem::path& path, const ModelLoadOptions& options = {});

  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelSpec& spec() const noexcept;
  const std::string& architecture() const noexcept;
  // Throws Error(not_found) naming what is missing when the model came without a tokenizer (a
  // Hugging Face directory with no tokenizer.json, a GGUF without tokenizer metadata): such a
  // model still loads, and works from token ids (Engine::logits, Engine::embeddings).
  const Tokenizer& tokenizer() const;
  bool has_tokenizer() const noexcept;
  // The model's own chat template (GGUF tokenizer.chat_template or tokenizer_config.json), when
  // it has one.
  const std::optional<ChatTemplate>& chat_template() const noexcept;
  int64_t vocab_size() const noexcept;
  int64_t context_length() const noexcept;   // trained context (0 when the file does not say)
  int64_t hidden_size() const noexcept;      // width of the hidden states (= embedding size)
  int64_t n_layers() const noexcept;
  uint64_t weight_bytes() const noexcept;    // bytes of all tensors
  uint64_t bytes_per_token() const noexcept; // weight bytes one decode step streams

  struct Impl;
  const Impl& impl() const noexcept { return *impl_; }

 private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ollm
