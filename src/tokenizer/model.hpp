// The tokenization models (BPE, WordPiece, Unigram): each turns one pre-tokenized word into ids
// and owns the vocabulary it was trained with.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab_map.hpp"

namespace ollm::tok {

// id <-> string for a model's own vocabulary (ids may have gaps: empty strings there).
struct Vocab {
  std::vector<std::string> tokens;  // by id
  StringIdMap index;
  bool has_duplicates = false;  // some string appears under two ids (find returns the first)
  int32_t find(std::string_view s) const noexcept { return index.find(s, tokens); }
  // Takes the strings indexed by id and indexes them (the fast path for 100k+ entries).
  void build(std::vector<std::string>&& by_id);
};

// (token, id) pairs (tokenizer.json's vocab) -> strings indexed by id, as the factories below take
// them (GGUF already has that layout: no pair vector, no second copy of 262k strings).
std::vector<std::string> tokens_by_id(std::vector<std::pair<std::string, int32_t>>&& entries);

class Model {
 public:
  virtual ~Model() = default;
  // Appends the ids of `word` (valid UTF-8, non-empty) to `out`.
  virtual void tokenize(std::string_view word, std::vector<int32_t>& out) const = 0;
  virtual const char* type_name() const noexcept = 0;
  const Vocab& vocab() const noexcept { return vocab_; }

 protected:
  Vocab vocab_;
};
using ModelPtr = std::unique_ptr<const Model>;

struct BpeOptions {
  std::string unk_token;                  // empty: none
  std::string continuing_subword_prefix;  // empty: none
  std::string end_of_word_suffix;         // empty: none
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
};

// tokens: strings indexed by id; merges: pairs of token strings in rank order.
ModelPtr make_bpe_model(std::vector<std::string> tokens,
                        const std::vector<std::pair<std::string_view, std::string_view>>& merges, BpeOptions options);
// SentencePiece BPE without a merges list: encodes as if with the merges HF's SentencePiece
// converter derives from `scores` (higher merges first), without building that list.
// `mergeable[id]` marks tokens that merges may produce.
ModelPtr make_bpe_model_from_scores(std::vector<std::string> tokens, const std::vector<float>& scores,
                                    const std::vector<bool>& mergeable, BpeOptions options);

ModelPtr make_wordpiece_model(std::vector<std::string> tokens, std::string unk_token,
                              std::string continuing_subword_prefix, size_t max_input_chars_per_word);

}  // namespace ollm::tok
