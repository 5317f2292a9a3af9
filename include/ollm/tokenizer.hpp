// Text <-> token ids, matching Hugging Face `tokenizers` exactly: loaded from tokenizer.json
// (+ tokenizer_config.json) or from GGUF vocabulary metadata. A Tokenizer is immutable after
// loading and may be used from any number of threads at once; a StreamingDetokenizer is not.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ollm/export.h"

namespace ollm {

class GgufFile;
class ModelSpec;

class OLLM_API Tokenizer {
 public:
  // tokenizer_config_json may be empty; when given it names bos/eos (and the chat template's
  // end-of-turn token) and the add_bos/add_eos defaults where tokenizer.json lacks them.
  static Tokenizer from_json_files(const std::filesystem::path& tokenizer_json,
                                   const std::filesystem::path& tokenizer_config_json = {});
  // The same from bytes in memory (tests, fuzzing, embedded files). `source` names it in errors.
  static Tokenizer from_json(std::string_view tokenizer_json, std::string_view tokenizer_config_json = {},
                             std::string_view source = "<memory>");
  // tokenizer.ggml.* metadata: model llama (SentencePiece BPE by score), gpt2 (byte-level BPE),
  // bert (WordPiece).
  static Tokenizer from_gguf(const GgufFile& file);
  // Whatever the model spec points at (GGUF metadata or the HF directory's tokenizer.json).
  static Tokenizer from_model_spec(const ModelSpec& spec);

  Tokenizer(const Tokenizer&);
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(const Tokenizer&);
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // add_special_tokens: apply the post-processor (BOS/EOS, [CLS]/[SEP]...).
  // parse_special: text like "<|eot_id|>" becomes the special token; when false it is
  // tokenized as ordinary text (non-special added tokens are still matched, as in HF).
  // Invalid UTF-8 is replaced by U+FFFD (one per maximal invalid subsequence) before encoding.
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true,
                              bool parse_special = true) const;
  // Ids outside the vocabulary are skipped, as Hugging Face does.
  std::string decode(std::span<const int32_t> ids, bool skip_special = false) const;

  size_t vocab_size() const noexcept;  // model vocabulary plus added tokens (highest id + 1)
  std::optional<int32_t> token_to_id(std::string_view token) const;
  // The token's vocabulary string (byte-level or "▁" forms as stored); empty when out of range.
  std::string id_to_token(int32_t id) const;
  std::optional<int32_t> bos_id() const noexcept;
  std::optional<int32_t> eos_id() const noexcept;
  // End of turn for chat models (<|eot_id|>, <|im_end|>, <end_of_turn>...) when known, else eos.
  std::optional<int32_t> eot_id() const noexcept;
  bool is_special(int32_t id) const noexcept;
  // "BPE", "WordPiece", ... of the underlying model, for diagnostics.
  std::string model_type() const;

  struct Impl;
  const Impl& impl() const noexcept { return *impl_; }

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// Turns ids arriving one at a time into text, emitting only complete UTF-8 characters. The
// concatenation of everything step() and finish() return equals tokenizer.decode(all ids).
// Keeps a reference to the tokenizer, which must outlive it. One per generated sequence.
class OLLM_API StreamingDetokenizer {
 public:
  explicit StreamingDetokenizer(const Tokenizer& tokenizer, bool skip_special = false);
  // Text that became final with this id (often empty while a character is incomplete).
  std::string step(int32_t id);
  // Everything still held back (incomplete bytes come out as U+FFFD); resets the stream.
  std::string finish();
  void reset();

 private:
  const Tokenizer* tokenizer_;
  bool skip_special_;
  bool first_ = true;         // no token has been committed yet (decoders treat the first specially)
  std::vector<int32_t> pending_;
  std::string held_bytes_;    // an incomplete UTF-8 sequence at the end of committed output
};

}  // namespace ollm
