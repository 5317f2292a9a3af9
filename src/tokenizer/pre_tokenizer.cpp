// Pre-tokenizer implementations. Splits follow HF NormalizedString::split: the text is cut into
// (range, is_match) segments, the behavior merges or drops them, empty pieces vanish.
#include "tokenizer/pre_tokenizer.hpp"

#include <algorithm>

#include "tokenizer/unicode.hpp"

namespace ollm::tok {
namespace {

struct Seg {
  size_t begin, end;
  bool match;
};

// Folds `segs` (covering piece `p` of list `in`) by `behavior` and appends the surviving
// non-empty pieces to `out`.
void emit_split(const Piece& p, std::vector<Seg>& segs, SplitBehavior behavior, std::vector<Piece>& out) {
  std::vector<Seg> folded;
  folded.reserve(segs.size());
  switch (behavior) {
    case SplitBehavior::removed:
    case SplitBehavior::isolated:
      folded.swap(segs);
      break;
    case SplitBehavior::merged_with_previous: {
      bool prev_match = false;
      for (const Seg& s : segs) {
        if (s.match && !prev_match) {
          if (!folded.empty()) folded.back().end = s.end;
          else folded.push_back({s.begin, s.end, true});
        } else {
          folded.push_back({s.begin, s.end, false});
        }
        prev_match = s.match;
      }
      break;
    }
    case SplitBehavior::merged_with_next: {
      bool prev_match = false;
      for (size_t k = segs.size(); k-- > 0;) {
        const Seg& s = segs[k];
        if (s.match && !prev_match) {
          if (!folded.empty()) folded.back().begin = s.begin;
          else folded.push_back({s.begin, s.end, true});
        } else {
          folded.push_back({s.begin, s.end, false});
        }
        prev_match = s.match;
      }
      std::reverse(folded.begin(), folded.end());
      break;
    }
    case SplitBehavior::contiguous: {
      bool prev_match = false;
      for (const Seg& s : segs) {
        if (s.match == prev_match && !folded.empty()) folded.back().end = s.end;
        else folded.push_back({s.begin, s.end, false});
        prev_match = s.match;
      }
      break;
    }
  }
  for (const Seg& s : folded) {
    if (behavior == SplitBehavior::removed && s.match) continue;
    if (s.end == s.begin) continue;
    out.push_back({static_cast<uint32_t>(p.offset + s.begin), static_cast<uint32_t>(s.end - s.begin),
                   p.at_start && s.begin == 0});
  }
}

// Segments from a list of matches [b, e) in a text of length n.
void segments_from_matches(const std::vector<std::pair<size_t, size_t>>& matches, size_t n, bool invert,
                           std::vector<Seg>& segs) {
  segs.clear();
  size_t prev = 0;
  for (auto [b, e] : matches) {
    if (prev != b) segs.push_back({prev, b, invert});
    segs.push_back({b, e, !invert});
    prev = e;
  }
  if (prev != n) segs.push_back({prev, n, invert});
}

// Segments where every character satisfying `pred` is its own match.
template <class Pred>
void segments_from_chars(std::string_view s, Pred pred, std::vector<Seg>& segs) {
  segs.clear();
  size_t prev = 0;
  for (size_t i = 0; i < s.size();) {
    const size_t start = i;
    if (pred(next_cp(s, i))) {
      if (prev != start) segs.push_back({prev, start, false});
      segs.push_back({start, i, true});
      prev = i;
    }
  }
  if (prev != s.size()) segs.push_back({prev, s.size(), false});
}

template <class Pred>
void split_on_chars(PieceList& list, Pred pred, SplitBehavior behavior) {
  std::vector<Piece> out;
  out.reserve(list.pieces.size() * 2);
  std::vector<Seg> segs;
  for (const Piece& p : list.pieces) {
    segments_from_chars(list.view(p), pred, segs);
    emit_split(p, segs, behavior, out);
  }
  list.pieces.swap(out);
}

void split_on_regex(PieceList& list, const Regex& re, SplitBehavior behavior, bool invert) {
  std::vector<Piece> out;
  out.reserve(list.pieces.size() * 4);
  thread_local std::vector<std::pair<size_t, size_t>> matches;
  thread_local std::vector<Seg> segs;
  for (const Piece& p : list.pieces) {
    const std::string_view text = list.view(p);
    re.find_all(text, matches);
    segments_from_matches(matches, text.size(), invert, segs);
    emit_split(p, segs, behavior, out);
  }
  list.pieces.swap(out);
}

// Replaces piece p's text by `text` (appended to the arena).
void rewrite(PieceList& list, Piece& p, std::string_view text) {
  p.offset = static_cast<uint32_t>(list.arena.size());
  p.length = static_cast<uint32_t>(text.size());
  list.arena.append(text);
}

class SplitPreTokenizer final : public PreTokenizer {
 public:
  SplitPreTokenizer(Regex re, SplitBehavior b, bool invert) : re_(std::move(re)), behavior_(b), invert_(invert) {}
  void pre_tokenize(PieceList& list) const override { split_on_regex(list, re_, behavior_, invert_); }

