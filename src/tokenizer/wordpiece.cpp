// WordPiece (BERT): greedy longest-match-first from the start of the word, continuation pieces
// carry the "##" prefix; a word with an unmatchable rest (or too long) becomes one unk.
#include "tokenizer/model.hpp"
#include "tokenizer/unicode.hpp"
#include "util/fail.hpp"

namespace ollm::tok {
namespace {

class WordPieceModel final : public Model {
 public:
  WordPieceModel(std::vector<std::string> tokens, std::string unk, std::string prefix, size_t max_chars)
      : prefix_(std::move(prefix)), max_chars_(max_chars) {
    vocab_.build(std::move(tokens));
    unk_id_ = vocab_.find(unk);
    if (unk_id_ < 0) fail(ErrorCode::invalid_model_file, "[tokenizer] WordPiece unk_token '{}' is not in the vocabulary", unk);
  }
  const char* type_name() const noexcept override { return "WordPiece"; }

  void tokenize(std::string_view word, std::vector<int32_t>& out) const override {
    size_t chars = 0;
    for (size_t i = 0; i < word.size(); i += utf8_len(static_cast<unsigned char>(word[i]))) ++chars;
    if (chars > max_chars_) {
      out.push_back(unk_id_);
      return;
    }
    const size_t mark = out.size();
    std::string sub;
    size_t start = 0;
    while (start < word.size()) {
      size_t end = word.size();
      int32_t found = -1;
      while (start < end) {
        sub.clear();
        if (start > 0) sub.append(prefix_);
        sub.append(word.substr(start, end - start));
        found = vocab_.find(sub);
        if (found >= 0) break;
        // Step back one character.
        do --end;
        while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80);
      }
      if (found < 0) {
        out.resize(mark);
        out.push_back(unk_id_);
        return;
      }
      out.push_back(found);
      start = end;
    }
  }

 private:
  std::string prefix_;
  size_t max_chars_;
  int32_t unk_id_ = -1;
};

}  // namespace

ModelPtr make_wordpiece_model(std::vector<std::string> tokens, std::string unk_token,
                              std::string continuing_subword_prefix, size_t max_input_chars_per_word) {
  return std::make_unique<WordPieceModel>(std::move(tokens), std::move(unk_token), std::move(continuing_subword_prefix),
                                          max_input_chars_per_word);
}

}  // namespace ollm::tok
