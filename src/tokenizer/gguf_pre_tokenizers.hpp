// The pre-tokenizers GGUF byte-level BPE vocabularies name in tokenizer.ggml.pre: every name
// llama.cpp's converter writes and llama.cpp's vocabulary loader accepts, each mapped to the
// Hugging Face pipeline of the model it came from (regex splits, normalizer, BPE options).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/normalizer.hpp"
#include "tokenizer/pre_tokenizer.hpp"

namespace ollm::tok {

// What one tokenizer.ggml.pre name means. The regexes are applied in order, each splitting the
// pieces the previous one left and keeping both matches and the text between them (HF Split with
// behavior Isolated; llama.cpp's unicode_regex_split does the same), then every piece is mapped
// to the GPT-2 byte alphabet.
struct GgufPreTokenizerSpec {
  std::string_view family;                // the pre-tokenizer type the name belongs to (diagnostics)
  std::vector<std::string_view> regexes;  // Oniguruma syntax, as in the models' tokenizer.json
  bool ignore_merges = false;             // a word that is itself a token is not merged (HF BPE ignore_merges)
  bool nfc = false;                       // NFC normalizer before pre-tokenizing (Qwen2)
  bool add_bos = false;                   // add BOS when tokenizer.ggml.add_bos_token is absent
  bool add_sep = false;                   // append SEP when tokenizer.ggml.add_sep_token is absent
};

// The spec for `name`; throws ollm::Error (unsupported) naming the name and, for the names ollm
// knows but cannot reproduce, why.
const GgufPreTokenizerSpec& gguf_pre_tokenizer_spec(std::string_view name);

// Every name gguf_pre_tokenizer_spec accepts, in table order.
std::vector<std::string_view> gguf_pre_tokenizer_names();

// The pre-tokenizer (regex splits, then byte-level) and normalizer (null when none) of `spec`.
PreTokenizerPtr make_gguf_pre_tokenizer(const GgufPreTokenizerSpec& spec);
NormalizerPtr make_gguf_normalizer(const GgufPreTokenizerSpec& spec);

}  // namespace ollm::tok
