// Normalizers of the tokenizer.json pipeline (NFC, Lowercase, Replace, Prepend, BertNormalizer...):
// each rewrites a piece of valid UTF-8 text before pre-tokenization.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/regex.hpp"
#include "tokenizer/unicode.hpp"

namespace ollm::tok {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Rewrites `s` in place (`tmp` is scratch space the caller reuses).
  virtual void normalize(std::string& s, std::string& tmp) const = 0;
};
using NormalizerPtr = std::unique_ptr<const Normalizer>;

NormalizerPtr make_unicode_normalizer(NormalForm form);
NormalizerPtr make_lowercase_normalizer();
NormalizerPtr make_strip_accents_normalizer();
NormalizerPtr make_strip_normalizer(bool left, bool right);
NormalizerPtr make_prepend_normalizer(std::string prepend);
// `pattern` is a literal string or (when `regex`) an Oniguruma-style regex.
NormalizerPtr make_replace_normalizer(std::string pattern, bool regex, std::string content);
// strip_accents unset: follows `lowercase`, as in HF.
NormalizerPtr make_bert_normalizer(bool clean_text, bool handle_chinese_chars, std::optional<bool> strip_accents,
                                   bool lowercase);
NormalizerPtr make_sequence_normalizer(std::vector<NormalizerPtr> parts);

// Replace every occurrence of a literal (non-overlapping, left to right).
void replace_all(std::string_view s, std::string_view from, std::string_view to, std::string& out);

}  // namespace ollm::tok
