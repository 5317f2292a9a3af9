// The loaded tokenizer pipeline behind ollm::Tokenizer: added tokens, normalizer, pre-tokenizer,
// model, post-processor and decoder, all immutable after loading.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ollm/tokenizer.hpp"
#include "tokenizer/added_tokens.hpp"
#include "tokenizer/decoder.hpp"
#include "tokenizer/model.hpp"
#include "tokenizer/normalizer.hpp"
#include "tokenizer/pre_tokenizer.hpp"

namespace ollm {

struct Tokenizer::Impl {
  tok::NormalizerPtr normalizer;        // may be null
  tok::PreTokenizerPtr pre_tokenizer;   // may be null
  tok::ModelPtr model;
  tok::Decoder decoder;
  // The post-processor flattened for a single sequence: ids around the encoded text.
  std::vector<int32_t> post_prefix, post_suffix;

  std::vector<tok::AddedToken> added;   // in file order
  tok::AddedTokenMatcher raw_matcher;   // tokens with normalized = false, matched on the input
  tok::AddedTokenMatcher norm_matcher;  // normalized tokens, matched after normalization
  std::vector<int32_t> added_of_id;     // id -> index into `added`, -1 when not an added token
  std::vector<bool> special_of_id;

  std::optional<int32_t> bos, eos, eot;

  // Call once the parts above are set: builds the matchers and id tables.
  void finalize();

  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;
  // Token strings of `ids` (skipping unknown ids and, when asked, special tokens).
  void id_tokens(std::span<const int32_t> ids, bool skip_special, std::vector<std::string>& out) const;
  size_t vocab_size() const noexcept;
  const std::string* token_string(int32_t id) const noexcept;
  int32_t find_token(std::string_view s) const noexcept;
};

// The loaders (tokenizer_json.cpp, tokenizer_gguf.cpp).
// `json_padded`: json.data() is followed by at least SIMDJSON_PADDING readable bytes (no copy needed).
std::shared_ptr<const Tokenizer::Impl> load_tokenizer_json(std::string_view json, std::string_view config_json,
                                                           std::string_view source, bool json_padded = false);
std::shared_ptr<const Tokenizer::Impl> load_tokenizer_gguf(const GgufFile& file);

}  // namespace ollm
