// Added tokens (special tokens like "<|eot_id|>" and user-added ones): found in the text before
// the model runs, with HF's leftmost-longest matching and lstrip/rstrip/single_word rules.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ollm::tok {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  bool single_word = false;
};

// A segment of the input: either an added token (id >= 0) or text to tokenize.
struct Segment {
  size_t begin, end;
  int32_t id;  // -1: plain text
};

// Leftmost-longest matcher over a set of token strings (an Aho-Corasick replacement: a byte trie
// walked from each candidate start; inputs are short compared with the cost of the model).
class AddedTokenMatcher {
 public:
  // `patterns[i]` is matched for tokens[i] (the pattern is the content, normalized when the token is).
  void build(const std::vector<AddedToken>& tokens, const std::vector<std::string>& patterns);
  bool empty() const noexcept { return nodes_.size() <= 1; }
  // Splits `text` into segments; special tokens are skipped (left as text) when !parse_special.
  void split(std::string_view text, bool parse_special, std::vector<Segment>& out) const;

 private:
  struct Node {
    int32_t token = -1;  // index into tokens_ of the pattern ending here
    std::vector<std::pair<unsigned char, int32_t>> kids;  // sorted by byte
  };
  int32_t child(int32_t node, unsigned char c) const noexcept;
  std::vector<Node> nodes_;
  std::vector<AddedToken> tokens_;
  bool first_byte_[256] = {};
};

}  // namespace ollm::tok
