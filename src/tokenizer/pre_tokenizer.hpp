// Pre-tokenizers of the tokenizer.json pipeline: split normalized text into the "words" the
// model tokenizes independently (Split, ByteLevel, Metaspace, Whitespace, Bert, Digits...).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/regex.hpp"

namespace ollm::tok {

// A word: a slice of the arena. `at_start`: it begins at offset 0 of the original input
// (Metaspace's prepend_scheme "first" looks at that).
struct Piece {
  uint32_t offset = 0;
  uint32_t length = 0;
  bool at_start = false;
};

struct PieceList {
  std::string arena;
  std::vector<Piece> pieces;
  std::string_view view(const Piece& p) const noexcept { return std::string_view(arena).substr(p.offset, p.length); }
  void clear() { arena.clear(); pieces.clear(); }
};

// How a split keeps the delimiters it found (HF SplitDelimiterBehavior).
enum class SplitBehavior { removed, isolated, merged_with_previous, merged_with_next, contiguous };

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void pre_tokenize(PieceList& list) const = 0;
};
using PreTokenizerPtr = std::unique_ptr<const PreTokenizer>;

// Split on a regex or a literal string, `invert` keeps the matches as the "non-delimiters".
PreTokenizerPtr make_split_pre_tokenizer(Regex pattern, SplitBehavior behavior, bool invert);
PreTokenizerPtr make_byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex);
// prepend_scheme: 0 always, 1 first, 2 never.
PreTokenizerPtr make_metaspace_pre_tokenizer(std::string replacement, int prepend_scheme, bool split);
PreTokenizerPtr make_whitespace_pre_tokenizer();        // \w+|[^\w\s]+
PreTokenizerPtr make_whitespace_split_pre_tokenizer();  // split on whitespace, removed
PreTokenizerPtr make_bert_pre_tokenizer();
PreTokenizerPtr make_digits_pre_tokenizer(bool individual_digits);
PreTokenizerPtr make_punctuation_pre_tokenizer(SplitBehavior behavior);
PreTokenizerPtr make_char_delimiter_pre_tokenizer(char32_t delimiter);
PreTokenizerPtr make_sequence_pre_tokenizer(std::vector<PreTokenizerPtr> parts);

// Appends the byte-level form (each byte as its GPT-2 alphabet character) of `s` to `out`.
void byte_level_encode(std::string_view s, std::string& out);

}  // namespace ollm::tok