 private:
  Regex re_;
  SplitBehavior behavior_;
  bool invert_;
};

constexpr std::string_view gpt2_pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevelPreTokenizer final : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool prefix, bool use_regex) : prefix_(prefix) {
    if (use_regex) re_.emplace(gpt2_pattern, "ByteLevel pre-tokenizer");
  }
  void pre_tokenize(PieceList& list) const override {
    thread_local std::string tmp;
    if (prefix_) {
      for (Piece& p : list.pieces) {
        const std::string_view v = list.view(p);
        if (!v.empty() && v[0] == ' ') continue;
        tmp.assign(" ").append(v);
        rewrite(list, p, tmp);
      }
    }
    if (re_) split_on_regex(list, *re_, SplitBehavior::isolated, false);
    size_t total = 0;
    for (const Piece& p : list.pieces) total += p.length;
    list.arena.reserve(list.arena.size() + total * 2);
    for (Piece& p : list.pieces) {
      tmp.clear();
      byte_level_encode(list.view(p), tmp);
      rewrite(list, p, tmp);
    }
  }

 private:
  bool prefix_;
  std::optional<Regex> re_;
};

class MetaspacePreTokenizer final : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, int scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}
  void pre_tokenize(PieceList& list) const override {
    std::string tmp, text;
    for (Piece& p : list.pieces) {
      replace_spaces(list.view(p), text);
      const bool starts = text.compare(0, replacement_.size(), replacement_) == 0;
      if (!starts && (scheme_ == 0 || (scheme_ == 1 && p.at_start))) text.insert(0, replacement_);
      rewrite(list, p, text);
    }
    if (!split_ || replacement_.empty()) return;
    std::vector<Piece> out;
    std::vector<Seg> segs;
    for (const Piece& p : list.pieces) {
      const std::string_view v = list.view(p);
      segs.clear();
      size_t prev = 0;
      for (size_t pos = v.find(replacement_); pos != std::string_view::npos; pos = v.find(replacement_, prev)) {
        if (prev != pos) segs.push_back({prev, pos, false});
        segs.push_back({pos, pos + replacement_.size(), true});
        prev = pos + replacement_.size();
      }
      if (prev != v.size()) segs.push_back({prev, v.size(), false});
      emit_split(p, segs, SplitBehavior::merged_with_next, out);
    }
    list.pieces.swap(out);
  }

 private:
  void replace_spaces(std::string_view v, std::string& out) const {
    out.clear();
    for (char c : v) {
      if (c == ' ') out.append(replacement_);
      else out.push_back(c);
    }
  }
  std::string replacement_;
  int scheme_;
  bool split_;
};

class WhitespacePreTokenizer final : public PreTokenizer {
 public:
  WhitespacePreTokenizer() : re_(R"(\w+|[^\w\s]+)", "Whitespace pre-tokenizer") {}
  void pre_tokenize(PieceList& list) const override { split_on_regex(list, re_, SplitBehavior::removed, true); }

 private:
  Regex re_;
};

