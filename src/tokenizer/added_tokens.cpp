// Added-token matching, following HF AddedVocabulary::find_matches.
#include "tokenizer/added_tokens.hpp"

#include <algorithm>

#include "tokenizer/unicode.hpp"

namespace ollm::tok {
namespace {

// Last character of s is alphanumeric (HF ends_with_word).
bool ends_with_word(std::string_view s) {
  if (s.empty()) return false;
  size_t k = s.size() - 1;
  while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
  return is_alphanumeric(next_cp(s, k));
}

bool starts_with_word(std::string_view s) {
  if (s.empty()) return false;
  size_t i = 0;
  return is_alphanumeric(next_cp(s, i));
}

}  // namespace

int32_t AddedTokenMatcher::child(int32_t node, unsigned char c) const noexcept {
  const auto& kids = nodes_[static_cast<size_t>(node)].kids;
  for (const auto& [b, n] : kids)
    if (b == c) return n;
  return -1;
}

void AddedTokenMatcher::build(const std::vector<AddedToken>& tokens, const std::vector<std::string>& patterns) {
  nodes_.assign(1, Node{});
  tokens_ = tokens;
  std::fill(std::begin(first_byte_), std::end(first_byte_), false);
  for (size_t t = 0; t < tokens.size(); ++t) {
    const std::string& p = patterns[t];
    if (p.empty()) continue;
    first_byte_[static_cast<unsigned char>(p[0])] = true;
    int32_t node = 0;
    for (unsigned char c : p) {
      int32_t next = child(node, c);
      if (next < 0) {
        next = static_cast<int32_t>(nodes_.size());
        nodes_[static_cast<size_t>(node)].kids.emplace_back(c, next);
        nodes_.emplace_back();
      }
      node = next;
    }
    // The first pattern wins for identical strings, as in the HF automaton.
    if (nodes_[static_cast<size_t>(node)].token < 0) nodes_[static_cast<size_t>(node)].token = static_cast<int32_t>(t);
  }
}

void AddedTokenMatcher::split(std::string_view s, bool parse_special, std::vector<Segment>& out) const {
  out.clear();
  size_t start_offset = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    // Leftmost start with a match, then the longest match there.
    size_t mstart = s.size(), mend = 0;
    int32_t mtok = -1;
    for (size_t i = pos; i < s.size(); ++i) {
      if (!first_byte_[static_cast<unsigned char>(s[i])]) continue;
      int32_t node = 0;
      for (size_t j = i; j < s.size(); ++j) {
        node = child(node, static_cast<unsigned char>(s[j]));
        if (node < 0) break;
        if (nodes_[static_cast<size_t>(node)].token >= 0) {
          mtok = nodes_[static_cast<size_t>(node)].token;
          mend = j + 1;
        }
      }
      if (mtok >= 0) {
        mstart = i;
        break;
      }
    }
    if (mtok < 0) break;
    pos = mend;  // matches never overlap, even the ones discarded below
    const AddedToken& tok = tokens_[static_cast<size_t>(mtok)];
    if (!parse_special && tok.special) continue;
    size_t b = mstart, e = mend;
    if (tok.single_word) {
      const bool start_space = b == 0 || !ends_with_word(s.substr(0, b));
      const bool stop_space = e == s.size() || !starts_with_word(s.substr(e));
      if (!start_space || !stop_space) continue;
    }
    if (tok.lstrip) {
      // Back over whitespace, but not into what a previous match consumed.
      size_t nb = b;
      while (nb > 0) {
        size_t k = nb - 1;
        while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
        size_t j = k;
        if (!is_whitespace(next_cp(s, j))) break;
        nb = k;
      }
      b = std::max(nb, start_offset);
    }
    if (tok.rstrip) {
      while (e < s.size()) {
        size_t j = e;
        if (!is_whitespace(next_cp(s, j))) break;
        e = j;
      }
    }
    if (start_offset < b) out.push_back({start_offset, b, -1});
    out.push_back({b, e, tok.id});
    start_offset = e;
    pos = std::max(pos, e);
  }
  if (start_offset < s.size() || out.empty()) out.push_back({start_offset, s.size(), -1});
}

}  // namespace ollm::tok