class WhitespaceSplitPreTokenizer final : public PreTokenizer {
 public:
  void pre_tokenize(PieceList& list) const override {
    split_on_chars(list, [](char32_t c) { return is_whitespace(c); }, SplitBehavior::removed);
  }
};

class BertPreTokenizer final : public PreTokenizer {
 public:
  void pre_tokenize(PieceList& list) const override {
    split_on_chars(list, [](char32_t c) { return is_whitespace(c); }, SplitBehavior::removed);
    split_on_chars(list, [](char32_t c) { return is_bert_punctuation(c); }, SplitBehavior::isolated);
  }
};

class DigitsPreTokenizer final : public PreTokenizer {
 public:
  explicit DigitsPreTokenizer(bool individual) : individual_(individual) {}
  void pre_tokenize(PieceList& list) const override {
    split_on_chars(list, [](char32_t c) { return is_numeric(c); },
                   individual_ ? SplitBehavior::isolated : SplitBehavior::contiguous);
  }

 private:
  bool individual_;
};

class PunctuationPreTokenizer final : public PreTokenizer {
 public:
  explicit PunctuationPreTokenizer(SplitBehavior b) : behavior_(b) {}
  void pre_tokenize(PieceList& list) const override {
    split_on_chars(list, [](char32_t c) { return is_bert_punctuation(c); }, behavior_);
  }

 private:
  SplitBehavior behavior_;
};

class CharDelimiterPreTokenizer final : public PreTokenizer {
 public:
  explicit CharDelimiterPreTokenizer(char32_t d) : delimiter_(d) {}
  void pre_tokenize(PieceList& list) const override {
    const char32_t d = delimiter_;
    split_on_chars(list, [d](char32_t c) { return c == d; }, SplitBehavior::removed);
  }

 private:
  char32_t delimiter_;
};

class SequencePreTokenizer final : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<PreTokenizerPtr> parts) : parts_(std::move(parts)) {}
  void pre_tokenize(PieceList& list) const override {
    for (const auto& p : parts_) p->pre_tokenize(list);
  }

 private:
  std::vector<PreTokenizerPtr> parts_;
};

}  // namespace

void byte_level_encode(std::string_view s, std::string& out) {
  const ByteLevelTable& t = byte_level_table();
  for (unsigned char c : s) out.append(t.byte_to_utf8[c]);
}

PreTokenizerPtr make_split_pre_tokenizer(Regex pattern, SplitBehavior behavior, bool invert) {
  return std::make_unique<SplitPreTokenizer>(std::move(pattern), behavior, invert);
}
PreTokenizerPtr make_byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex) {
  return std::make_unique<ByteLevelPreTokenizer>(add_prefix_space, use_regex);
}
PreTokenizerPtr make_metaspace_pre_tokenizer(std::string replacement, int prepend_scheme, bool split) {
  return std::make_unique<MetaspacePreTokenizer>(std::move(replacement), prepend_scheme, split);
}
PreTokenizerPtr make_whitespace_pre_tokenizer() { return std::make_unique<WhitespacePreTokenizer>(); }
PreTokenizerPtr make_whitespace_split_pre_tokenizer() { return std::make_unique<WhitespaceSplitPreTokenizer>(); }
PreTokenizerPtr make_bert_pre_tokenizer() { return std::make_unique<BertPreTokenizer>(); }
PreTokenizerPtr make_digits_pre_tokenizer(bool individual_digits) {
  return std::make_unique<DigitsPreTokenizer>(individual_digits);
}
PreTokenizerPtr make_punctuation_pre_tokenizer(SplitBehavior behavior) {
  return std::make_unique<PunctuationPreTokenizer>(behavior);
}
PreTokenizerPtr make_char_delimiter_pre_tokenizer(char32_t delimiter) {
  return std::make_unique<CharDelimiterPreTokenizer>(delimiter);
}
PreTokenizerPtr make_sequence_pre_tokenizer(std::vector<PreTokenizerPtr> parts) {
  return std::make_unique<SequencePreTokenizer>(std::move(parts));
}

}  // namespace ollm::tok
